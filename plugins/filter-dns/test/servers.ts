/**
 * Real name servers on loopback for the dns filter's tests: Debian's dnsmasq answering from a
 * hosts file (scripts/setup-debian.sh installs it), and a tiny UDP DNS responder whose answers come
 * late or never, which dnsmasq forwards a zone to ("a slow upstream").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DNSMASQ = '/usr/sbin/dnsmasq';

/** A UDP port free on 127.0.0.1 just now (TCP checked too: dnsmasq binds both). */
export async function freePort(): Promise<number> {
  for (;;) {
    const s = createSocket('udp4');
    const port = await new Promise<number>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)));
    s.close();
    const net = await import('node:net');
    const ok = await new Promise<boolean>((resolve) => {
      const t = net.createServer();
      t.once('error', () => resolve(false));
      t.listen(port, '127.0.0.1', () => t.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

export interface Dnsmasq {
  port: number;
  /** `127.0.0.1:<port>`, for `nameserver`. */
  address: string;
  dir: string;
  /** Rewrites the hosts file and has dnsmasq read it again (SIGHUP); resolves once it answers from it. */
  setHosts(text: string): Promise<void>;
  stop(): Promise<void>;
}

let generation = 0;

/**
 * dnsmasq on 127.0.0.1:<free port>, answering from a hosts file only (no upstream, no cache): names
 * under `.test` and the reverse zones of 192.0.2.0/24, 198.51.100.0/24 and 2001:db8::/32 it does
 * not know are NXDOMAIN; `forward` sends other zones to a server of the test's
 * (`/slow.test/127.0.0.1#5300`).
 */
export async function startDnsmasq(hosts: string, forward: string[] = []): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'dns-filter-'));
  chmodSync(dir, 0o755); // dnsmasq reads the hosts file again as "nobody" after SIGHUP
  const hostsFile = join(dir, 'hosts');
  const write = (text: string) => {
    const probe = `probe${++generation}.test`;
    writeFileSync(hostsFile, `${text}\n192.0.2.254 ${probe}\n`, { mode: 0o644 });
    return probe;
  };
  let probe = write(hosts);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = [
      '--no-daemon',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hostsFile}`,
      '--conf-file=/dev/null',
      `--pid-file=${join(dir, 'pid')}`,
      '--cache-size=0',
      '--dns-forward-max=1000',
      '--log-facility=-',
      '--local=/test/',
      '--local=/2.0.192.in-addr.arpa/',
      '--local=/100.51.198.in-addr.arpa/',
      '--local=/8.b.d.0.1.0.0.2.ip6.arpa/',
      ...forward.map((f) => `--server=${f}`),
    ];
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const r = new Resolver({ timeout: 200, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    const up = await Promise.race([waitFor(r, probe, '192.0.2.254').then(() => true), exited.then(() => false)]);
    if (!up) {
      if (attempt < 4 && /in use/i.test(stderr)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`dnsmasq did not start: ${stderr}`);
    }
    return {
      port,
      address: `127.0.0.1:${port}`,
      dir,
      async setHosts(text: string) {
        probe = write(text);
        child.kill('SIGHUP');
        await waitFor(r, probe, '192.0.2.254');
      },
      async stop() {
        await stopChild(child, exited);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

async function waitFor(r: Resolver, name: string, address: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      const a = await r.resolve4(name);
      if (a[0] === address) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`no answer for ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- a tiny DNS responder ----

export interface Question {
  id: number;
  name: string;
  type: number;
}

/** What the responder does with a question: answer (an IPv4 address for A, a name for PTR) after `delayMs`, or drop it. */
export interface Reply {
  answer?: string;
  delayMs?: number;
  drop?: boolean;
  /** NXDOMAIN */
  nx?: boolean;
}

export interface TinyDns {
  port: number;
  address: string;
  /** Questions received, in order (a resend of a query too). */
  received: Question[];
  /** Queries for a name: distinct message ids (a client's resend of one query keeps its id). */
  queries(name: string): number;
  /** Most questions received and not yet answered (nor dropped) at one time. */
  maxOutstanding: number;
  close(): Promise<void>;
}

/** `reply` gets the question and which query for that name it belongs to (1, 2, ...: resends count with their query). */
export async function startTinyDns(reply: (q: Question, nth: number) => Reply): Promise<TinyDns> {
  const sock: Socket = createSocket('udp4');
  const seen = new Map<string, Set<number>>();
  const state: TinyDns = {
    port: 0,
    address: '',
    received: [],
    queries: (name) => seen.get(name)?.size ?? 0,
    maxOutstanding: 0,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
  let outstanding = 0;
  const timers = new Set<NodeJS.Timeout>();
  sock.on('message', (msg, rinfo) => {
    const q = parseQuestion(msg);
    if (q === undefined) return;
    state.received.push(q);
    let ids = seen.get(q.name);
    if (ids === undefined) seen.set(q.name, (ids = new Set()));
    ids.add(q.id);
    const nth = ids.size;
    const r = reply(q, nth);
    if (r.drop) return;
    outstanding++;
    if (outstanding > state.maxOutstanding) state.maxOutstanding = outstanding;
    const send = () => {
      outstanding--;
      sock.send(response(msg, q, r), rinfo.port, rinfo.address);
    };
    if (!r.delayMs) send();
    else {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, r.delayMs);
      timers.add(t);
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  state.port = sock.address().port;
  state.address = `127.0.0.1:${state.port}`;
  const close = state.close;
  state.close = () => {
    for (const t of timers) clearTimeout(t);
    return close();
  };
  return state;
}

function parseQuestion(msg: Buffer): (Question & { end: number }) | undefined {
  if (msg.length < 17 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  i++;
  if (i + 4 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i), end: i + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function response(query: Buffer, q: Question & { end?: number }, r: Reply): Buffer {
  const question = query.subarray(12, (q as { end: number }).end);
  const rr: Buffer[] = [];
  if (!r.nx && r.answer !== undefined) {
    let rdata: Buffer;
    if (q.type === 1) rdata = Buffer.from(r.answer.split('.').map(Number));
    else if (q.type === 12) rdata = encodeName(r.answer);
    else rdata = Buffer.alloc(0);
    if (rdata.length > 0) {
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0); // the question's name
      fixed.writeUInt16BE(q.type, 2);
      fixed.writeUInt16BE(1, 4);
      fixed.writeUInt32BE(0, 6); // TTL 0: nothing caches it
      fixed.writeUInt16BE(rdata.length, 10);
      rr.push(fixed, rdata);
    }
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8180 | (r.nx ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rr.length / 2, 6);
  return Buffer.concat([header, question, ...rr]);
}
