// Small DOM helpers. Text from the server always goes in as text, never as HTML.
import { downloadCsv } from "./csv.js";

/** h("div", {class: "card", onclick: f}, child, "text", [more]) -> element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace ``el``'s content by ``children`` (null, false and undefined are skipped). */
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/** A number for people: 1,234,567 / 12.3 / 0.0123; null as an en dash. */
export function fmt(value, digits = 3) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return value > 0 ? "∞" : value < 0 ? "-∞" : "–";
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (abs === 0) return "0";
  return Number(value.toPrecision(digits)).toLocaleString("en-US", { maximumSignificantDigits: digits });
}

export function pct(value) {
  return value === null || value === undefined ? "–" : `${fmt(value, 3)}%`;
}

/** A button that copies ``text`` to the clipboard (falls back to selecting it). */
export function copyButton(text, label = "Copy") {
  const button = h("button", { type: "button", class: "small copy" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = h("textarea", { value: text });
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  return button;
}

/**
 * A titled table with a "Download CSV" button. ``columns``: names; ``rows``: objects.
 * Only ``maxRows`` rows are shown; the CSV always holds all of them.
 */
export function dataTable(title, columns, rows, { filename, maxRows = 200, format, rowClass } = {}) {
  const shown = rows.slice(0, maxRows);
  const show = format || ((_, v) => fmt(v));
  const table = h("table", { class: "data" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, shown.map((row) => h("tr", { class: rowClass ? rowClass(row) : null },
      columns.map((c) => h("td", { class: typeof row[c] === "string" ? "text" : null }, show(c, row[c])))))));
  const name = filename || `${title.toLowerCase().replace(/[^a-z0-9]+/g, "_")}.csv`;
  const download = h("button", { type: "button", class: "small download-csv",
    dataset: { filename: name }, onclick: () => downloadCsv(name, columns, rows) },
    "Download CSV");
  return h("div", { class: "table-block" },
    h("div", { class: "table-head" }, h("h3", {}, title), download,
      rows.length > shown.length
        ? h("span", { class: "muted small" }, `showing ${shown.length} of ${rows.length} rows (the CSV has all)`)
        : null),
    h("div", { class: "table-wrap" }, table));
}

/** The page-wide message line (errors in red, notes in blue). */
export function showAlert(message, kind = "error") {
  const box = document.getElementById("alert");
  box.querySelector(".alert-text").textContent = message;
  box.classList.toggle("info", kind !== "error");
  box.hidden = false;
}

export function hideAlert() {
  document.getElementById("alert").hidden = true;
}

/** A readable message for any error (API errors carry the service's own sentence). */
export function errorText(err) {
  if (err && err.name === "ApiError") return err.message;
  if (err && err.name === "TypeError") return "Cannot reach the BayesMMM service. Is it running?";
  return err && err.message ? err.message : String(err);
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("span", { class: "muted small" }, hint) : null);
}
