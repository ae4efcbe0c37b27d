/** Helpers for the RELP reliability tests: a real rsyslogd sending over omrelp, and tallies of what arrived. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RelpSender {
  /** Appends lines to the file rsyslog tails (imfile), which it forwards over RELP. */
  append(lines: string[]): void;
  stop(): Promise<void>;
  log(): string;
}

export interface RelpSenderOptions {
  dir: string;
  port: number;
  /** omrelp's window (unacknowledged frames in flight); librelp's default is 128. */
  windowSize?: number;
  tls?: { ca: string; cert: string; key: string; permittedPeer: string };
}

/**
 * Starts `rsyslogd -n` with its own config and work directory and no system inputs: imfile tails
 * `<dir>/in.log`, omrelp forwards every line to 127.0.0.1:port (RSYSLOG_ForwardFormat), retrying
 * forever while the receiver is down (the main queue holds what it has read meanwhile).
 */
export function startRelpSender(o: RelpSenderOptions): RelpSender {
  // a missing package is a failure with its name, not a timeout
  if (!['/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so', '/usr/lib/aarch64-linux-gnu/rsyslog/omrelp.so', '/usr/lib/rsyslog/omrelp.so'].some((p) => existsSync(p)))
    throw new Error('rsyslog omrelp is not installed: run scripts/setup-debian.sh (Debian packages rsyslog, rsyslog-relp)');
  const work = join(o.dir, 'rsyslog-work');
  mkdirSync(work, { recursive: true });
  const input = join(o.dir, 'in.log');
  writeFileSync(input, '');
  const a = ['type="omrelp"', 'target="127.0.0.1"', `port="${o.port}"`, 'action.resumeRetryCount="-1"', 'action.resumeInterval="1"'];
  if (o.windowSize) a.push(`windowSize="${o.windowSize}"`);
  if (o.tls) {
    a.push('tls="on"', `tls.caCert="${o.tls.ca}"`, `tls.myCert="${o.tls.cert}"`, `tls.myPrivKey="${o.tls.key}"`, 'tls.authMode="name"', `tls.permittedPeer=["${o.tls.permittedPeer}"]`);
  }
  const conf = join(o.dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${work}" net.enableDNS="off" maxMessageSize="64k" localHostname="relay")`,
      'module(load="imfile" mode="inotify")',
      'module(load="omrelp")',
      `input(type="imfile" file="${input}" tag="app:" freshStartTail="off")`,
      `action(${a.join(' ')})`,
    ].join('\n') + '\n',
  );
  let output = '';
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.once('error', (e) => (output += `\nrsyslogd could not start (scripts/setup-debian.sh installs rsyslog and rsyslog-relp): ${e.message}`));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    append(lines) {
      writeFileSync(input, lines.map((l) => l + '\n').join(''), { flag: 'a' });
    },
    log: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
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
