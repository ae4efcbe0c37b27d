/**
 * A wire-level Alerta double for POST /heartbeat that replays the responses recorded from a real
 * Alerta 9.0.1 (`shared/fixtures/alerta/scenarios.json`). A request equal to a recorded one gets
 * the recorded answer (the first time `heartbeat-create`, then `heartbeat-again`); another
 * heartbeat gets the `heartbeat-create` answer with its own fields and one id per origin (Alerta
 * upserts on origin). With `authRequired` it answers as the recorded `auth-heartbeat-*` scenarios.
 * 429/500/503 answers can be queued with `failNext`: those are synthetic (Alerta never sent them
 * in the recording) and are marked so in the tests.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

interface Scenario {
  name: string;
  request: { method: string; path: string; headers: Record<string, string>; body?: unknown };
  response: { status: number; contentType: string; body: unknown };
}

export const SCENARIOS: Scenario[] = JSON.parse(readFileSync(new URL('../../../../../shared/fixtures/alerta/scenarios.json', import.meta.url), 'utf8'));

export function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`scenario ${name} missing from the fixtures`);
  return s;
}

/** Key order does not matter to Alerta: compare bodies canonically. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  status: number;
  scenario: string;
}

export class HeartbeatReplayServer {
  /** Every POST /heartbeat, in arrival order, with what was answered. */
  readonly requests: ReceivedRequest[] = [];
  private readonly synthetic: { status: number; body: unknown }[] = [];
  private readonly ids = new Map<string, string>();
  private readonly seen = new Map<string, number>();
  private server: http.Server | undefined;
  port = 0;

  constructor(private readonly o: { authRequired?: boolean; tls?: { key: string; cert: string } } = {}) {}

  /** Heartbeats Alerta accepted (2xx), in order. */
  get accepted(): Record<string, unknown>[] {
    return this.requests.filter((r) => r.status < 300).map((r) => r.body);
  }

  /** Queues synthetic answers for the next requests (statuses the recording does not hold). */
  failNext(status: number, count = 1, message = `synthetic ${status}`): void {
    for (let i = 0; i < count; i++) this.synthetic.push({ status, body: { status: 'error', message, code: status, errors: null } });
  }

  async start(): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const [status, body, name] = this.answer(req, raw);
        const text = JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      });
    };
    const server = this.o.tls ? https.createServer(this.o.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Goes away (connection refused from now on), dropping kept-alive connections too. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, raw: string): [number, unknown, string] {
    if (req.method !== 'POST' || req.url !== '/heartbeat') return [404, { status: 'error', message: 'Not Found', code: 404, errors: null }, 'none'];
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // recorded below as a 400
    }
    const reply = (status: number, b: unknown, name: string): [number, unknown, string] => {
      this.requests.push({ headers: req.headers, body, status, scenario: name });
      return [status, b, name];
    };
    const recorded = (name: string) => {
      const s = scenario(name);
      return reply(s.response.status, s.response.body, name);
    };
    const syn = this.synthetic.shift();
    if (syn) return reply(syn.status, syn.body, 'synthetic');
    if (this.o.authRequired) {
      const auth = req.headers.authorization;
      const key = typeof auth === 'string' && auth.startsWith('Key ') ? auth.slice(4) : (req.headers['x-api-key'] as string | undefined);
      if (!key) return recorded('auth-heartbeat-no-key');
      if (key === '<READONLY_KEY>') return recorded('auth-heartbeat-readonly-key');
      if (key !== '<ADMIN_KEY>') {
        // Alerta echoes the unknown key in its message, as recorded for /alert
        const s = scenario('auth-bad-key');
        return reply(s.response.status, JSON.parse(JSON.stringify(s.response.body).split('<BAD_KEY>').join(key)), 'auth-bad-key');
      }
      if (canonical(body) === canonical(scenario('auth-heartbeat-valid-key').request.body)) return recorded('auth-heartbeat-valid-key');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return recorded('wrong-content-type');
    const c = canonical(body);
    const exact = ['heartbeat-create', 'heartbeat-again'].filter((n) => canonical(scenario(n).request.body) === c);
    if (exact.length > 0) {
      const nth = this.seen.get(c) ?? 0;
      this.seen.set(c, nth + 1);
      return recorded(exact[Math.min(nth, exact.length - 1)]!);
    }
    const tmpl = scenario('heartbeat-create').response.body as { heartbeat: Record<string, unknown> };
    const origin = String(body.origin);
    const id = this.ids.get(origin) ?? randomUUID();
    this.ids.set(origin, id);
    return reply(201, { status: 'ok', id, heartbeat: { ...tmpl.heartbeat, ...body, id } }, 'heartbeat-create');
  }
}
