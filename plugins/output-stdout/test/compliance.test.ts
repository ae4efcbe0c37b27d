import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): what the stdout output wrote is the
// pipeline's standard output (its logs go to standard error).
outputCompliance(plugin, {
  package: import.meta.url,
  options: () => '',
  // stdout has no option of its own: the codec's options change instead
  changed: () => 'codec => rubydebug { metadata => true }',
  written: (run) => run.pipeline.stdout(),
});
