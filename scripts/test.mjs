#!/usr/bin/env node
// The test entry point: build every package (tsc -b), then run every compiled test file with
// node's own test runner. Extra arguments filter the files (substring match on the path).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

execFileSync('npx', ['tsc', '-b'], { stdio: 'inherit' });
// plugin READMEs carry options tables generated from the schemas: they must not drift
execFileSync(process.execPath, ['scripts/plugin-docs.mjs', '--check'], { stdio: 'inherit' });

const roots = ['core', ...['libs', 'plugins'].flatMap((top) => (existsSync(top) ? readdirSync(top).map((d) => join(top, d)) : [])), 'test'];
const files = [];
const walk = (dir) => {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
for (const r of roots) walk(r === 'test' ? join(r, 'dist') : join(r, 'dist', 'test'));
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...selected], { stdio: 'inherit' });
process.exit(r.status ?? 1);
