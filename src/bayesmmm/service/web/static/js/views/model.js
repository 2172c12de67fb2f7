// Page 2: model and sampler options, then start the fit (runMMMAsync). Beyond the forms:
// holidays, events, priors, lift tests and costs per unit (model_options), as the API
// takes them.
import { label } from "../advice.js";
import { api } from "../api.js";
import { errorText, field, fill, h, hideAlert, showAlert } from "../dom.js";
import { dataForm, state, useTask } from "../state.js";

export async function render(root) {
  fill(root, h("h1", {}, "Model"));
  if (!state.file || !state.validation || !state.validation.ok) {
    root.append(h("section", { class: "card" }, h("p", {},
      "Upload a table and pass its validation first. "), h("a", { href: "#/data" }, "← Data")));
    return;
  }
  if (!state.options) {
    try {
      state.options = await api("/model-options");
    } catch (err) {
      showAlert(errorText(err));
      return;
    }
  }
  const o = state.options;
  const d = o.defaults;
  const m = state.mapping;
  const select = (id, values, first) => h("select", { id },
    first ? h("option", { value: "" }, first) : null, values.map((v) => h("option", { value: v }, v)));
  const number = (id, value, min, max, step) => h("input", { type: "number", id, value: String(value),
    min: String(min), max: max === undefined ? null : String(max), step: step || "1" });
  const preset = select("opt-preset", o.presets);
  preset.value = "classic";
  const inputs = {
    preset,
    adstock: select("opt-adstock", o.adstocks.filter((n) => n !== "none"), "preset's default"),
    saturation: select("opt-saturation", o.saturations.filter((n) => n !== "none"), "preset's default"),
    trend: select("opt-trend", o.trends, "preset's default"),
    adstock_max_lag: number("opt-lag", d.adstock_max_lag, 1, 52),
    yearly_seasonality: number("opt-seasonality", d.yearly_seasonality, 0, 10),
    chains: number("opt-chains", 2, 1, 16),
    warmup: number("opt-warmup", 500, 0, 20000),
    draws: number("opt-draws", 500, 1, 20000),
    target_accept: number("opt-target-accept", d.target_accept, 0.5, 0.999, "0.01"),
    seed: number("opt-seed", d.seed, 0),
  };
  const structure = structureChoice(o, inputs);
  const more = advancedOptions(o, m);
  const start = h("button", { type: "submit", class: "primary", id: "start-fit" }, "Start fit");
  const form = h("form", { class: "card", id: "model-form" },
    h("fieldset", {}, h("legend", {}, "Model"), h("div", { class: "fields" },
      field(label("preset"), inputs.preset, "classic: PyMC-Marketing's model"),
      field(label("adstock"), inputs.adstock),
      field(label("saturation"), inputs.saturation),
      field(label("trend"), inputs.trend),
      field(label("adstock_max_lag"), inputs.adstock_max_lag),
      field(label("yearly_seasonality"), inputs.yearly_seasonality, "0 = none"))),
    structure.element,
    more.element,
    h("fieldset", {}, h("legend", {}, "Sampler (NUTS)"), h("div", { class: "fields" },
      field(label("chains"), inputs.chains),
      field(label("warmup"), inputs.warmup),
      field(label("draws"), inputs.draws),
      field(label("target_accept"), inputs.target_accept, "raise towards 0.95 against divergences"),
      field(label("seed"), inputs.seed, "the same seed gives the same draws")),
      h("p", { class: "muted small" },
        `Small settings give a quick first look; the service's defaults are ${d.chains} chains × ` +
        `${d.warmup} warm-up × ${d.draws} draws, which give steadier answers.`)),
    h("div", { class: "row" }, start, h("span", { class: "muted small", id: "start-note" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    hideAlert();
    let extra;
    try {
      extra = { ...more.read(), forms: structure.read() };
    } catch (err) {
      showAlert(err.message);
      return;
    }
    start.disabled = true;
    form.querySelector("#start-note").textContent = "Sending the data…";
    const fields = Object.fromEntries(Object.entries(inputs)
      .filter(([, input]) => !input.disabled).map(([key, input]) => [key, input.value]));
    const body = dataForm({ ...fields, ...extra });
    try {
      const accepted = await api("/tasks", { form: body });
      useTask(accepted.task_id);
      location.hash = `#/tasks/${accepted.task_id}`;
    } catch (err) {
      showAlert(errorText(err));
      start.disabled = false;
      form.querySelector("#start-note").textContent = "";
    }
  });
  root.append(
    h("section", { class: "card" }, h("h2", {}, "Columns"), h("dl", { class: "kv" },
      h("dt", {}, "File"), h("dd", {}, `${state.file.name} (${state.validation.n_rows} rows)`),
      h("dt", {}, "Date"), h("dd", {}, m.date_column),
      h("dt", {}, "Target"), h("dd", {}, m.y_column),
      h("dt", {}, "Channels"), h("dd", {}, m.channel_columns.join(", ")),
      h("dt", {}, "Controls"), h("dd", {}, m.control_columns.join(", ") || "none"),
      m.panel_columns.length ? [h("dt", {}, "Panel"), h("dd", {}, m.panel_columns.join(", "))] : null),
      h("a", { href: "#/data", class: "small" }, "change")),
    form);
}

/** Fixed forms, or an automatic structure search over candidate forms (runMMMAsync's
 * ``forms``): the element and read(), which gives the field ("auto", the candidates as
 * JSON, or undefined for fixed forms) or throws with what to fix. A search replaces the
 * adstock and saturation choices, which are disabled meanwhile. */
function structureChoice(o, inputs) {
  const search = o.structure_search || {};
  const defaults = { adstock: search.adstock || [], saturation: search.saturation || [] };
  const mode = h("select", { id: "opt-forms" },
    h("option", { value: "spec" }, "fixed forms"),
    h("option", { value: "auto" }, "automatic structure (slower: several fits)"));
  const boxes = (kind, names) => h("div", { class: "candidates", id: `forms-${kind}` },
    names.filter((n) => n !== "none").map((n) => h("label", { class: "check-label" },
      h("input", { type: "checkbox", value: n, class: `forms-${kind}`, checked: defaults[kind].includes(n) }),
      ` ${n}`)));
  const adstocks = boxes("adstock", o.adstocks);
  const saturations = boxes("saturation", o.saturations);
  const candidates = h("div", { id: "forms-candidates", hidden: true },
    h("p", { class: "muted small" }, "Every checked adstock × saturation pair is a candidate: each gets a short " +
      "pilot fit, the clearly worse are dropped, up to 3 survivors get full fits and the answers average them " +
      `by stacking weights (at most ${search.per_kind || 5} of each kind, ${search.candidates || 9} pairs; ` +
      "the default 9 take about 3× one fit). The results pages show which structures carry the weight."),
    field("Adstock candidates", adstocks), field("Saturation candidates", saturations));
  const sync = () => {
    const auto = mode.value === "auto";
    candidates.hidden = !auto;
    for (const input of [inputs.adstock, inputs.saturation]) input.disabled = auto;
    if (auto && Number(inputs.chains.value) < 2) inputs.chains.value = "2";
  };
  mode.addEventListener("change", sync);
  const checked = (box) => [...box.querySelectorAll("input:checked")].map((i) => i.value);
  const read = () => {
    if (mode.value !== "auto") return undefined;
    const chosen = { adstock: checked(adstocks), saturation: checked(saturations) };
    if (!chosen.adstock.length || !chosen.saturation.length) {
      throw new Error("Structure: check at least one adstock and one saturation candidate.");
    }
    const same = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
    return same(chosen.adstock, defaults.adstock) && same(chosen.saturation, defaults.saturation)
      ? "auto" : JSON.stringify(chosen);
  };
  const element = h("fieldset", { id: "structure-choice" }, h("legend", {}, "Structure"),
    h("div", { class: "fields" }, field(label("forms"), mode,
      "automatic: when the carry-over and response shapes are unknown")), candidates);
  return { element, read };
}

/** A list of rows with an "Add" button; ``make()`` returns a row element whose
 * ``read()`` gives its value (or null when the row is empty). */
function rowList(id, addLabel, make) {
  const rows = h("div", { class: "rows", id });
  const add = () => {
    const row = make();
    row.classList.add("entry");
    row.append(h("button", { type: "button", class: "small", onclick: () => row.remove() }, "Remove"));
    rows.append(row);
    return row;
  };
  const button = h("button", { type: "button", class: "small", id: `${id}-add` }, addLabel);
  button.addEventListener("click", add);
  return { rows, button, values: () => [...rows.children].map((r) => r.read()).filter((v) => v !== null) };
}

function numberValue(input, what) {
  if (input.value === "") throw new Error(`${what}: give a number.`);
  const value = Number(input.value);
  if (!Number.isFinite(value)) throw new Error(`${what}: "${input.value}" is not a number.`);
  return value;
}

/** Holidays, events, priors, lift tests and costs per unit: the element and read(),
 * which gives the request fields (holidays, model_options) or throws with what to fix. */
function advancedOptions(o, m) {
  const countries = h("datalist", { id: "holiday-countries" }, o.holiday_countries.map((c) => h("option", { value: c })));
  const holidays = h("input", { type: "text", id: "opt-holidays", list: "holiday-countries",
    placeholder: "e.g. US, GB", autocomplete: "off" });

  const events = rowList("event-rows", "Add event", () => {
    const name = h("input", { type: "text", class: "event-name", placeholder: "name, e.g. black_friday", "aria-label": "Event name" });
    const days = h("input", { type: "text", class: "event-dates wide", placeholder: "2023-11-24, 2023-07-01..2023-07-14",
      "aria-label": "Event days or ranges" });
    const row = h("div", {}, name, days);
    row.read = () => {
      if (!name.value.trim() && !days.value.trim()) return null;
      if (!name.value.trim() || !days.value.trim()) throw new Error("Each event needs a name and its days.");
      const parts = days.value.split(",").map((p) => p.trim()).filter(Boolean)
        .map((p) => (p.includes("..") ? p.split("..").map((x) => x.trim()) : p));
      return [name.value.trim(), parts];
    };
    return row;
  });

  const priorNames = h("datalist", { id: "prior-names" }, Object.keys(o.priors).map((n) => h("option", { value: n })));
  const priors = rowList("prior-rows", "Add prior", () => {
    const name = h("input", { type: "text", class: "prior-name", list: "prior-names", placeholder: "parameter, e.g. saturation_beta",
      "aria-label": "Parameter", autocomplete: "off" });
    const dist = h("select", { class: "prior-dist", "aria-label": "Distribution" },
      Object.keys(o.distributions).map((n) => h("option", { value: n }, n)));
    const params = h("span", { class: "prior-params" });
    const drawParams = (values = {}) => {
      fill(params, ...o.distributions[dist.value].map((p) => [h("label", {}, p),
        h("input", { type: "number", step: "any", class: "prior-param", dataset: { param: p },
          value: values[p] === undefined ? "" : String(values[p]), "aria-label": p })]));
    };
    dist.addEventListener("change", () => drawParams());
    name.addEventListener("change", () => {  // start from the parameter's default prior
      const prior = o.priors[name.value.trim()];
      if (prior) { dist.value = prior.dist; drawParams(prior.params); }
    });
    drawParams();
    const row = h("div", {}, name, dist, params);
    row.read = () => {
      if (!name.value.trim()) return null;
      const values = Object.fromEntries([...params.querySelectorAll(".prior-param")].map((input) =>
        [input.dataset.param, numberValue(input, `prior of ${name.value.trim()}, ${input.dataset.param}`)]));
      return [name.value.trim(), { dist: dist.value, params: values }];
    };
    return row;
  });

  const panel = m.panel_columns.length > 0;
  const lifts = rowList("lift-rows", "Add lift test", () => {
    const channel = h("select", { class: "lift-channel", "aria-label": "Channel" },
      m.channel_columns.map((c) => h("option", { value: c }, c)));
    const start = h("input", { type: "date", class: "lift-start", "aria-label": "First period of the test" });
    const end = h("input", { type: "date", class: "lift-end", "aria-label": "Last period of the test" });
    const spend = h("input", { type: "number", step: "any", class: "lift-spend", placeholder: "spend change",
      "aria-label": "Change in spend over the test" });
    const lift = h("input", { type: "number", step: "any", class: "lift-value", placeholder: "measured lift",
      "aria-label": "Measured incremental sales" });
    const se = h("input", { type: "number", step: "any", min: "0", class: "lift-se", placeholder: "its standard error",
      "aria-label": "Standard error of the lift" });
    const cell = panel ? h("input", { type: "text", class: "lift-panel", placeholder: "panel cell", "aria-label": "Panel cell" }) : null;
    const row = h("div", {}, channel, start, h("span", { class: "muted small" }, "to"), end, spend, lift, se, cell);
    row.read = () => {
      if (!start.value && !end.value && spend.value === "" && lift.value === "") return null;
      if (!start.value || !end.value) throw new Error(`Lift test on ${channel.value}: give its first and last period.`);
      const test = { channel: channel.value, start: start.value, end: end.value,
        spend_change: numberValue(spend, `lift test on ${channel.value}, spend change`),
        lift: numberValue(lift, `lift test on ${channel.value}, lift`),
        lift_se: numberValue(se, `lift test on ${channel.value}, standard error`) };
      if (cell && cell.value.trim()) test.panel = cell.value.trim();
      return test;
    };
    return row;
  });

  const costs = m.channel_columns.map((c) => ({ channel: c, input: h("input", { type: "number", step: "any",
    min: "0", class: "cost-per-unit", dataset: { channel: c }, placeholder: "spend", "aria-label": `${c} cost per unit` }) }));

  const element = h("details", { class: "advanced", id: "model-advanced" },
    h("summary", {}, "Calendar, priors, experiments and costs"),
    h("fieldset", {}, h("legend", {}, "Calendar"), countries,
      field(label("holidays"), holidays, "ISO codes, comma-separated: each public holiday becomes a control"),
      h("p", { class: "muted small" }, "Events: days or ranges (first..last) of one-off happenings; each event becomes a control."),
      events.rows, events.button),
    h("fieldset", {}, h("legend", {}, "Priors"), priorNames,
      h("p", { class: "muted small" }, "Replace a parameter's default prior (the default fills in when you pick the name)."),
      priors.rows, priors.button),
    h("fieldset", {}, h("legend", {}, "Lift tests"),
      h("p", { class: "muted small" }, "An experiment on one channel: its periods, the change in spend over them, the " +
        "incremental sales it measured and their standard error. Each one calibrates the channel's effect."),
      lifts.rows, lifts.button),
    h("fieldset", {}, h("legend", {}, "Cost per unit"),
      h("p", { class: "muted small" }, "For a channel given in units (impressions, GRPs): the price of one unit. " +
        "Leave empty when the column is spend."),
      h("div", { class: "costs" }, costs.flatMap((c) => [h("span", {}, c.channel), c.input, h("span", {})]))));

  const read = () => {
    const options = {};
    const eventList = events.values();
    if (eventList.length) options.events = Object.fromEntries(eventList);
    const priorList = priors.values();
    if (priorList.length) options.priors = Object.fromEntries(priorList);
    const liftList = lifts.values();
    if (liftList.length) options.lift_tests = liftList;
    const priced = costs.filter((c) => c.input.value !== "");
    if (priced.length) {
      options.cost_per_unit = Object.fromEntries(priced.map((c) => [c.channel, numberValue(c.input, `${c.channel} cost per unit`)]));
    }
    const codes = holidays.value.split(",").map((c) => c.trim().toUpperCase()).filter(Boolean);
    return {
      holidays: codes.length ? codes.join(",") : undefined,
      model_options: Object.keys(options).length ? JSON.stringify(options) : undefined,
    };
  };
  return { element, read };
}
