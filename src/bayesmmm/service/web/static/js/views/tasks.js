// Page 3: the task list (listTasks) and one task's live status (getTaskStatus).
import { api } from "../api.js";
import { clear, errorText, fill, fmt, h } from "../dom.js";
import { forPage } from "../advice.js";
import { useTask } from "../state.js";
import { fitCells, FIT_COLUMNS, isAveraged, structuresTable, structureText } from "./pick.js";

const FINAL = ["completed", "failed", "cancelled"];

export function render(root, taskId) {
  return taskId ? renderTask(root, taskId) : renderList(root);
}

function when(text) {
  return text ? new Date(text).toLocaleString() : "–";
}

function seconds(value) {
  return value === null || value === undefined ? "–" : `${fmt(value, 3)} s`;
}

// 40 -> "40 s", 200 -> "3 min", 9000 -> "2.5 h" (the CLI's --dry-run rounds alike).
function human(value) {
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

// getTaskStatus's estimated_seconds as "about 40 s (20–90 s)", and the actual time once
// the fit is done; in short why there is none otherwise (the full note is the title).
function estimateText(s) {
  const e = s.estimated_seconds;
  const took = s.actual_seconds === null || s.actual_seconds === undefined ? ""
    : ` · took ${fmt(s.actual_seconds, 3)} s`;
  if (!e) {
    if (s.phase === "estimating") return "estimating…";
    const none = FINAL.includes(s.status) || (s.estimate_note || "").startsWith("not estimated");
    return none ? `not estimated${took}` : "estimated when a worker starts the job";
  }
  const [low, high] = [human(e.low), human(e.high)];
  const [lowNumber, lowUnit] = low.split(" ");
  const range = lowUnit === high.split(" ")[1] ? `${lowNumber}–${high}` : `${low}–${high}`;
  return `about ${human(e.expected)} (${range})${took}`;
}

function renderList(root) {
  const body = h("div", { id: "task-list" }, h("p", { class: "muted" }, "Loading…"));
  fill(root, h("div", { class: "row" }, h("h1", {}, "Tasks"), h("span", { class: "spacer" }),
    h("a", { class: "button primary", href: "#/data" }, "New fit")), h("section", { class: "card" }, body));
  let timer = null;
  const load = async () => {
    try {
      const list = await api("/tasks", { query: { limit: 50 } });
      clear(body);
      if (!list.tasks.length) {
        body.append(h("p", { class: "muted" }, "No tasks yet. "), h("a", { href: "#/data" }, "Start one from your data."));
      } else {
        body.append(h("p", { class: "muted small" }, `${list.total} task${list.total === 1 ? "" : "s"}, newest first`),
          h("div", { class: "table-wrap" }, h("table", { class: "data" },
            h("thead", {}, h("tr", {}, ["Task", ...FIT_COLUMNS, "Status", "Progress", "Running for", ""].map((c) => h("th", {}, c)))),
            h("tbody", {}, list.tasks.map(taskRow)))));
      }
    } catch (err) {
      fill(body, h("p", { class: "summary-line bad" }, errorText(err)));
    }
    timer = setTimeout(load, 4000);
  };
  load();
  return () => clearTimeout(timer);
}

function taskRow(t) {
  return h("tr", { dataset: { task: t.task_id, status: t.status } },
    h("td", {}, h("a", { href: `#/tasks/${t.task_id}` }, t.task_id.slice(0, 10) + "…")),
    fitCells(t),
    h("td", {}, h("span", { class: `badge ${t.status}` }, t.status)),
    h("td", {}, `${Math.round(100 * t.progress)}%`),
    h("td", {}, seconds(t.seconds_running)),
    h("td", {}, t.status === "completed" ? h("a", { href: `#/results/${t.task_id}` }, "results") : ""));
}

function renderTask(root, taskId) {
  useTask(taskId);
  const card = h("section", { class: "card", id: "task-status" }, h("p", { class: "muted" }, "Loading…"));
  fill(root, h("div", { class: "row" }, h("h1", {}, "Task"), h("span", { class: "spacer" }),
    h("a", { href: "#/tasks" }, "all tasks")), card);
  let timer = null;
  let stopped = false;
  const poll = async () => {
    try {
      const status = await api(`/tasks/${encodeURIComponent(taskId)}`);
      drawStatus(card, status);
      if (FINAL.includes(status.status)) return;
    } catch (err) {
      fill(card, h("p", { class: "summary-line bad" }, errorText(err)));
      if (err.status === 404 || err.status === 401) return;
    }
    if (!stopped) timer = setTimeout(poll, 1000);
  };
  poll();
  return () => { stopped = true; clearTimeout(timer); };
}

function drawStatus(card, s) {
  const percent = Math.round(100 * s.progress);
  const sampler = s.sampler || {};
  const actions = [];
  if (s.status === "completed") {
    actions.push(h("a", { class: "button primary", id: "open-results", href: `#/results/${s.task_id}` }, "Open results →"),
      h("a", { class: "button", href: `#/optimize/${s.task_id}` }, "Budget optimizer"),
      h("a", { class: "button", href: `#/scenarios/${s.task_id}` }, "Scenarios"));
  } else if (!FINAL.includes(s.status)) {
    actions.push(h("button", { type: "button", id: "cancel-task", onclick: async (e) => {
      e.target.disabled = true;
      try { await api(`/tasks/${encodeURIComponent(s.task_id)}/cancel`, { method: "POST" }); } catch (err) {
        card.append(h("p", { class: "summary-line bad" }, errorText(err)));
      }
    } }, "Cancel"));
  }
  const metrics = s.fit_metrics || {};
  fill(card, 
    h("div", { class: "row" }, h("h2", {}, s.input_name), h("span", { class: `badge ${s.status}`, id: "task-state" }, s.status)),
    h("div", { class: "progress", role: "progressbar", "aria-valuenow": String(percent),
      "aria-valuemin": "0", "aria-valuemax": "100" }, h("div", { style: `width:${percent}%` })),
    h("p", { class: "muted small", id: "task-phase" }, `${percent}% · ${s.phase || s.status}`),
    h("dl", { class: "kv" },
      h("dt", {}, "Task id"), h("dd", {}, s.task_id),
      h("dt", {}, "Created"), h("dd", {}, when(s.created_at)),
      h("dt", {}, "Waited / ran"), h("dd", {}, `${seconds(s.seconds_queued)} / ${seconds(s.seconds_running)}`),
      h("dt", {}, "Fit time"), h("dd", { id: "task-estimate", title: s.estimate_note || "" }, estimateText(s)),
      h("dt", {}, "Sampler"), h("dd", {}, `${sampler.chains} chains × ${sampler.warmup} warm-up × ${sampler.draws} draws`),
      isAveraged(s) ? [h("dt", {}, "Structure"), h("dd", { id: "task-structure" },
        s.structures ? structureText(s) : "automatic structure search: a pilot fit per candidate, then full fits of the survivors")] : null,
      s.attempts > 1 ? [h("dt", {}, "Attempts"), h("dd", {}, String(s.attempts))] : null,
      Object.keys(metrics).length ? [h("dt", {}, "Fit"), h("dd", {},
        Object.entries(metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(" · "))] : null,
      s.divergences ? [h("dt", {}, "Divergences"), h("dd", {}, String(s.divergences))] : null),
    s.error ? h("div", { class: "check fail", id: "task-error" }, h("strong", {}, "The fit failed: "), forPage(s.error.message)) : null,
    s.verdict ? h("p", { class: `verdict ${s.verdict.status}`, id: "task-verdict" }, `Verdict: ${s.verdict.headline}`) : null,
    s.warnings && s.warnings.length ? h("div", { class: "check warn" }, h("strong", {}, "Convergence notes"),
      h("ul", { class: "notes" }, s.warnings.map((w) => h("li", {}, forPage(w))))) : null,
    structuresTable(s),
    h("div", { class: "row", style: "margin-top:.6rem" }, actions));
}
