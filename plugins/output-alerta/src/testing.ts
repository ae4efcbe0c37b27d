/**
 * A wire-level Alerta double for tests and benchmarks: a real HTTP server that answers with the
 * responses recorded from Alerta 9.0.1 (`shared/fixtures/alerta/scenarios.json`). A request whose
 * body equals a recorded one gets that scenario's response (the n-th identical request gets the
 * n-th matching scenario, so create then duplicate replays as recorded). Other alerts are answered
 * with the recorded response of the scenario they correspond to (missing resource, bad severity,
 * ... and the recorded 201 `create-alert` answer otherwise, with the posted fields, an id per
 * environment/resource/event and a duplicate count). Statuses Alerta never produced (429, 502,
 * 503) are only sent when a test asks for them with `failNext`, marked synthetic.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

export interface Scenario {
  name: string;
  description: string;
  request: { method: string; path: string; headers: Record<string, string>; body?: unknown };
  response: { status: number; contentType: string; body: unknown };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: unknown;
  status: number;
  scenario: string;
}

export interface AlertaDoubleOptions {
  scenariosPath?: string;
  /** As Alerta's AUTH_REQUIRED: answers 401/403 as recorded in the `auth-` scenarios. */
  authRequired?: boolean;
  adminKey?: string;
  readonlyKey?: string;
  /** ALLOWED_ENVIRONMENTS of the recorded server. */
  environments?: string[];
  port?: number;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

const SEVERITIES = ['security', 'critical', 'major', 'minor', 'warning', 'indeterminate', 'informational', 'normal', 'ok', 'cleared', 'debug', 'trace', 'unknown'];

export function defaultScenariosPath(): string {
  return new URL('../../../../../shared/fixtures/alerta/scenarios.json', import.meta.url).pathname;
}

