/** Shared-memory layout between the filter thread and its match worker (Int32 cells). */
export const CTL = {
  // cells
  state: 0,
  entry: 1,
  length: 2,
  breakOnMatch: 3,
  /** Incremented by the worker as each pattern starts (timeout_scope => pattern). */
  progress: 4,
  ready: 5,
  /** First of one cell per pattern of the entry: 1 when it matched. */
  results: 8,
  // states
  IDLE: 0,
  REQUEST: 1,
  DONE: 2,
  RESIZE: 3,
} as const;
