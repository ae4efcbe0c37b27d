import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real rsyslogd as a forwarding client: its own config and work directory, no system inputs
 * (no imuxsock/imklog), imfile tailing `input` and omfwd sending to our port. Started as a
 * foreground child and stopped by its PID.
 */
export interface RsyslogClient {
  input: string;
  stop(): Promise<void>;
  log(): string;
}

export interface ForwardOptions {
  dir: string;
  port: number;
  protocol: 'tcp' | 'udp';
  framing?: 'traditional' | 'octet-counted';
  template?: string;
  tls?: { ca: string; cert?: string; key?: string; authMode: 'anon' | 'x509/name'; permittedPeer?: string };
}

export function startRsyslog(o: ForwardOptions, lines: string[]): RsyslogClient {
  const work = join(o.dir, 'work');
  mkdirSync(work, { recursive: true });
  const input = join(o.dir, 'in.log');
  writeFileSync(input, lines.map((l) => l + '\n').join(''));
  const g = [`workDirectory="${work}"`, 'net.enableDNS="off"', 'maxMessageSize="64k"', 'localHostname="bench-client"'];
  const a = [`type="omfwd"`, `target="127.0.0.1"`, `port="${o.port}"`, `protocol="${o.protocol}"`, `template="${o.template ?? 'RSYSLOG_TraditionalForwardFormat'}"`];
  if (o.framing) a.push(`TCP_Framing="${o.framing}"`);
  if (o.protocol === 'tcp') a.push('action.resumeRetryCount="-1"', 'action.resumeInterval="1"');
  if (o.tls) {
    g.push(`DefaultNetstreamDriverCAFile="${o.tls.ca}"`);
    if (o.tls.cert) g.push(`DefaultNetstreamDriverCertFile="${o.tls.cert}"`, `DefaultNetstreamDriverKeyFile="${o.tls.key}"`);
    a.push('StreamDriver="gtls"', 'StreamDriverMode="1"', `StreamDriverAuthMode="${o.tls.authMode}"`);
    if (o.tls.permittedPeer) a.push(`StreamDriverPermittedPeers="${o.tls.permittedPeer}"`);
  }
  const conf = join(o.dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(${g.join(' ')})`,
      'module(load="imfile" mode="inotify")',
      `input(type="imfile" file="${input}" tag="demoapp:" facility="local0" severity="info" freshStartTail="off")`,
      `action(${a.join(' ')})`,
    ].join('\n') + '\n',
  );
  let output = '';
  const child: ChildProcess = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  child.once('error', (e) => {
    output += `\nspawn failed (is rsyslog installed?): ${e.message}`;
  });
  return {
    input,
    log: () => output,
    async stop() {
      if (exited || child.pid === undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
}
