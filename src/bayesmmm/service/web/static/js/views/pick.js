// "Which fit?": finished fits described by date, data, model, channels and verdict, for
// the pages that work on a fit (and the task list's columns).
import { api } from "../api.js";
import { clear, dataTable, errorText, fill, fmt, h } from "../dom.js";

/** Column headings of :func:`fitCells`. */
export const FIT_COLUMNS = ["Created", "Data", "Model", "Channels", "Verdict"];

/** Whether a task searched the structure (runMMMAsync's forms): its answers are averaged. */
export function isAveraged(t) {
  return Boolean(t && t.forms && t.forms !== "spec");
}

/** The structures an averaged fit's weight is on, in a few words: "averaged: delayed+hill
 * 70%, geometric+hill 30%" (while it runs: "automatic structure"). */
export function structureText(t) {
  const carried = (t.structures || []).filter((s) => s.weight >= 0.001);
  if (!carried.length) return "automatic structure";
  return "averaged: " + carried.map((s) => `${s.structure} ${Math.round(100 * s.weight)}%`).join(", ");
}

/** The model of a task in a few words: "geometric + logistic, linear trend" (an averaged
 * fit: its structures). Takes a task (getTaskStatus) or a bare spec. */
export function modelText(t) {
  const spec = t && t.spec ? t.spec : t;
  if (!spec || !spec.channel_columns) return "–";
  const form = (value, fallback) => (value === undefined || value === null ? fallback
    : typeof value === "string" ? value : [...new Set(Object.values(value))].join("/"));
  const parts = [isAveraged(t) ? structureText(t)
    : `${form(spec.adstock, "geometric")} + ${form(spec.saturation, "logistic")}`];
  if (spec.trend && spec.trend !== "none") parts.push(`${spec.trend} trend`);
  if ((spec.panel_columns || []).length) parts.push(`geo (${spec.panel_columns.join(", ")})`);
  if ((spec.lift_tests || []).length) parts.push(`${spec.lift_tests.length} lift test${spec.lift_tests.length > 1 ? "s" : ""}`);
  return parts.join(", ");
}

export function when(text) {
  return text ? new Date(text).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "–";
}

/** The verdict as a badge: ok / care / bad with its headline as the tooltip. */
export function verdictBadge(verdict) {
  if (!verdict) return h("span", { class: "muted small" }, "–");
  const word = { ok: "can be trusted", care: "use with care", bad: "do not use" }[verdict.status] || verdict.status;
  return h("span", { class: `badge verdict-${verdict.status}`, title: verdict.headline }, word);
}

/** Table cells describing one task's fit, in the order of FIT_COLUMNS. */
export function fitCells(t) {
  const spec = t.spec || {};
  return [
    h("td", {}, when(t.created_at)),
    h("td", {}, t.input_name),
    h("td", { class: "fit-model", dataset: { averaged: isAveraged(t) ? "1" : "" } }, modelText(t)),
    h("td", { class: "fit-channels" }, (spec.channel_columns || []).join(", ") || "–"),
    h("td", { class: "fit-verdict" }, verdictBadge(t.verdict)),
  ];
}

/** One line naming the fit a page works on, with a link to choose another. */
export function fitLine(t, view) {
  const spec = t.spec || {};
  return h("p", { class: "fit-line muted", id: "fit-line" },
    `Fit of ${t.input_name} (${when(t.created_at)}): ${modelText(t)}; channels ` +
    `${(spec.channel_columns || []).join(", ")} · `, verdictBadge(t.verdict), " · ",
    h("a", { href: `#/${view}/choose` }, "choose another fit"));
}

export async function pickTask(root, title, view) {
  fill(root, h("h1", {}, title));
  const card = h("section", { class: "card", id: "fit-picker" }, h("p", { class: "muted" }, "Loading finished fits…"));
  root.append(card);
  try {
    const list = await api("/tasks", { query: { status: "completed", limit: 50 } });
    clear(card);
    if (!list.tasks.length) {
      card.append(h("p", {}, "No finished fit yet. "), h("a", { href: "#/data" }, "Start one from your data →"));
      return;
    }
    card.append(h("p", {}, "Choose a finished fit:"), h("div", { class: "table-wrap" },
      h("table", { class: "data fits" },
        h("thead", {}, h("tr", {}, [...FIT_COLUMNS, ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, list.tasks.map((t) => h("tr", { dataset: { task: t.task_id } }, fitCells(t),
          h("td", {}, h("a", { class: "button small", href: `#/${view}/${t.task_id}` }, "Open ›"))))))));
  } catch (err) {
    fill(card, h("p", { class: "summary-line bad" }, errorText(err)));
  }
}

/** An averaged fit's structures as a small table (each candidate's weight, ELPD and why it
 * was left out), with the weights in words; null for a fit of one structure. */
export function structuresTable(t) {
  const rows = t.structures;
  if (!rows || !rows.length) return null;
  const columns = ["structure", "weight", "elpd_loo", "pilot_elpd", "why_left_out"];
  return h("div", { class: "card", id: "structures-table" },
    dataTable("Structures: which carry the weight", columns, rows, {
      filename: "structures.csv",
      format: (c, v) => (c === "weight" ? `${Math.round(100 * v)}%` : fmt(v)),
      rowClass: (r) => (r.weight >= 0.001 ? "carried" : "left-out") }),
    h("p", { class: "muted small" }, `${t.carried_by || structureText(t)}. Every answer on these pages is ` +
      "the mixture of the structures by their stacking weights (the weights that predict best, not " +
      "probabilities that a structure is true); ELPD: PSIS-LOO expected log predictive density, higher " +
      "predicts better."));
}
