/** Suppress: a match only ends the search here (or goes on at its `continue`). Keeps no operations. */
import { onMatch, type CorrelationType } from './kind.js';

export const suppress: CorrelationType = {
  match: onMatch(() => {}),
};
