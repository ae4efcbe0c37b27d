/**
 * Test helpers for the network inputs (`@pipeline/input-tcp/testing`): a sink that records what
 * an input pushes and can simulate a full queue, a poll-until helper, and a runner that starts an
 * input instance and finds the port it bound.
 */
import { spawn } from 'node:child_process';
import type { Event, InputSink } from '@pipeline/core';

export interface RecordingSink extends InputSink {
  readonly events: Event[];
  /** Simulates a full queue (false) or makes room again (true). */
  setWritable(w: boolean): void;
  writable: boolean;
}

export function recordingSink(): RecordingSink {
  const events: Event[] = [];
  let writable = true;
  let waiters: (() => void)[] = [];
  return {
    events,
    push: (e) => void events.push(e),
    get writable() {
      return writable;
    },
    whenWritable: () => (writable ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    setWritable(w) {
      writable = w;
      if (w) {
        const ws = waiters;
        waiters = [];
        for (const r of ws) r();
      }
    },
  };
}

/** Polls `pred` every 10 ms until it is true; fails after `ms` with `what`. */
export async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`), feeding `input` on stdin. */
export function runCommand(cmd: string, args: string[], input?: string | Buffer, timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(new Error(`${cmd} could not run (is it installed?): ${e.message}`));
    });
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}
