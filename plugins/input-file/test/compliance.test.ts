import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): each message a line appended to a file
// the input follows (found by its glob, read from its beginning).
inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `path => ["${join(run.dir, 'logs', '*.log')}"] start_position => "beginning" stat_interval => 0.2 discover_interval => 1`,
  changed: (run) => `path => ["${join(run.dir, 'logs', '*.log')}"] start_position => "beginning" stat_interval => 0.3 discover_interval => 1`,
  async send(run, data) {
    mkdirSync(join(run.dir, 'logs'), { recursive: true });
    appendFileSync(join(run.dir, 'logs', 'app.log'), Buffer.concat(data.flatMap((m) => [m, Buffer.from('\n')])));
  },
});
