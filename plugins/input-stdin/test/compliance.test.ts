import { inputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts) through the pipeline's standard input,
// left open between sends (its end would end the input).
inputCompliance(plugin, {
  package: import.meta.url,
  options: () => '',
  // stdin has no option of its own: the codec's options change instead
  changed: () => 'codec => line { charset => "ASCII" }',
  send: (run, data) => new Promise<void>((resolve, reject) => run.pipeline.stdin.write(Buffer.concat(data), (err) => (err ? reject(err) : resolve()))),
});
