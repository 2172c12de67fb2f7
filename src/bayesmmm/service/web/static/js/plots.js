// Plotly figures: from the service's getPlot (figure JSON) or built here from tables.
import { api } from "./api.js";
import { h, clear, errorText } from "./dom.js";

const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

export function plotlyLoaded() {
  return typeof window.Plotly !== "undefined";
}

/** Draw a {data, layout} figure into ``el`` at the element's width. */
export async function drawFigure(el, figure, { height } = {}) {
  if (!plotlyLoaded()) throw new Error("plotly.js did not load from /vendor/plotly.min.js");
  const layout = { ...(figure.layout || {}), autosize: true };
  delete layout.width;
  layout.height = height || layout.height || 360;
  clear(el);
  el.classList.remove("loading", "empty");
  await window.Plotly.newPlot(el, figure.data || [], layout, CONFIG);
}

/** A card whose ``load()`` gets a figure from ``source()`` (a promise) and draws it. */
export function figureCard(name, source, { height, wide, label } = {}) {
  const box = h("div", { class: "plot loading", dataset: { plot: name } }, `drawing ${label || name}…`);
  const card = h("section", { class: `card plot-card${wide ? " full" : ""}`, "aria-label": label || name }, box);
  card.load = async () => {
    try {
      await drawFigure(box, await source(), { height });
    } catch (err) {
      clear(box);
      box.classList.remove("loading");
      box.append(h("div", { class: "plot-error" }, `Could not draw this plot: ${errorText(err)}`));
    }
  };
  return card;
}

/** A card that fetches ``/tasks/{id}/plots/{name}`` (one panel cell's with ``panel``, one
 * structure's of an averaged fit with ``structure``) and draws it. */
export function plotCard(taskId, name, options = {}) {
  const query = {};
  if (options.panel) query.panel = options.panel;
  if (options.structure) query.structure = options.structure;
  return figureCard(name, () => api(`/tasks/${encodeURIComponent(taskId)}/plots/${name}`,
    { query: Object.keys(query).length ? query : undefined }), options);
}

/** Run ``jobs`` (functions returning promises) with at most ``limit`` at a time. */
export async function limited(jobs, limit = 2) {
  const queue = [...jobs];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length) await queue.shift()();
  });
  await Promise.all(workers);
}

// The report's channel colours (bayesmmm.report._figure.PALETTE): colour-blind-safe.
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
  "#F0E442", "#332288", "#882255", "#44AA99", "#999933", "#AA4499"];
