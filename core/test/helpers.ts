import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths and process helpers shared by core's tests. */
export const TEST_DIR = dirname(fileURLToPath(import.meta.url)); // core/dist/test
export const CORE_ROOT = resolve(TEST_DIR, '..', '..');
export const REPO_ROOT = resolve(CORE_ROOT, '..');
export const FIXTURES = join(CORE_ROOT, 'test', 'fixtures');
export const BIN = join(CORE_ROOT, 'bin', 'pipeline.js');

export function tempDir(prefix = 'pipeline-core-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the real `pipeline` CLI to completion. */
export function cli(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, input: opts.input, encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 120_000 });
}

export function cliAsync(args: string[], opts: { cwd?: string } = {}) {
  return spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
}
