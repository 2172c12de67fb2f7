// Page 1: drop a table, confirm which column is which, and read the validation report.
import { forPage } from "../advice.js";
import { api } from "../api.js";
import { checkResults } from "../checks.js";
import { clear, copyButton, errorText, fill, h, hideAlert, showAlert } from "../dom.js";
import { dataForm, state } from "../state.js";

const LIST_ROLES = [
  ["channel_columns", "Channels", "media spend (or impressions) per period"],
  ["control_columns", "Controls", "other drivers: price, promotions, events, trend"],
  ["panel_columns", "Panel / geo", "optional: the key of a long table with one block per geo"],
];

export function render(root) {
  const report = h("section", { class: "card", id: "validation" });
  const mapping = h("section", { class: "card", id: "mapping" });
  const upload = uploadCard(async (file) => {
    hideAlert();
    state.file = file;
    state.inspect = null;
    state.validation = null;
    fill(mapping, h("p", { class: "muted" }, `Reading ${file.name}…`));
    clear(report);
    try {
      const form = new FormData();
      form.append("file", file, file.name);
      state.inspect = await api("/inspect", { form });
    } catch (err) {
      fill(mapping, h("p", { class: "summary-line bad" }, errorText(err)));
      showAlert(errorText(err));
      return;
    }
    const g = state.inspect.guess;
    state.mapping = {
      date_column: g.date_column || "", y_column: g.y_column || "",
      channel_columns: g.channel_columns, control_columns: g.control_columns,
      panel_columns: g.panel_columns,
    };
    drawMapping(mapping, report);
    fileLine(upload);
    await runValidation(report);
  });
  fill(root, h("h1", {}, "Data"), upload, h("div", { class: "grid2" }, mapping, report));
  if (state.inspect) {
    fileLine(upload);
    drawMapping(mapping, report);
    if (state.validation) drawReport(report, state.validation);
  } else {
    mapping.append(h("h2", {}, "2 · Columns"), h("p", { class: "muted" },
      "Upload a table first; the columns are guessed from its header and values."));
    report.append(h("h2", {}, "3 · Validation"), h("p", { class: "muted" },
      "Every check the fit relies on, with a fix for each problem."));
  }
}

function uploadCard(onFile) {
  const input = h("input", { type: "file", id: "file-input", accept: ".csv,.parquet,text/csv",
    hidden: true });
  const zone = h("div", { class: "dropzone", id: "dropzone", tabindex: "0", role: "button",
    "aria-label": "Drop a CSV or Parquet file here, or press to choose one" },
    h("strong", {}, "Drop a CSV or Parquet file here"),
    h("div", { class: "muted" }, "or click to choose one · one row per period (and per geo), a date column, sales and spend per channel"));
  const pick = (files) => { if (files && files.length) onFile(files[0]); };
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    pick(e.dataTransfer && e.dataTransfer.files);
  });
  input.addEventListener("change", () => { pick(input.files); input.value = ""; });
  return h("section", { class: "card", id: "upload" }, h("h2", {}, "1 · Upload"), zone, input,
    h("p", { class: "file-line muted small" }));
}

function fileLine(card) {
  const line = card.querySelector(".file-line");
  const info = state.inspect;
  line.textContent = info ? `${info.name}: ${info.n_rows} rows, ${info.columns.length} columns` : "";
}

