// The dashboard's entry point: hash routes (#/view/task_id), the health line, the API key.
import { api, apiKey, setApiKey } from "./api.js";
import { errorText, hideAlert, showAlert } from "./dom.js";
import * as data from "./views/data.js";
import * as explore from "./views/explore.js";
import * as model from "./views/model.js";
import * as optimize from "./views/optimize.js";
import * as results from "./views/results.js";
import * as scenarios from "./views/scenarios.js";
import * as tasks from "./views/tasks.js";

const VIEWS = { data, explore, model, tasks, results, optimize, scenarios };
// Views that belong to a page of the menu.
const NAV = { explore: "data" };
let cleanup = null;

async function route() {
  const [name, arg] = location.hash.replace(/^#\/?/, "").split("/");
  const view = VIEWS[name] ? name : "data";
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.view === (NAV[view] || view));
  }
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  hideAlert();
  const root = document.getElementById("view");
  document.body.dataset.view = view;
  try {
    cleanup = await VIEWS[view].render(root, arg ? decodeURIComponent(arg) : null);
  } catch (err) {
    showAlert(errorText(err));
  }
}

async function health() {
  const box = document.getElementById("health");
  const text = box.querySelector(".text");
  try {
    const h = await api("/health");
    const ex = h.executor || {};
    const workers = ex.workers !== undefined ? ` · ${ex.workers} worker${ex.workers === 1 ? "" : "s"}` : "";
    text.textContent = `API ${h.status} · v${h.version}${workers}`;
    box.title = `database ${h.database}; executor ${ex.executor || "?"}`;
    box.className = `health ${h.status === "ok" ? "ok" : "bad"}`;
  } catch (err) {
    text.textContent = "API unreachable";
    box.title = errorText(err);
    box.className = "health bad";
  }
}

function setupKey() {
  const details = document.getElementById("apikey");
  const input = document.getElementById("apikey-input");
  input.value = apiKey();
  document.getElementById("apikey-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setApiKey(input.value.trim());
    details.open = false;
    showAlert(input.value.trim() ? "API key set for this browser tab." : "API key cleared.", "info");
    route();
  });
  document.addEventListener("bayesmmm:unauthorized", () => { details.open = true; input.focus(); });
}

document.querySelector("#alert .alert-close").addEventListener("click", hideAlert);
window.addEventListener("hashchange", route);
setupKey();
health();
setInterval(health, 15000);
route();
