import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers for system tests that run the real `pipeline` command. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // test/dist/e2e -> repo
export const BIN = join(REPO, 'core', 'bin', 'pipeline.js');

export function tempDir(prefix = 'pipeline-e2e-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Running {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `pipeline start ARGS` with stdout going to `stdout` (a file descriptor or 'pipe'). */
export function startPipeline(args: string[], o: { cwd?: string; stdout?: number | 'pipe' | 'ignore'; env?: Record<string, string> } = {}): Running {
  const child = spawn(process.execPath, [BIN, 'start', '--log.format', 'json', ...args], {
    cwd: o.cwd ?? REPO,
    stdio: ['pipe', o.stdout ?? 'ignore', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exited };
}

export function logRecords(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