function drawMapping(card, report) {
  const info = state.inspect;
  const names = info.columns.map((c) => c.name);
  const kinds = Object.fromEntries(info.columns.map((c) => [c.name, c.kind]));
  const m = state.mapping;
  const listId = "column-names";
  const datalist = h("datalist", { id: listId }, names.map((n) => h("option", { value: n })));
  const roles = LIST_ROLES.map(([key, label, hint]) => [key, h("label", { title: hint }, label),
    h("div", { class: "chips", id: `map-${key}` })]);
  // Only the chips are redrawn on a change, so a click on "Check data" is never lost.
  const drawChips = () => {
    const free = names.filter((n) => n !== m.date_column && n !== m.y_column);
    for (const [key, , box] of roles) {
      fill(box, ...free.map((name) => {
        const on = m[key].includes(name);
        const tick = h("input", { type: "checkbox", checked: on, value: name });
        tick.addEventListener("change", () => {
          for (const [other] of LIST_ROLES) m[other] = m[other].filter((n) => n !== name);
          if (tick.checked) m[key].push(name);
          drawChips();
        });
        return h("label", { class: `chip${on ? " on" : ""}`, title: `${name} (${kinds[name]})` }, tick, name);
      }));
    }
  };
  const single = (key, label) => {
    const input = h("input", { type: "text", id: `map-${key}`, list: listId, value: m[key] || "",
      class: m[key] ? null : "required", placeholder: "choose a column", autocomplete: "off" });
    input.addEventListener("input", () => {
      m[key] = input.value.trim();
      input.classList.toggle("required", !m[key]);
    });
    input.addEventListener("change", () => {
      for (const [other] of LIST_ROLES) m[other] = m[other].filter((n) => n !== m[key]);
      drawChips();
    });
    return [h("label", { for: input.id }, label), input];
  };
  const check = h("button", { type: "button", class: "primary", id: "check-data",
    onclick: () => runValidation(report) }, "Check data");
  fill(card, 
    h("h2", {}, "2 · Columns"),
    h("p", { class: "muted small" }, "Guessed from the header and values; change anything that is wrong."),
    datalist,
    h("div", { class: "mapping" },
      ...single("date_column", "Date"), ...single("y_column", "Target (sales)"),
      ...roles.flatMap(([, label, box]) => [label, box])),
    h("div", { class: "row", style: "margin-top:.7rem" }, check,
      h("span", { class: "muted small" }, "Columns in no role are left out of the model.")));
  drawChips();
}

async function runValidation(card) {
  const m = state.mapping;
  fill(card, h("h2", {}, "3 · Validation"));
  const missing = [];
  if (!m.date_column) missing.push("the date column");
  if (!m.y_column) missing.push("the target (sales) column");
  if (!m.channel_columns.length) missing.push("at least one channel");
  if (missing.length) {
    state.validation = null;
    card.append(h("p", { class: "summary-line bad", id: "mapping-needed" },
      `Choose ${missing.join(", ")} under Columns, then press "Check data".`));
    return;
  }
  card.append(h("p", { class: "muted" }, "Checking…"));
  try {
    state.validation = await api("/validate", { form: dataForm() });
    drawReport(card, state.validation);
  } catch (err) {
    state.validation = null;
    fill(card, h("h2", {}, "3 · Validation"),
      h("p", { class: "summary-line bad" }, errorText(err)));
  }
}

function drawReport(card, report) {
  const checks = checkResults(report);
  const nErr = report.errors.length;
  const nWarn = report.warnings.length;
  const summary = report.ok
    ? `The data passes: ${report.n_rows} rows${report.frequency ? `, ${report.frequency}` : ""}` +
      (nWarn ? `, ${nWarn} warning${nWarn > 1 ? "s" : ""} (the fit is allowed)` : ", no problems")
    : `${nErr} problem${nErr > 1 ? "s" : ""} stop the fit; each has a fix below.`;
  const next = h("a", { class: `button${report.ok ? " primary" : ""}`, href: "#/model",
    id: "to-model", "aria-disabled": report.ok ? "false" : "true",
    onclick: (e) => { if (!report.ok) e.preventDefault(); } }, "Next: model options →");
  const explore = report.ok
    ? h("a", { class: "button", href: "#/explore", id: "explore-data",
      title: "Spend, sales, correlations, seasonality and outliers, before any fit" }, "Explore the data")
    : null;
  fill(card, 
    h("h2", {}, "3 · Validation"),
    h("p", { class: `summary-line ${report.ok ? "ok" : "bad"}`, id: "validation-summary" }, summary),
    h("ul", { class: "checks" }, checks.map((check) => h("li", {
      class: `check ${check.status}`, dataset: { status: check.status } },
      h("div", { class: "check-head" }, h("span", { class: "badge" }, check.status),
        h("span", {}, check.name)),
      check.problems.map(problemItem)))),
    h("div", { class: "row", style: "margin-top:.7rem" }, explore, next));
}

function problemItem(p) {
  return h("div", { class: `problem ${p.severity}`, dataset: { code: p.code } },
    h("div", {}, h("strong", {}, p.column ? `${p.column}: ` : ""), forPage(p.message)),
    h("div", { class: "rule" }, `Rule: ${p.rule}`),
    p.fix ? h("div", { class: "snippet" }, h("code", { class: "fix" }, forPage(p.fix)), copyButton(p.fix)) : null);
}
