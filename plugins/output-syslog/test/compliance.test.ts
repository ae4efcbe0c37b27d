import net from 'node:net';
import { after } from 'node:test';
import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts) with a real TCP server per run as the
// syslog receiver: RFC 5424 over TCP with LF framing; what the output wrote is the MSG part of
// each message (after PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA).
// A syslog message carries no line end: the output cuts trailing blanks from what the codec
// encoded, as Logstash does (trimsEncoded).
const received = new Map<number, { server: net.Server; text: string }>();
after(async () => {
  for (const r of received.values()) await new Promise<void>((done) => r.server.close(() => done()));
});

async function receiver(port: number): Promise<void> {
  if (received.has(port)) return;
  const r = { server: net.createServer(), text: '' };
  r.server.on('connection', (s) => s.setEncoding('utf8').on('data', (d: string) => (r.text += d)));
  received.set(port, r);
  await new Promise<void>((done) => r.server.listen(port, '127.0.0.1', () => done()));
}

/** The MSG of each complete RFC 5424 line: what follows the eighth space-separated header field. */
function messages(text: string): string[] {
  const lines = text.split('\n');
  lines.pop(); // a partial last line is not a message yet
  return lines.map((l) => {
    let at = -1;
    for (let i = 0; i < 7; i++) at = l.indexOf(' ', at + 1);
    return l.slice(at + 1);
  });
}

outputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port} protocol => "tcp" rfc => "rfc5424"`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} protocol => "tcp" rfc => "rfc5424" appname => "CHANGED"`,
  ready: (run) => receiver(run.port),
  written: (run) => messages(received.get(run.port)?.text ?? ''),
  trimsEncoded: true,
});
