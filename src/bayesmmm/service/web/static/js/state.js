// What the pages share while the dashboard is open (the file is never stored anywhere else).
export const state = {
  file: null,        // the File the user dropped or picked
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
