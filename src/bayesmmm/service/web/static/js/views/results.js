// Page 4: a finished task's plots (getPlot) and tables (summary, ROI, contributions).
import { forPage } from "../advice.js";
import { allPages, api } from "../api.js";
import { downloadBlob } from "../csv.js";
import { dataTable, errorText, fill, fmt, h, showAlert } from "../dom.js";
import { limited, plotCard } from "../plots.js";
import { state, useTask } from "../state.js";
import { fitLine, pickTask, structuresTable } from "./pick.js";

// Which plots there are, in what order and under which title comes from getModelOptions
// (the report's plot registry, bayesmmm.report.PLOTS); this page only chooses card widths.
const NARROW = new Set(["waterfall", "spend_vs_effect", "roi", "adstock"]);

async function modelOptions() {
  if (!state.options) state.options = await api("/model-options");
  return state.options;
}

/** getPlot's plots of one group ("results" or "diagnostics") as [name, title, wide]. */
function plotList(options, group) {
  return options.plot_info.filter((p) => p.group === group)
    .map((p) => [p.name, p.description, !NARROW.has(p.name)]);
}

export async function render(root, taskId) {
  if (taskId === "choose") return pickTask(root, "Results", "results");
  taskId = taskId || useTask();
  if (!taskId) return pickTask(root, "Results", "results");
  useTask(taskId);
  const id = encodeURIComponent(taskId);
  fill(root, h("p", { class: "muted" }, "Loading…"));
  let status;
  let options;
  try {
    [status, options] = await Promise.all([api(`/tasks/${id}`), modelOptions()]);
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
  const PLOTS = plotList(options, "results");
  const DIAGNOSTICS = plotList(options, "diagnostics");
  const metrics = status.fit_metrics || {};
  const geo = ((status.spec || {}).panel_columns || []).length > 0;
  const plotBox = h("div", { class: "grid2", id: "plots" });
  const panelBox = h("div", { class: "row", id: "results-panel-box" });
  const tables = h("div", { id: "result-tables" }, h("p", { class: "muted" }, "Loading tables…"));
  const diagnostics = h("details", { class: "card", id: "diagnostics" },
    h("summary", {}, h("strong", {}, "Diagnostics: posterior vs prior, trace and rank plots")));
  // An averaged fit's diagnostics are its members' draws: one set per structure with weight.
  const members = (status.structures || []).filter((s) => s.weight >= 0.001).map((s) => s.structure);
  const diagCards = [];
  for (const structure of members.length ? members : [null]) {
    const cards = DIAGNOSTICS.map(([name, title]) =>
      plotCard(taskId, name, { label: structure ? `${title}: ${structure}` : title, wide: true, height: 520, structure }));
    if (structure) diagnostics.append(h("h3", { class: "structure-head" }, `Structure ${structure}`));
    diagnostics.append(...cards);
    diagCards.push(...cards);
  }
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
    fitLine(status, "results"),
    structuresTable(status),
    h("p", { class: "muted" }, `Task ${taskId} · ` +
      Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ")),
    status.warnings.length ? h("div", { class: "card check warn" }, h("strong", {}, "Convergence notes"),
      h("ul", { class: "notes" }, status.warnings.map((w) => h("li", {}, forPage(w))))) : null,
    panelBox,
    plotBox,
    h("section", { class: "card", style: "margin-top:.8rem" }, h("h2", {}, "Tables"), tables),
    diagnostics);
  // Geo fits: ROI per panel cell (getROI level=panel) names the cells of the selector.
  const byPanel = geo ? every(`/tasks/${id}/roi`, "rows", { level: "panel" }) : Promise.resolve(null);
  let current = 0;
  const draw = async (panel) => {
    const ticket = ++current;
    plotBox.dataset.panel = panel || "";
    const plots = PLOTS.map(([name, title, wide]) => plotCard(taskId, name, { wide, label: title, panel }));
    fill(plotBox, plots);
    for (const card of plots) {
      const load = card.load;
      card.load = () => (ticket === current ? load() : Promise.resolve());
    }
    await limited(plots.map((c) => c.load), 2);
    if (ticket === current) plotBox.dataset.drawn = panel || "";
  };
  const panelRoi = {};
  const tablesReady = loadTables(id, tables, byPanel, panelRoi);
  if (geo) {
    byPanel.then((roi) => {
      const cells = [...new Set(roi.rows.map((r) => r.panel))];
      const select = h("select", { id: "results-panel" },
        h("option", { value: "" }, "All panels (total)"),
        cells.map((c) => h("option", { value: c }, c)));
      select.addEventListener("change", async () => {
        const panel = select.value || null;
        await tablesReady;
        showPanelRoi(panelRoi, panel);
        await draw(panel);
      });
      fill(panelBox, h("label", { for: "results-panel" }, "Panel"), select,
        h("span", { class: "muted small" }, `${cells.length} panel cells: the plots and the ROI table show the total or one cell`));
    }).catch((err) => fill(panelBox, h("p", { class: "summary-line bad" }, errorText(err))));
  }
  await draw(null);
}

async function loadTables(id, box, byPanel, panelRoi) {
  try {
    const [summary, roi, contributions, perPanel] = await Promise.all([
      every(`/tasks/${id}/summary`, "summary"), every(`/tasks/${id}/roi`, "rows"),
      every(`/tasks/${id}/contributions`, "rows", { by: "component", freq: "none" }), byPanel]);
    const summaryColumns = summary.summary.length ? Object.keys(summary.summary[0]) : [];
    const roiBox = h("div", { id: "roi-table" });
    Object.assign(panelRoi, { total: roi, perPanel, box: roiBox });
    showPanelRoi(panelRoi, null);
    const carry = summary.carryover || [];
    fill(box,
      carry.length ? h("div", { id: "carryover-table" },
        dataTable("Carry-over: adstock half-life and peak lag (periods)", Object.keys(carry[0]), carry,
          { filename: "half_life.csv" }),
        h("p", { class: "muted small" }, "Half-life: periods after the spend until its effect has fallen to half " +
          "its peak; peak lag: when the effect is largest (0: in the period of spend); each with its 94% HDI. " +
          "beyond_window: the share of draws whose half-life passes the adstock length, which then cuts the effect short.")) : null,
      h("div", { class: "grid2" },
        roiBox,
        h("div", {}, dataTable("Summary statistics", summaryColumns, summary.summary, { filename: "summary.csv" }))),
      perPanel ? dataTable("ROI per panel cell", perPanel.columns, perPanel.rows, { filename: "roi_by_panel.csv" }) : null,
      dataTable("Contributions", contributions.columns, contributions.rows,
        { filename: "contributions.csv", maxRows: 60 }));
  } catch (err) {
    fill(box, h("p", { class: "summary-line bad" }, errorText(err)));
  }
}

/** Every row of a paged table (contributions: every component in every period). */
function every(path, key, query = {}) {
  return allPages(path, key, (offset) => ({ query: { ...query, limit: 1000, offset } }));
}

/** The ROI table of the total or of one panel cell (from getROI level=panel). */
function showPanelRoi(panelRoi, panel) {
  if (!panelRoi.box) return;
  const { total, perPanel } = panelRoi;
  if (!panel) {
    fill(panelRoi.box, dataTable("ROI", total.columns, total.rows, { filename: "roi.csv" }));
  } else {
    const rows = perPanel.rows.filter((r) => r.panel === panel);
    fill(panelRoi.box, dataTable(`ROI: panel ${panel}`, perPanel.columns, rows,
      { filename: `roi_${panel.replace(/[^A-Za-z0-9_-]+/g, "_")}.csv` }));
  }
  panelRoi.box.dataset.panel = panel || "";
}

async function downloadFit(taskId) {
  try {
    const response = await api(`/tasks/${encodeURIComponent(taskId)}/fit`, { raw: true });
    downloadBlob(`${taskId}.nc`, await response.blob());
  } catch (err) {
    showAlert(errorText(err));
  }
}
