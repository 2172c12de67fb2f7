// What the pages share while the dashboard is open (the file is never stored anywhere else).
export const state = {
  file: null,        // the File the user dropped or picked, or {name, source} (a named source)
  sources: null,     // listSources: the operator's named sources (none: upload only)
  inspect: null,     // inspectData's answer: columns, n_rows, guess
  mapping: null,     // {date_column, y_column, channel_columns, control_columns, panel_columns}
  validation: null,  // validateData's report for file + mapping
  options: null,     // getModelOptions
  taskId: null,      // the task last started or opened
};

/** Remember the task the pages after "Tasks" work on. */
export function useTask(taskId) {
  if (taskId) {
    state.taskId = taskId;
    sessionStorage.setItem("bayesmmm.task", taskId);
  }
  return state.taskId || sessionStorage.getItem("bayesmmm.task");
}

/** The dropped file (or the named source) and the column mapping as multipart fields
 * (validateData, exploreData, runMMMAsync), plus ``extra`` fields. */
export function dataForm(extra = {}) {
  const m = state.mapping;
  const form = new FormData();
  if (state.file.source) form.append("source", JSON.stringify(state.file.source));
  else form.append("file", state.file, state.file.name);
  form.append("date_column", m.date_column);
  form.append("y_column", m.y_column);
  for (const key of ["channel_columns", "control_columns", "panel_columns"]) {
    if (m[key].length) form.append(key, m[key].join(","));
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && value !== null && value !== "") form.append(key, value);
  }
  return form;
}
