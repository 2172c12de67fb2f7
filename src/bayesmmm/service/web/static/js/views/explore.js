// Page 1b: exploratory plots of the checked data (exploreData), before any fit.
import { api } from "../api.js";
import { clear, errorText, fill, h } from "../dom.js";
import { figureCard, limited } from "../plots.js";
import { dataForm, state } from "../state.js";

// name -> [title, full width]; the service decides which figures the data gets.
const FIGURES = {
  spend_over_time: ["Spend per channel over time", true],
  spend_monthly: ["Spend per month", false],
  spend_quarterly: ["Spend per quarter", false],
  sales_over_time: ["Sales over time", true],
  sales_vs_spend: ["Sales against each channel's spend", true],
  total_spend: ["Total spend per channel", false],
  correlation: ["Correlations", false],
  seasonality_by_week: ["Seasonality by week of the year", false],
  seasonality_by_month: ["Seasonality by month", false],
  outliers: ["Outliers", true],
};

export function render(root) {
  if (!state.file || !state.validation || !state.validation.ok) {
    fill(root, h("h1", {}, "Explore the data"), h("section", { class: "card" },
      h("p", {}, "Upload a table and check it first; the plots use the columns you confirm there."),
      h("a", { class: "button primary", href: "#/data" }, "← Data")));
    return;
  }
  const m = state.mapping;
  const summary = h("p", { class: "muted", id: "explore-summary" }, "Drawing the exploratory plots…");
  const panelBox = h("div", { class: "row", id: "explore-panel-box" });
  const plots = h("div", { class: "grid2", id: "explore-plots" });
  fill(root,
    h("div", { class: "row" }, h("h1", {}, `Explore: ${state.file.name}`), h("span", { class: "spacer" }),
      h("a", { class: "button", href: "#/data" }, "← Data"),
      h("a", { class: "button primary", href: "#/model", id: "explore-to-model" }, "Next: model options →")),
    h("p", { class: "muted small" }, `Target ${m.y_column} · channels ${m.channel_columns.join(", ")}` +
      (m.control_columns.length ? ` · controls ${m.control_columns.join(", ")}` : "") +
      " · associations in the same period, not effects: the model separates those."),
    summary, panelBox, plots);
  let current = 0;
  const load = async (panel) => {
    const ticket = ++current;
    fill(plots, h("p", { class: "muted full" }, "Loading…"));
    let body;
    try {
      body = await api("/explore", { form: dataForm({ panel, all_figures: "true" }) });
    } catch (err) {
      if (ticket !== current) return;
      fill(summary, errorText(err));
      summary.className = "summary-line bad";
      clear(plots);
      return;
    }
    if (ticket !== current) return;
    summary.className = "muted";
    fill(summary, describe(body));
    if (body.panels.length && !panelBox.firstChild) panelBox.append(...panelPicker(body.panels, load));
    const cards = body.figures.map(({ name, figure }) => {
      const [title, wide] = FIGURES[name] || [name, true];
      return figureCard(name, async () => figure, { label: title, wide });
    });
    fill(plots, cards);
    await limited(cards.map((c) => c.load), 2);
  };
  return load(null);
}

function describe(body) {
  const periods = `${body.n_periods} ${body.frequency || ""} periods from ${body.start} to ${body.end}`;
  const where = body.panel ? ` · panel ${body.panel}` : body.panels.length ? ` · total of ${body.panels.length} panel cells` : "";
  const n = body.outliers.length;
  const outliers = n ? ` · ${n} outlier period${n > 1 ? "s" : ""} in the target (${body.outliers.slice(0, 5).join(", ")}${n > 5 ? ", …" : ""})` : " · no outliers in the target";
  const warnings = body.warnings.length ? ` · ${body.warnings.length} validation warning${body.warnings.length > 1 ? "s" : ""} (see Data)` : "";
  return periods.replace(/ {2}/g, " ") + where + outliers + warnings;
}

function panelPicker(panels, load) {
  const select = h("select", { id: "explore-panel" },
    h("option", { value: "" }, `Total of ${panels.length} panel cells`),
    panels.map((p) => h("option", { value: p }, p)));
  select.addEventListener("change", () => load(select.value || null));
  return [h("label", { for: "explore-panel" }, "Panel"), select];
}
