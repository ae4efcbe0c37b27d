/** Helpers for the outputs' reliability tests: numbered TCP load, output tallies, the monitoring API, tmpfs. */
import { tallyLines, type Tally } from './tally.js';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

/** The line for number `n`: `seq-<n>` padded to `width` characters (newline not included). */
export function seqLine(n: number, width = 0): string {
  const s = `seq-${n}`;
  return width > s.length + 1 ? `${s} ${'p'.repeat(width - s.length - 1)}` : s;
}

export { duplicates, type Tally } from './tally.js';

/** Counts each `seq-N` line in `file`; a torn last line (kill -9 mid-write) is left out. */
export const tally = (file: string): Tally => tallyLines(file, 'seq-');

/** Numbers in [0, n) that are not in the tally. */
export function missingBelow(t: Tally, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!t.counts.has(i)) out.push(i);
  return out;
}

/** GET /_node/stats of a running pipeline, or undefined while the API does not answer. */
export function nodeStats(port: number): Promise<Record<string, any> | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/_node/stats', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Record<string, any>);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

/** Events the pipeline's inputs have pushed into the queue (`events.in`). */
export async function eventsIn(apiPort: number): Promise<number | undefined> {
  const s = await nodeStats(apiPort);
  return s === undefined ? undefined : Number(s.events?.in ?? 0);
}

/** Events held by the pipeline's queue (for the persisted queue: on disk, not yet acknowledged). */
export async function queueSize(apiPort: number): Promise<number | undefined> {
  const s = await nodeStats(apiPort);
  return s === undefined ? undefined : Number(s.pipelines?.[s.id]?.queue?.size ?? 0);
}

/**
 * Sends numbered lines over one TCP connection at about `perSecond`, in chunks every 10 ms,
 * respecting the socket's back-pressure; `stop` ends it and returns how many lines were handed to
 * the socket (what the pipeline read is a prefix of them).
 */
export function tcpLoad(port: number, o: { perSecond: number; from?: number; total?: number; width?: number }): { sent(): number; done: Promise<void>; stop(): Promise<number> } {
  let next = o.from ?? 0;
  const end = o.total === undefined ? Infinity : (o.from ?? 0) + o.total;
  const perTick = Math.max(1, Math.round(o.perSecond / 100));
  let stopped = false;
  let sock: Socket | undefined;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const tick = () => {
    if (stopped || sock === undefined) return;
    if (sock.writableNeedDrain) {
      sock.once('drain', tick);
      return;
    }
    let chunk = '';
    for (let i = 0; i < perTick && next < end; i++) chunk += seqLine(next++, o.width) + '\n';
    if (chunk) sock.write(chunk);
    if (next >= end) {
      sock.end(() => finish());
      return;
    }
    setTimeout(tick, 10);
  };
  const open = () => {
    sock = connect(port, '127.0.0.1', tick);
    sock.on('error', () => {
      if (next === (o.from ?? 0) && !stopped) setTimeout(open, 100); // not listening yet
      else finish();
    });
  };
  open();
  return {
    sent: () => next - (o.from ?? 0),
    done,
    async stop() {
      stopped = true;
      sock?.destroy();
      finish();
      return next - (o.from ?? 0);
    },
  };
}

