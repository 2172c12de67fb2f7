// Page 6: named scenarios (percent change of spend per channel) side by side (compareScenarios).
import { api } from "../api.js";
import { clear, dataTable, errorText, field, fill, fmt, h, hideAlert } from "../dom.js";
import { drawFigure } from "../plots.js";
import { useTask } from "../state.js";
import { fitLine, pickTask } from "./pick.js";

export async function render(root, taskId) {
  if (taskId === "choose") return pickTask(root, "Scenarios", "scenarios");
  taskId = taskId || useTask();
  if (!taskId) return pickTask(root, "Scenarios", "scenarios");
  useTask(taskId);
  const id = encodeURIComponent(taskId);
  fill(root, h("h1", {}, "Scenarios"), h("p", { class: "muted" }, "Loading…"));
  let roi;
  let status;
  try {
    [roi, status] = await Promise.all([api(`/tasks/${id}/roi`), api(`/tasks/${id}`)]);
  } catch (err) {
    fill(root, h("h1", {}, "Scenarios"), h("p", { class: "summary-line bad" }, errorText(err)));
    return;
  }
  const channels = roi.rows.map((r) => r.channel);
  const body = h("tbody", {});
  const addRow = (name, changes) => {
    const row = h("tr", { class: "scenario-row" },
      h("td", {}, h("input", { type: "text", class: "scenario-name", value: name, "aria-label": "Scenario name" })),
      channels.map((c) => h("td", {}, h("input", { type: "number", step: "any", class: "scenario-change",
        dataset: { channel: c }, value: String(changes[c] ?? 0), "aria-label": `${c} change in %` }))),
      h("td", {}, h("button", { type: "button", class: "small", onclick: () => row.remove() }, "Remove")));
    body.append(row);
  };
  addRow("more media", Object.fromEntries(channels.map((c) => [c, 20])));
  addRow("less media", Object.fromEntries(channels.map((c) => [c, -20])));
  if (channels.length > 1) {
    addRow(`shift to ${channels[0]}`, Object.fromEntries(channels.map((c, i) => [c, i === 0 ? 30 : -30])));
  }
  const periods = h("input", { type: "number", id: "scenario-periods", value: "13", min: "1", step: "1" });
  const run = h("button", { type: "submit", class: "primary", id: "run-scenarios" }, "Compare");
  const out = h("div", { id: "scenario-result" });
  const form = h("form", { class: "card", id: "scenario-form" },
    h("p", { class: "muted small" }, "Each scenario changes each channel's current spend by a percentage (-100 stops it)."),
    h("div", { class: "table-wrap scenario-table" }, h("table", { class: "data" },
      h("thead", {}, h("tr", {}, h("th", {}, "Scenario"), channels.map((c) => h("th", {}, `${c} %`)), h("th", {}, ""))),
      body)),
    h("div", { class: "row", style: "margin-top:.6rem" },
      h("button", { type: "button", onclick: () => addRow(`scenario ${body.children.length + 1}`, {}) }, "Add scenario"),
      field("Periods", periods), h("span", { class: "spacer" }), run));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    hideAlert();
    const scenarios = {};
    for (const row of body.querySelectorAll("tr")) {
      const name = row.querySelector(".scenario-name").value.trim();
      scenarios[name] = Object.fromEntries([...row.querySelectorAll(".scenario-change")]
        .map((input) => [input.dataset.channel, Number(input.value || 0)]));
    }
    run.disabled = true;
    fill(out, h("p", { class: "muted" }, "Comparing…"));
    try {
      const answer = await api(`/tasks/${id}/scenarios`, { json: { scenarios, n_periods: Number(periods.value) || 13 } });
      clear(out);
      await drawComparison(out, answer);
    } catch (err) {
      fill(out, h("section", { class: "card" }, h("p", { class: "summary-line bad", id: "scenario-error" }, errorText(err))));
    } finally {
      run.disabled = false;
    }
  });
  fill(root, h("div", { class: "row" }, h("h1", {}, "Scenarios"), h("span", { class: "spacer" }),
    h("a", { href: `#/results/${taskId}` }, "← results"),
    h("a", { class: "button", href: `#/optimize/${taskId}` }, "Budget optimizer")), fitLine(status, "scenarios"), form, out);
}

async function drawComparison(out, answer) {
  const rows = answer.scenarios;
  const chart = h("div", { class: "plot", id: "scenario-chart" });
  const low = answer.columns.find((c) => c.startsWith("sales_change_hdi_") && c !== "sales_change") || null;
  const high = answer.columns.filter((c) => c.startsWith("sales_change_hdi_")).pop();
  out.append(h("section", { class: "card" }, chart),
    h("section", { class: "card" }, dataTable("Scenarios", answer.columns, rows, { filename: "scenarios.csv" })));
  const others = rows.filter((r) => r.scenario !== "current");
  await drawFigure(chart, {
    data: [{
      type: "bar", x: others.map((r) => r.scenario), y: others.map((r) => r.sales_change),
      marker: { color: others.map((r) => (r.sales_change >= 0 ? "#16A34A" : "#DC2626")) },
      error_y: low && high ? { type: "data", symmetric: false,
        array: others.map((r) => r[high] - r.sales_change), arrayminus: others.map((r) => r.sales_change - r[low]) } : undefined,
      text: others.map((r) => `spend ${fmt(r.spend_change_pct)}%, P(better) ${fmt(100 * r.prob_better)}%`),
      textposition: "none",
      hovertemplate: "%{x}: %{y:,.0f}<br>%{text}<extra></extra>",
    }],
    layout: { title: { text: "Change in sales vs the current plan (with HDI)", x: 0.01 }, template: "plotly_white",
      margin: { l: 70, r: 20, t: 50, b: 60 }, yaxis: { title: { text: "sales change" } } },
  });
}