export function loadScenarios(path = process.env.ALERTA_FIXTURES ?? defaultScenariosPath()): Scenario[] {
  return JSON.parse(readFileSync(path, 'utf8')) as Scenario[];
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export class AlertaDouble {
  readonly scenarios: Scenario[];
  readonly byName: Map<string, Scenario>;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[] = [];
  /** Alert bodies Alerta would have stored (2xx on /alert), in order. */
  readonly alerts: Record<string, unknown>[] = [];
  readonly heartbeats: Record<string, unknown>[] = [];
  private readonly server: http.Server;
  /** Recorded POSTs (auth ones aside) with their canonical body, for exact-match replay. */
  private readonly recordedPosts: { s: Scenario; key: string }[];
  private readonly sockets = new Set<Socket>();
  private readonly seen = new Map<string, number>();
  private readonly ids = new Map<string, { id: string; count: number }>();
  private synthetic: { status: number; body: unknown; retryAfter?: string }[] = [];
  private listening = false;
  port = 0;
  /** TCP connections accepted so far (keep-alive reuses one). */
  connections = 0;

  private constructor(private readonly o: AlertaDoubleOptions) {
    this.scenarios = loadScenarios(o.scenariosPath);
    this.byName = new Map(this.scenarios.map((s) => [s.name, s]));
    this.recordedPosts = this.scenarios
      .filter((s) => s.request.method === 'POST' && !s.name.startsWith('auth-'))
      .map((s) => ({ s, key: `${s.request.path} ${canonical(s.request.body)}` }));
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = o.tls ? https.createServer({ key: o.tls.key, cert: o.tls.cert }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(o: AlertaDoubleOptions = {}): Promise<AlertaDouble> {
    const d = new AlertaDouble(o);
    await d.up(o.port ?? 0);
    return d;
  }

  get url(): string {
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Starts listening (again, on the same port after `down`). */
  async up(port = this.port): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  /** Stops listening and cuts open connections: clients see connection refused / reset. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** The next `n` requests get this (synthetic) status instead of a recorded answer. */
  failNext(status: number, n = 1, message = `synthetic ${status} (not recorded from Alerta)`, retryAfter?: string): void {
    for (let i = 0; i < n; i++) this.synthetic.push({ status, body: { status: 'error', message, code: status, errors: null }, retryAfter });
  }

  async stop(): Promise<void> {
    await this.down();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        // kept raw
      }
      const [status, out, scenario, retryAfter] = this.answer(req, raw, body);
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, body, status, scenario });
      const text = typeof out === 'string' ? out : JSON.stringify(out);
      const headers: Record<string, string> = { 'Content-Type': typeof out === 'string' ? 'text/html; charset=utf-8' : 'application/json' };
      if (retryAfter) headers['Retry-After'] = retryAfter;
      res.writeHead(status, headers);
      res.end(text);
    });
  }

  private recorded(name: string): [number, unknown, string] {
    const s = this.byName.get(name);
    if (!s) throw new Error(`scenario ${name} missing from fixtures`);
    return [s.response.status, s.response.body, name];
  }

  private answer(req: http.IncomingMessage, raw: string, body: unknown): [number, unknown, string, string?] {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    if (method === 'GET') {
      const s = this.scenarios.find((x) => x.request.method === 'GET' && x.request.path === req.url) ?? this.scenarios.find((x) => x.request.method === 'GET' && x.request.path.split('?')[0] === path);
      return s ? [s.response.status, s.response.body, s.name] : [404, { status: 'error', message: 'Not Found', code: 404, errors: null }, 'none'];
    }
    const synthetic = this.synthetic.shift();
    if (synthetic) return [synthetic.status, synthetic.body, 'synthetic', synthetic.retryAfter];
    const kind = path === '/heartbeat' ? 'heartbeat' : path === '/alert' ? 'alert' : undefined;
    if (!kind) return [404, { status: 'error', message: 'Not Found', code: 404, errors: null }, 'none'];

    if (this.o.authRequired) {
      const auth = req.headers.authorization;
      const key = typeof auth === 'string' && auth.startsWith('Key ') ? auth.slice(4) : (req.headers['x-api-key'] as string | undefined);
      if (!key) return this.recorded(kind === 'alert' ? 'auth-no-key' : 'auth-heartbeat-no-key');
      if (key === this.o.readonlyKey) return this.recorded(kind === 'alert' ? 'auth-readonly-key-alert' : 'auth-heartbeat-readonly-key');
      if (key !== (this.o.adminKey ?? '<ADMIN_KEY>')) {
        const [st, b, n] = this.recorded('auth-bad-key');
        // the real server echoes the key it was given
        return [st, JSON.parse(JSON.stringify(b).split('<BAD_KEY>').join(key)), n];
      }
    }
    const ct = String(req.headers['content-type'] ?? '');
    if (!ct.startsWith('application/json')) return this.recorded('wrong-content-type');
    if (typeof body !== 'object' || body === null) return [400, { status: 'error', message: 'Failed to decode JSON object', code: 400, errors: null }, 'none'];

    // an exact recorded request replays its recorded answer
    const key = `${path} ${canonical(body)}`;
    const matches = this.recordedPosts.filter((r) => r.key === key).map((r) => r.s);
    const nth = matches.length > 0 ? (this.seen.get(key) ?? 0) : 0;
    if (matches.length > 0) this.seen.set(key, nth + 1);
    if (matches.length > 0) {
      const s = matches[Math.min(nth, matches.length - 1)]!;
      if (s.response.status < 300) (kind === 'alert' ? this.alerts : this.heartbeats).push(body as Record<string, unknown>);
      return [s.response.status, s.response.body, s.name];
    }
    return kind === 'alert' ? this.newAlert(body as Record<string, unknown>) : this.newHeartbeat(body as Record<string, unknown>);
  }

  private newAlert(a: Record<string, unknown>): [number, unknown, string] {
    if (!a.resource) return this.recorded('missing-resource');
    if (!a.event) return this.recorded('missing-event');
    if (a.severity !== undefined && !SEVERITIES.includes(a.severity as string)) {
      const [st, b] = this.recorded('unknown-severity');
      const msg = String((b as { message: string }).message).replace('(bogus)', `(${String(a.severity)})`);
      return [st, { ...(b as object), message: msg }, 'unknown-severity'];
    }
    if (a.timeout !== undefined && !Number.isInteger(a.timeout)) return this.recorded('timeout-string');
    if (a.attributes && Object.keys(a.attributes).some((k) => k.includes('.') || k.includes('$'))) return this.recorded('attribute-key-with-dot');
    if (typeof a.createTime === 'string' && !/\.\d{3}Z$/.test(a.createTime)) return this.recorded('createtime-no-millis');
    if (!a.service || (Array.isArray(a.service) && a.service.length === 0)) return this.recorded('no-service');
    const envs = this.o.environments ?? ['Production', 'Development', 'Homelab'];
    if (!envs.includes(String(a.environment ?? 'Production'))) return this.recorded('environment-not-allowed');
    if (a.event === 'Heartbeat') {
      this.heartbeats.push(a);
      return this.recorded('event-heartbeat-converted');
    }
    this.alerts.push(a);
    const idKey = `${a.environment}\u0000${a.resource}\u0000${a.event}`;
    const entry = this.ids.get(idKey) ?? { id: randomUUID(), count: -1 };
    entry.count++;
    this.ids.set(idKey, entry);
    const [st, tmpl] = this.recorded('create-alert');
    const alert = { ...((tmpl as { alert: Record<string, unknown> }).alert), ...a, id: entry.id, duplicateCount: entry.count, repeat: entry.count > 0 };
    return [st, { status: 'ok', id: entry.id, alert }, 'create-alert'];
  }

  private newHeartbeat(h: Record<string, unknown>): [number, unknown, string] {
    this.heartbeats.push(h);
    const idKey = `hb\u0000${h.origin}`;
    const entry = this.ids.get(idKey) ?? { id: randomUUID(), count: 0 };
    this.ids.set(idKey, entry);
    const [st, tmpl] = this.recorded('heartbeat-create');
    const heartbeat = { ...((tmpl as { heartbeat: Record<string, unknown> }).heartbeat), ...h, id: entry.id };
    return [st, { status: 'ok', id: entry.id, heartbeat }, 'heartbeat-create'];
  }
}
