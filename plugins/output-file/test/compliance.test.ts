import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): what the file output wrote is the file.
outputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `path => "${join(run.dir, 'out.log')}"`,
  changed: (run) => `path => "${join(run.dir, 'out.log')}" flush_interval => 1`,
  written: (run) => (existsSync(join(run.dir, 'out.log')) ? readFileSync(join(run.dir, 'out.log'), 'utf8') : ''),
});
