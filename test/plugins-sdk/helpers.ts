import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Scaffold from '../../core/src/scaffold/index.js';

/** Paths and process helpers for the plugin SDK system tests (compiled to test/dist/plugins-sdk). */
export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..', '..');
export const FIXTURES = join(REPO_ROOT, 'test', 'plugins-sdk', 'fixtures');
export const BIN = join(REPO_ROOT, 'core', 'bin', 'pipeline.js');
export const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Inside `node --test`, this variable makes a nested `node --test` report to the parent runner
  // instead of printing its results; the scaffold's own test run must print them.
  delete childEnv.NODE_TEST_CONTEXT;
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: childEnv, timeout: 180_000 });
}

/** The real `pipeline` CLI, run to completion. */
export function cli(args: string[], cwd: string): SpawnSyncReturns<string> {
  return run(process.execPath, [BIN, ...args], cwd);
}

/** Describes a finished process for assertion messages. */
export function outputOf(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * The scaffold generator. Loaded from core's build by path: `@pipeline/core` does not export it
 * (it is CLI machinery, not plugin API).
 */
export async function loadScaffold(): Promise<typeof Scaffold> {
  return (await import(pathToFileURL(join(REPO_ROOT, 'core', 'dist', 'src', 'scaffold', 'index.js')).href)) as typeof Scaffold;
}

/**
 * Gives a scaffolded package what `npm install` would give it outside this repository, without
 * the network: @pipeline/core linked to this checkout's core, TypeScript and the Node types.
 */
export function linkDevDependencies(pkgDir: string): void {
  const nm = join(pkgDir, 'node_modules');
  mkdirSync(join(nm, '@pipeline'), { recursive: true });
  mkdirSync(join(nm, '@types'), { recursive: true });
  mkdirSync(join(nm, '.bin'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'core'), join(nm, '@pipeline', 'core'), 'dir');
  symlinkSync(join(REPO_ROOT, 'node_modules', '@types', 'node'), join(nm, '@types', 'node'), 'dir');
  symlinkSync(join(REPO_ROOT, 'node_modules', 'typescript'), join(nm, 'typescript'), 'dir');
  symlinkSync(join('..', 'typescript', 'bin', 'tsc'), join(nm, '.bin', 'tsc'));
}
