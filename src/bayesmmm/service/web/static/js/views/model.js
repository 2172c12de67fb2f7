// Page 2: model and sampler options, then start the fit (runMMMAsync).
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
    seed: number("opt-seed", d.seed, 0),
  };
  const start = h("button", { type: "submit", class: "primary", id: "start-fit" }, "Start fit");
  const form = h("form", { class: "card", id: "model-form" },
    h("fieldset", {}, h("legend", {}, "Model"), h("div", { class: "fields" },
      field("Preset", inputs.preset, "classic: PyMC-Marketing's model"),
      field("Adstock (carry-over)", inputs.adstock),
      field("Saturation", inputs.saturation),
      field("Trend", inputs.trend),
      field("Adstock length (periods)", inputs.adstock_max_lag),
      field("Yearly seasonality (Fourier modes)", inputs.yearly_seasonality, "0 = none"))),
    h("fieldset", {}, h("legend", {}, "Sampler (NUTS)"), h("div", { class: "fields" },
      field("Chains", inputs.chains),
      field("Warm-up draws per chain", inputs.warmup),
      field("Draws per chain", inputs.draws),
      field("Seed", inputs.seed, "the same seed gives the same draws")),
      h("p", { class: "muted small" },
        `Small settings give a quick first look; the service's defaults are ${d.chains} chains × ` +
        `${d.warmup} warm-up × ${d.draws} draws, which give steadier answers.`)),
    h("div", { class: "row" }, start, h("span", { class: "muted small", id: "start-note" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    hideAlert();
    start.disabled = true;
    form.querySelector("#start-note").textContent = "Sending the data…";
    const body = dataForm(Object.fromEntries(Object.entries(inputs).map(([key, input]) => [key, input.value])));
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
