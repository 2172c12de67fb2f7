// Page 4: a finished task's plots (getPlot) and tables (summary, ROI, contributions).
import { api } from "../api.js";
import { downloadBlob } from "../csv.js";
import { dataTable, errorText, fill, fmt, h, showAlert } from "../dom.js";
import { limited, plotCard } from "../plots.js";
import { useTask } from "../state.js";
import { pickTask } from "./pick.js";

const PLOTS = [
  ["actual_vs_fitted", "Actual vs fitted", true],
  ["contributions", "Contributions over time", true],
  ["waterfall", "Contributions in total", false],
  ["roi", "Return on investment", false],
  ["spend_vs_effect", "Share of spend vs share of effect", false],
  ["adstock", "Carry-over (adstock)", false],
  ["saturation", "Response curves (saturation)", true],
];
const DIAGNOSTICS = [
  ["prior_posterior", "Posterior vs prior", true],
  ["trace", "Trace", true],
  ["rank", "Rank plots (convergence)", true],
];

export async function render(root, taskId) {
  taskId = taskId || useTask();
  if (!taskId) return pickTask(root, "Results", "results");
  useTask(taskId);
  const id = encodeURIComponent(taskId);
  fill(root, h("p", { class: "muted" }, "Loading…"));
  let status;
  try {
    status = await api(`/tasks/${id}`);
  } catch (err) {
    fill(root, h("h1", {}, "Results"), h("p", { class: "summary-line bad" }, errorText(err)));
    return;
  }
  if (status.status !== "completed") {
    fill(root, h("h1", {}, "Results"), h("section", { class: "card" },
      h("p", {}, `This task is ${status.status}; results appear when it is completed.`),
      h("a", { href: `#/tasks/${taskId}` }, "Watch the task →")));
    return;
  }
  const metrics = status.fit_metrics || {};
  const plots = PLOTS.map(([name, title, wide]) => plotCard(taskId, name, { wide, label: title }));
  const tables = h("div", { id: "result-tables" }, h("p", { class: "muted" }, "Loading tables…"));
  const diagnostics = h("details", { class: "card", id: "diagnostics" },
    h("summary", {}, h("strong", {}, "Diagnostics: posterior vs prior, trace and rank plots")));
  const diagCards = DIAGNOSTICS.map(([name, title]) => plotCard(taskId, name, { label: title, wide: true, height: 520 }));
  diagnostics.append(...diagCards);
  diagnostics.addEventListener("toggle", () => {
    if (diagnostics.open && !diagnostics.dataset.loaded) {
      diagnostics.dataset.loaded = "1";
      limited(diagCards.map((c) => c.load), 1);
    }
  }, { once: false });
  fill(root, 
    h("div", { class: "row" }, h("h1", {}, `Results: ${status.input_name}`), h("span", { class: "spacer" }),
      h("a", { class: "button", href: `#/optimize/${taskId}` }, "Budget optimizer"),
      h("a", { class: "button", href: `#/scenarios/${taskId}` }, "Scenarios"),
      h("button", { type: "button", onclick: () => downloadFit(taskId) }, "Download fit (.nc)")),
    h("p", { class: "muted" }, `Task ${taskId} · ` +
      Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ")),
    status.warnings.length ? h("div", { class: "card check warn" }, h("strong", {}, "Convergence notes"),
      h("ul", { class: "notes" }, status.warnings.map((w) => h("li", {}, w)))) : null,
    h("div", { class: "grid2", id: "plots" }, plots),
    h("section", { class: "card", style: "margin-top:.8rem" }, h("h2", {}, "Tables"), tables),
    diagnostics);
  loadTables(id, tables);
  await limited(plots.map((c) => c.load), 2);
}

async function loadTables(id, box) {
  try {
    const [summary, roi, contributions] = await Promise.all([
      api(`/tasks/${id}/summary`), api(`/tasks/${id}/roi`), api(`/tasks/${id}/contributions`)]);
    const summaryColumns = summary.summary.length ? Object.keys(summary.summary[0]) : [];
    fill(box, 
      h("div", { class: "grid2" },
        h("div", {}, dataTable("ROI", roi.columns, roi.rows, { filename: "roi.csv" })),
        h("div", {}, dataTable("Summary statistics", summaryColumns, summary.summary, { filename: "summary.csv" }))),
      dataTable("Contributions", contributions.columns, contributions.rows,
        { filename: "contributions.csv", maxRows: 60 }));
  } catch (err) {
    fill(box, h("p", { class: "summary-line bad" }, errorText(err)));
  }
}

async function downloadFit(taskId) {
  try {
    const response = await api(`/tasks/${encodeURIComponent(taskId)}/fit`, { raw: true });
    downloadBlob(`${taskId}.nc`, await response.blob());
  } catch (err) {
    showAlert(errorText(err));
  }
}
