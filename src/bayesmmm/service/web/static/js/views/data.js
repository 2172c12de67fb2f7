// Page 1: drop a table (or read one from a source the operator named), confirm which
// column is which, and read the validation report.
import { forPage } from "../advice.js";
import { api } from "../api.js";
import { checkResults } from "../checks.js";
import { clear, copyButton, errorText, field, fill, h, hideAlert, showAlert } from "../dom.js";
import { dataForm, state } from "../state.js";

const LIST_ROLES = [
  ["channel_columns", "Channels", "media spend (or impressions) per period"],
  ["control_columns", "Controls", "other drivers: price, promotions, events, trend"],
  ["panel_columns", "Panel / geo", "optional: the key of a long table with one block per geo"],
];

export function render(root) {
  const report = h("section", { class: "card", id: "validation" });
  const mapping = h("section", { class: "card", id: "mapping" });
  // The same steps for an uploaded file and for a named source's table: inspectData on
  // the form, then the column guess and validation.
  const read = async (data, form) => {
    hideAlert();
    state.file = data;
    state.inspect = null;
    state.validation = null;
    fill(mapping, h("p", { class: "muted" }, `Reading ${data.name}…`));
    clear(report);
    try {
      state.inspect = await api("/inspect", { form });
    } catch (err) {
      fill(mapping, h("p", { class: "summary-line bad" }, errorText(err)));
      showAlert(errorText(err));
      return;
    }
    if (data.source) state.file = { name: state.inspect.name, source: data.source };
    const g = state.inspect.guess;
    state.mapping = {
      date_column: g.date_column || "", y_column: g.y_column || "",
      channel_columns: g.channel_columns, control_columns: g.control_columns,
      panel_columns: g.panel_columns,
    };
    drawMapping(mapping, report);
    fileLine(upload);
    await runValidation(report);
  };
  const upload = uploadCard((file) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return read(file, form);
  });
  const named = h("section", { class: "card", id: "named-source", hidden: true });
  fill(root, h("h1", {}, "Data"), upload, named, h("div", { class: "grid2" }, mapping, report));
  sourceCard(named, (source) => {
    const form = new FormData();
    form.append("source", JSON.stringify(source));
    return read({ name: `source:${source.name}`, source }, form);
  });
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

/** "From a named source": shown only when the operator named sources (listSources). */
async function sourceCard(card, onSource) {
  if (!state.sources) {
    try {
      state.sources = (await api("/sources")).sources;
    } catch {
      return; // no key yet, or an older service: the upload is the way in
    }
  }
  const sources = state.sources;
  if (!sources.length) return;
  const picker = h("select", { id: "source-name" }, sources.map((s) => h("option", { value: s.name },
    s.description ? `${s.name} — ${s.description}` : s.name)));
  const what = h("div", { class: "fields source-what" });
  const readButton = h("button", { type: "button", class: "primary", id: "source-read" }, "Read");
  let ask = () => ({});
  const choose = () => {
    const s = sources.find((x) => x.name === picker.value);
    const parts = [];
    const table = s.tables.length ? h("select", { id: "source-table" },
      s.tables.map((t) => h("option", { value: t }, t))) : null;
    const query = s.queries ? h("textarea", { id: "source-query", rows: 4, spellcheck: "false",
      placeholder: "SELECT date, sales, tv, search FROM weekly WHERE date >= '2022-01-01'" }) : null;
    const params = s.params.map((p) => h("input", { type: "text", dataset: { param: p }, autocomplete: "off" }));
    if (table) parts.push(field("Table", table, query ? "read whole; or write a query below" : "read whole"));
    if (query) parts.push(h("div", { class: "field full" }, h("label", { for: query.id }, "Query (one SELECT)"), query,
      h("span", { class: "muted small" }, "Read only: the service refuses anything but a SELECT.")));
    params.forEach((input, i) => parts.push(field(`Value of :${s.params[i]}`, input)));
    if (!parts.length) parts.push(h("p", { class: "muted small" }, s.fixed_query
      ? "The operator's own query: read it as it is." : "A file: read it whole."));
    fill(what, field("Source", picker), ...parts);
    ask = () => {
      const source = { name: s.name };
      const text = query ? query.value.trim() : "";
      if (text) source.query = text;
      else if (table) source.table = table.value;
      if (params.length) source.params = Object.fromEntries(params.map((input) => [input.dataset.param, input.value]));
      return source;
    };
  };
  picker.addEventListener("change", choose);
  readButton.addEventListener("click", async () => {
    readButton.disabled = true;
    try {
      await onSource(ask());
    } finally {
      readButton.disabled = false;
    }
  });
  choose();
  fill(card, h("h2", {}, "Or: from a named source"),
    h("p", { class: "muted small" }, "Tables the service's operator set up; their addresses stay on the server."),
    what,
    h("div", { class: "row", style: "margin-top:.7rem" }, readButton));
  card.hidden = false;
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
