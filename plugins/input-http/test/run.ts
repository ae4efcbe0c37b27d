/**
 * A real `pipeline start` (core/bin/pipeline.js) in a child process, for the tests that run the
 * http input as a user would: a config file, a port, an output file; and a keep-alive client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const BIN = join(REPO, 'core/bin/pipeline.js');
export const SLOW_OUTPUT = join(REPO, 'core/test/fixtures/plugins');

export class Pipeline {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private err = '';
  constructor(cwd: string, args: string[], nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, BIN, 'start', '--log.format', 'json', '--api.enabled', 'false', '--path.data', join(cwd, 'data'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.resume();
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err += d));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }
  get stderr(): string {
    return this.err;
  }
  /** Resolves once the http input logs that it listens. */
  async listening(ms = 30_000): Promise<void> {
    const t0 = Date.now();
    while (!/"msg":"listening"/.test(this.err)) {
      if (this.child.exitCode !== null) throw new Error(`pipeline exited: ${this.err}`);
      if (Date.now() - t0 > ms) throw new Error(`the http input did not listen: ${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** Resident set size of the pipeline process, in bytes (Linux /proc). */
  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return Number(m![1]) * 1024;
  }
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** POSTs `body` on `agent`; resolves with the status code. */
export function post(agent: http.Agent, port: number, body: string | Buffer, contentType = 'application/json'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON lines of a file (none if it does not exist yet). */
export function jsonLines(path: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
