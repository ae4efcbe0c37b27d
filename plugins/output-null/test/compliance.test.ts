import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts). null writes nothing anywhere, so there
// is no written(): the checks rest on the events the pipeline handed it.
outputCompliance(plugin, {
  package: import.meta.url,
  options: () => '',
  // null has no option of its own: a common one changes instead
  changed: () => 'workers => 2',
});
