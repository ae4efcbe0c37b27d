/**
 * A real `pipeline start` in a child process, as the compliance suite drives it: JSON logs read
 * from its standard error, its standard input and output at hand, its monitoring API found from
 * its log, signals sent to it, and the report of what it left open when it stopped
 * (compliance-runner.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LeftOpen } from './compliance-runner.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The command's entry with the left-open report (core/dist/src/testing/compliance-runner.js). */
export const RUNNER = join(HERE, 'compliance-runner.js');

export interface LogRecord {
  /** 'trace' ... 'fatal' (the command's JSON log format). */
  level?: string;
  msg?: string;
  plugin?: string;
  [key: string]: unknown;
}

/** Polls `cond` until it holds; false after `ms` (the caller says what was missing). */
export async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return true;
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
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

export interface StartOptions {
  cwd: string;
  /** Where the runner writes its left-open report. */
  report: string;
  env?: Record<string, string>;
}

export class PipelineProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private err = '';
  private partial = '';
  private readonly records: LogRecord[] = [];
  private readonly out: Buffer[] = [];
  private outText: string | undefined;
  /** Log records before this index belong to earlier phases (see `mark`). */
  private since = 0;
  private exitCode: number | null | undefined;

  private constructor(args: string[], private readonly o: StartOptions) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, PIPELINE_COMPLIANCE_REPORT: o.report };
    delete env.NODE_TEST_CONTEXT;
    this.child = spawn(process.execPath, [RUNNER, 'start', '--log.format', 'json', ...args], { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stdin!.on('error', () => {}); // a pipeline that exited early: writes fail, the checks say why
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out.push(d);
      this.outText = undefined;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.onErr(d));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  static start(args: string[], o: StartOptions): PipelineProcess {
    return new PipelineProcess(args, o);
  }

  private onErr(d: string): void {
    this.err += d;
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        this.records.push(JSON.parse(l) as LogRecord);
      } catch {
        // a line of a stack trace that starts with "{": kept in stderr()
      }
    }
  }

  get stdin(): NodeJS.WritableStream {
    return this.child.stdin!;
  }

  /** Everything the pipeline wrote to standard output so far. */
  stdout(): string {
    return (this.outText ??= Buffer.concat(this.out).toString('utf8'));
  }

  stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  logs(all = false): LogRecord[] {
    return all ? this.records : this.records.slice(this.since);
  }

  /** Starts a new phase: `waitForLog` and `logs()` see only records logged from now on. */
  mark(): void {
    this.since = this.records.length;
  }

  /** Waits for a record of the current phase matching `pred`; throws, naming `what`, after `ms`. */
  async waitForLog(pred: (r: LogRecord) => boolean, what: string, ms = 20_000): Promise<LogRecord> {
    let found: LogRecord | undefined;
    const ok = await until(() => (found = this.logs().find(pred)) !== undefined || !this.running, ms);
    if (found) return found;
    throw new Error(`${ok ? 'the pipeline exited' : `timed out after ${ms} ms`} waiting for ${what}${this.problems()}`);
  }

  /** Warnings and errors the pipeline logged (all phases), for assertion messages. */
  problems(): string {
    const bad = this.records.filter((r) => r.level === 'warn' || r.level === 'error' || r.level === 'fatal').map((r) => `  ${JSON.stringify(r)}`);
    const tail = this.err
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('{'))
      .slice(-10)
      .map((l) => `  ${l}`);
    const parts = [...(bad.length ? ['\nwarnings and errors it logged:', ...bad.slice(-15)] : []), ...(tail.length ? ['\nother output on its standard error:', ...tail] : [])];
    return parts.join('\n');
  }

  /** The monitoring API's base URL, once the pipeline logged it. */
  async api(): Promise<string> {
    if (this.apiBase) return this.apiBase;
    const listening = (x: LogRecord) => x.msg === 'monitoring API listening';
    if (!(await until(() => this.records.some(listening) || !this.running, 20_000)) || !this.records.some(listening)) throw new Error(`the monitoring API did not start${this.problems()}`);
    return (this.apiBase = `http://${String(this.records.find(listening)!.address)}`);
  }
  private apiBase: string | undefined;

  async stats(): Promise<Record<string, any>> {
    return (await (await fetch(`${await this.api()}/_node/stats`)).json()) as Record<string, any>;
  }

  async metrics(): Promise<string> {
    return (await fetch(`${await this.api()}/metrics`)).text();
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Waits for the exit; kills it after `ms` (the checks then fail on the missing report). */
  async exit(ms = 30_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the runner found still open after the pipeline stopped; undefined if it wrote no report. */
  leftOpen(): LeftOpen | undefined {
    return existsSync(this.o.report) ? (JSON.parse(readFileSync(this.o.report, 'utf8')) as LeftOpen) : undefined;
  }
}

/** `pipeline start -t` with these arguments, run to completion. */
export function checkOnly(args: string[], cwd: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [RUNNER, 'start', '-t', ...args], { cwd, encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
