/** Helpers for the RELP reliability tests: a real rsyslogd sending over omrelp, and tallies of what arrived. */
import { readFileSync } from 'node:fs';
import { startRelay, type RelpOptions } from '../e2e/rsyslog.js';

export interface RelpSender {
  /** Appends lines to the file rsyslog tails (imfile), which it forwards over RELP. */
  append(lines: string[]): void;
  stop(): Promise<void>;
  log(): string;
}

export interface RelpSenderOptions extends RelpOptions {
  dir: string;
  port: number;
}

/**
 * A real rsyslogd (test/e2e/rsyslog.ts) tailing `<dir>/in.log` and forwarding every line over
 * omrelp to 127.0.0.1:port in RSYSLOG_ForwardFormat, retrying forever while the receiver is down
 * (its main queue holds what it has read meanwhile).
 */
export function startRelpSender(o: RelpSenderOptions): RelpSender {
  const relay = startRelay({ dir: o.dir, port: o.port, relp: { windowSize: o.windowSize ?? 128, tls: o.tls }, template: 'RSYSLOG_ForwardFormat', tag: 'app:' });
  return { append: (lines) => relay.write(lines), stop: () => relay.stop(), log: () => relay.log() };
}

/** How often each `line-N` ends a line of the output file (a line cut by kill -9 is left out). */
export function tallyLines(file: string): Map<number, number> {
  const seen = new Map<number, number>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return seen;
  }
  for (const l of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    const m = /\bline-(\d+)$/.exec(l);
    if (m) seen.set(Number(m[1]), (seen.get(Number(m[1])) ?? 0) + 1);
  }
  return seen;
}
