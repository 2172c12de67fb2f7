// The validator's problem codes grouped into the checks a person reads as pass / warn / fail.
export const CHECKS = [
  ["Columns present", ["missing_column", "duplicate_role", "no_channels"]],
  ["Dates readable", ["bad_date_format", "dates_with_times"]],
  ["One row per period, in order", ["duplicate_dates", "unsorted_dates", "missing_dates",
    "irregular_frequency", "unbalanced_panel"]],
  ["Numbers without gaps", ["non_numeric", "categorical_column", "missing_values",
    "infinite_values"]],
  ["Spend is usable", ["negative_spend", "zero_channel", "zero_channel_in_panel",
    "constant_channel", "sparse_channel", "collinear_channels"]],
  ["Target is usable", ["negative_target", "constant_target"]],
  ["Controls vary", ["constant_control"]],
  ["Enough data for the model", ["too_few_rows", "few_rows", "short_for_seasonality",
    "adstock_too_long"]],
];

/** [{name, status: pass|warn|fail, problems: [...]}] for a validateData report. */
export function checkResults(report) {
  const problems = [
    ...report.errors.map((p) => ({ ...p, severity: "error" })),
    ...report.warnings.map((p) => ({ ...p, severity: "warning" })),
  ];
  const known = new Set(CHECKS.flatMap(([, codes]) => codes));
  const groups = [...CHECKS, ["Other checks", null]];
  return groups.map(([name, codes]) => {
    const mine = problems.filter((p) => (codes ? codes.includes(p.code) : !known.has(p.code)));
    const status = mine.some((p) => p.severity === "error") ? "fail"
      : mine.length ? "warn" : "pass";
    return { name, status, problems: mine };
  }).filter((check) => check.problems.length || check.name !== "Other checks");
}
