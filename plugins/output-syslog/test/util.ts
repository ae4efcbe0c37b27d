import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Running the real `pipeline` command (the repository's test/e2e/util.ts, the parts used here). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..'); // plugins/output-syslog/dist/test -> repo
export const BIN = join(REPO, 'core', 'bin', 'pipeline.js');

export function tempDir(prefix = 'output-syslog-test-'): { dir: string; cleanup(): void } {
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

/** `pipeline start -e CONFIG ARGS`, logs as JSON on stderr. */
export function startPipeline(config: string, args: string[] = [], cwd = REPO): Running {
  const child = spawn(process.execPath, [BIN, 'start', '--log.format', 'json', '-e', config, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exited };
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

/** A CA and a server certificate for localhost/127.0.0.1 in `dir`, made by `pipeline certs` as a user makes them. */
export function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, 'certs', ...args, '--dir', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pipeline certs ${args.join(' ')}: ${r.stderr}`);
  };
  run('create-ca');
  run('create-server', '--dns', 'localhost', '--ip', '127.0.0.1');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}
