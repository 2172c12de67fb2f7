// Advice phrased for this dashboard. The service words its advice as request fields
// ("warmup=2000 and draws=2000"); here each field is named as the page that sets it
// names it ("“Warm-up draws per chain” 2000 … on the Model page"). The pages take their
// field labels from FIELDS too, so the advice and the form always agree.

/** Request field -> [label on the page, page]. */
export const FIELDS = {
  preset: ["Preset", "Model"],
  adstock: ["Adstock (carry-over)", "Model"],
  saturation: ["Saturation", "Model"],
  forms: ["Structure", "Model"],
  trend: ["Trend", "Model"],
  adstock_max_lag: ["Adstock length (periods)", "Model"],
  yearly_seasonality: ["Yearly seasonality (Fourier modes)", "Model"],
  chains: ["Chains", "Model"],
  warmup: ["Warm-up draws per chain", "Model"],
  draws: ["Draws per chain", "Model"],
  target_accept: ["Target acceptance", "Model"],
  seed: ["Seed", "Model"],
  holidays: ["Holiday countries", "Model"],
  n_periods: ["Periods to plan", "Budget"],
  budget: ["Total budget", "Budget"],
};

export function label(field) {
  return (FIELDS[field] || [field])[0];
}

/** ``text`` with each ``field=number`` of a field this dashboard sets named as the page
 * names it, and where: "(e.g. “Warm-up draws per chain” 2000 and “Draws per chain” 2000
 * on the Model page)". Other text is unchanged. */
export function forPage(text) {
  if (typeof text !== "string") return text;
  const pattern = /\b([a-z][a-z_]*)=(-?\d+(?:\.\d+)?)(?!\w|\.\d)/g;
  const pages = [];
  let out = "";
  let end = -1;
  let from = 0;
  for (const match of text.matchAll(pattern)) {
    const field = FIELDS[match[1]];
    if (!field) continue;
    if (!pages.includes(field[1])) pages.push(field[1]);
    out += `${text.slice(from, match.index)}“${field[0]}” ${match[2]}`;
    from = match.index + match[0].length;
    end = out.length;
  }
  if (!pages.length) return text;
  out += text.slice(from);
  const where = ` on the ${pages.join(" and ")} page${pages.length > 1 ? "s" : ""}`;
  return out.slice(0, end) + where + out.slice(end);
}
