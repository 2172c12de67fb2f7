// Page 5: the budget optimizer (optimizeBudget) with bounds per channel.
import { forPage } from "../advice.js";
import { api } from "../api.js";
import { clear, dataTable, errorText, field, fill, fmt, h, hideAlert } from "../dom.js";
import { drawFigure, PALETTE } from "../plots.js";
import { useTask } from "../state.js";
import { fitLine, pickTask } from "./pick.js";

export async function render(root, taskId) {
  if (taskId === "choose") return pickTask(root, "Budget optimizer", "optimize");
  taskId = taskId || useTask();
  if (!taskId) return pickTask(root, "Budget optimizer", "optimize");
  useTask(taskId);
  const id = encodeURIComponent(taskId);
  fill(root, h("h1", {}, "Budget optimizer"), h("p", { class: "muted" }, "Loading…"));
  let roi;
  let status;
  try {
    [roi, status] = await Promise.all([api(`/tasks/${id}/roi`), api(`/tasks/${id}`)]);
  } catch (err) {
    fill(root, h("h1", {}, "Budget optimizer"), h("p", { class: "summary-line bad" }, errorText(err)));
    return;
  }
  const channels = roi.rows.map((r) => r.channel);
  const periods = h("input", { type: "number", id: "opt-periods", value: "13", min: "1", step: "1" });
  const budget = h("input", { type: "number", id: "opt-budget", min: "0", step: "any",
    placeholder: "current spend" });
  const bounds = channels.map((c) => ({
    channel: c,
    low: h("input", { type: "number", min: "0", step: "any", placeholder: "none", class: "bound-low", dataset: { channel: c } }),
    high: h("input", { type: "number", min: "0", step: "any", placeholder: "none", class: "bound-high", dataset: { channel: c } }),
  }));
  const run = h("button", { type: "submit", class: "primary", id: "run-optimizer" }, "Optimise");
  const out = h("div", { id: "optimizer-result" });
  const form = h("form", { class: "card", id: "optimizer-form" },
    h("div", { class: "fields" },
      field("Periods to plan", periods, "13 = a quarter of weekly data"),
      field("Total budget", budget, "empty: the current spend for these periods")),
    h("h3", {}, "Bounds per channel (multiples of its current spend)"),
    h("div", { class: "bounds" }, h("strong", {}, "Channel"), h("strong", {}, "min ×"), h("strong", {}, "max ×"), h("span", {}),
      bounds.flatMap((b) => [h("span", {}, b.channel), b.low, b.high, h("span", { class: "muted small" },
        "e.g. 0.5 and 2: between half and double")])),
    h("div", { class: "row", style: "margin-top:.7rem" }, run, h("span", { class: "muted small", id: "optimizer-note" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    hideAlert();
    const body = { n_periods: Number(periods.value) || 13 };
    if (budget.value !== "") body.budget = Number(budget.value);
    const given = {};
    for (const b of bounds) {
      if (b.low.value !== "" || b.high.value !== "") given[b.channel] = `${b.low.value}:${b.high.value}`;
    }
    if (Object.keys(given).length) body.bounds = given;
    run.disabled = true;
    form.querySelector("#optimizer-note").textContent = "Optimising…";
    clear(out);
    try {
      const plan = await api(`/tasks/${id}/optimize`, { json: body });
      await drawPlan(out, plan);
    } catch (err) {
      out.append(h("section", { class: "card" }, h("p", { class: "summary-line bad", id: "optimizer-error" }, errorText(err))));
    } finally {
      run.disabled = false;
      form.querySelector("#optimizer-note").textContent = "";
    }
  });
  fill(root, h("div", { class: "row" }, h("h1", {}, "Budget optimizer"), h("span", { class: "spacer" }),
    h("a", { href: `#/results/${taskId}` }, "← results"),
    h("a", { class: "button", href: `#/scenarios/${taskId}` }, "Scenarios →")), fitLine(status, "optimize"), form, out,
    whatIfForm(id, channels));
}

/** "What if": one channel's spend changed by an amount over some periods (whatIf). */
function whatIfForm(id, channels) {
  const channel = h("select", { id: "whatif-channel" }, channels.map((c) => h("option", { value: c }, c)));
  const amount = h("input", { type: "number", id: "whatif-amount", step: "any", required: true,
    placeholder: "e.g. 1000 or -1000" });
  const periods = h("input", { type: "number", id: "whatif-periods", value: "13", min: "1", step: "1" });
  const run = h("button", { type: "submit", class: "primary", id: "run-whatif" }, "What if?");
  const note = h("span", { class: "muted small", id: "whatif-note" });
  const out = h("div", { id: "whatif-result" });
  const form = h("form", { class: "card", id: "whatif-form", style: "margin-top:.8rem" },
    h("h2", {}, "What if…"),
    h("p", { class: "muted small" }, "Change one channel's spend over the next periods, the others as they are."),
    h("div", { class: "fields" },
      field("Channel", channel),
      field("Change in spend", amount, "over all the periods; negative: a cut"),
      field("Periods", periods, "13 = a quarter of weekly data")),
    h("div", { class: "row", style: "margin-top:.7rem" }, run, note), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    hideAlert();
    clear(out);
    const change = Number(amount.value);
    if (amount.value === "" || !Number.isFinite(change) || change === 0) {
      out.append(h("p", { class: "summary-line bad", id: "whatif-error" },
        "Give the change in spend: a non-zero amount (negative for a cut)."));
      return;
    }
    run.disabled = true;
    note.textContent = "Working it out…";
    try {
      const body = { channel: channel.value, spend_increase: change, n_periods: Number(periods.value) || 13 };
      const { recommendation, answer: a } = await api(`/tasks/${id}/what-if`, { json: body });
      const hdi = (name) => Object.keys(a).filter((k) => k.startsWith(`${name}_hdi_`)).map((k) => a[k]);
      const [salesLow, salesHigh] = hdi("incremental_sales");
      const [roiLow, roiHigh] = hdi("roi");
      out.append(
        h("p", { id: "whatif-recommendation" }, forPage(recommendation)),
        h("dl", { class: "kv", id: "whatif-numbers" },
          h("dt", {}, "Spend over the periods"), h("dd", {}, `${fmt(a.current_spend)} → ${fmt(a.new_spend)} (${a.spend_change > 0 ? "+" : ""}${fmt(a.spend_change)})`),
          h("dt", {}, "Incremental sales"), h("dd", { id: "whatif-sales" }, `${fmt(a.incremental_sales)} (HDI ${fmt(salesLow)} – ${fmt(salesHigh)})`),
          h("dt", {}, "ROI of the change"), h("dd", { id: "whatif-roi" }, `${fmt(a.roi)} (HDI ${fmt(roiLow)} – ${fmt(roiHigh)})`),
          h("dt", {}, "Marginal ROI before → after"), h("dd", { id: "whatif-marginal" }, `${fmt(a.marginal_roi_before)} → ${fmt(a.marginal_roi_after)}`),
          h("dt", {}, `P(it pays, break-even ROI ${fmt(a.break_even_roi)})`), h("dd", {}, `${fmt(100 * a.prob_profitable)}%`)));
    } catch (err) {
      out.append(h("p", { class: "summary-line bad", id: "whatif-error" }, errorText(err)));
    } finally {
      run.disabled = false;
      note.textContent = "";
    }
  });
  return form;
}

/** What the uplift compares with: the current mix, or (when the bounds exclude it) the
 * current mix moved into the bounds. */
function comparedWith(plan) {
  return plan.comparison && plan.comparison !== "historical mix"
    ? "vs current mix moved into the bounds (the current mix is outside them)"
    : "vs current mix";
}

async function drawPlan(out, plan) {
  const rows = plan.channels.filter((r) => r.channel !== "total");
  const names = rows.map((r) => r.channel);
  const bar = h("div", { class: "plot", id: "allocation-bar" });
  const pie = h("div", { class: "plot", id: "allocation-pie" });
  const t = plan.totals;
  const columns = Object.keys(plan.channels[0]);
  out.append(
    h("section", { class: "card" }, h("h2", {}, "Recommendation"),
      h("p", { id: "optimizer-summary" }, forPage(plan.summary)),
      (plan.warnings || []).length
        ? h("ul", { class: "notes bad", id: "optimizer-warnings" }, plan.warnings.map((w) => h("li", {}, `Caution: ${forPage(w)}`)))
        : null,
      plan.notes.length ? h("ul", { class: "notes" }, plan.notes.map((n) => h("li", {}, forPage(n)))) : null,
      h("dl", { class: "kv" },
        h("dt", {}, "Budget"), h("dd", {}, fmt(t.budget)),
        h("dt", {}, "Expected sales"), h("dd", {}, `${fmt(t.sales)} (HDI ${fmt(t["sales_hdi_3%"])} – ${fmt(t["sales_hdi_97%"])})`),
        h("dt", {}, comparedWith(plan)), h("dd", { id: "optimizer-uplift" }, `${fmt(t.uplift)} (${fmt(t.uplift_pct)}%), P(better) ${fmt(100 * t.prob_better)}%`),
        h("dt", {}, "ROI / marginal ROI"), h("dd", {}, `${fmt(t.roi)} / ${fmt(t.marginal_roi)}`))),
    h("div", { class: "grid2" }, h("section", { class: "card" }, bar), h("section", { class: "card" }, pie)),
    h("section", { class: "card" }, dataTable("Allocation", columns, plan.channels,
      { filename: "allocation.csv", rowClass: (r) => (r.channel === "total" ? "total" : null) })));
  await drawFigure(bar, {
    data: [
      { type: "bar", name: "current (historical rate)", x: names, y: rows.map((r) => r.historical), marker: { color: "#9CA3AF" } },
      ...(Math.abs(t.budget - rows.reduce((sum, r) => sum + r.historical, 0)) > 1e-9 * t.budget
        ? [{ type: "bar", name: "current mix at this budget", x: names, y: rows.map((r) => r.historical_at_budget), marker: { color: "#93C5FD" } }]
        : []),
      ...(plan.comparison && plan.comparison !== "historical mix"
        ? [{ type: "bar", name: "current mix moved into the bounds", x: names, y: rows.map((r) => r.comparison), marker: { color: "#FBBF24" } }]
        : []),
      { type: "bar", name: "optimal", x: names, y: rows.map((r) => r.optimal), marker: { color: "#2563EB" } },
    ],
    layout: { title: { text: "Spend per channel: current vs optimal", x: 0.01 }, barmode: "group",
      template: "plotly_white", legend: { orientation: "h", y: -0.15 }, margin: { l: 60, r: 20, t: 50, b: 60 },
      yaxis: { title: { text: "spend over the periods" } } },
  });
  await drawFigure(pie, {
    data: [
      { type: "pie", name: "current", labels: names, values: rows.map((r) => r.historical), domain: { x: [0, 0.46] },
        title: { text: "current" }, marker: { colors: PALETTE }, sort: false, hole: 0.35 },
      { type: "pie", name: "optimal", labels: names, values: rows.map((r) => r.optimal), domain: { x: [0.54, 1] },
        title: { text: "optimal" }, marker: { colors: PALETTE }, sort: false, hole: 0.35 },
    ],
    layout: { title: { text: "Share of the budget", x: 0.01 }, template: "plotly_white",
      legend: { orientation: "h", y: -0.05 }, margin: { l: 20, r: 20, t: 50, b: 40 } },
  });
}
