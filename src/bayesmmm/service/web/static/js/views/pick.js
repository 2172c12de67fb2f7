// "Which task?" for pages that work on a finished fit.
import { api } from "../api.js";
import { clear, errorText, fill, h } from "../dom.js";

export async function pickTask(root, title, view) {
  fill(root, h("h1", {}, title));
  const card = h("section", { class: "card" }, h("p", { class: "muted" }, "Loading finished tasks…"));
  root.append(card);
  try {
    const list = await api("/tasks", { query: { status: "completed", limit: 20 } });
    clear(card);
    if (!list.tasks.length) {
      card.append(h("p", {}, "No finished fit yet. "), h("a", { href: "#/data" }, "Start one from your data →"));
      return;
    }
    card.append(h("p", {}, "Choose a finished fit:"), h("ul", {}, list.tasks.map((t) => h("li", {},
      h("a", { href: `#/${view}/${t.task_id}` }, `${t.input_name}`),
      h("span", { class: "muted small" }, ` · ${new Date(t.created_at).toLocaleString()} · ${t.task_id}`)))));
  } catch (err) {
    fill(card, h("p", { class: "summary-line bad" }, errorText(err)));
  }
}
