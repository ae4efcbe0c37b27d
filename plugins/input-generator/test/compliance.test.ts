import { inputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): the generator produces the run's
// messages from its options, once each; the changed block generates other messages.
const lines = (messages: readonly string[]) => `lines => [${messages.map((m) => `'${m}'`).join(', ')}] count => 1`;

inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => lines(run.messages),
  changed: (run) => lines(run.messages),
});
