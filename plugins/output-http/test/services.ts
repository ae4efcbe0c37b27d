/**
 * Stand-ins for the notification services of the README's examples, as real HTTP servers on
 * loopback that check requests the way the services document them and answer in their shapes:
 * ntfy (POST /<topic>, plain body, Title/Priority/Tags headers), Gotify (POST /message with an
 * application token, JSON with an integer priority), Slack incoming webhooks (`text`, answered
 * `ok`), Discord webhooks (`content`, answered 204), Matrix client-server API (PUT
 * /_matrix/client/v3/rooms/{room}/send/m.room.message/{txnId}, a transaction id sent again gets
 * the same event id and is stored once). They are not the services themselves.
 */
import { randomUUID } from 'node:crypto';
import { TestServer, type Received, type Scripted } from './server.js';

const json = (status: number, body: unknown): Scripted => ({ status, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const parse = (r: Received): Record<string, unknown> | undefined => {
  try {
    const v = JSON.parse(r.body) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};
const utf8Header = (v: string | string[] | undefined) => (typeof v === 'string' ? Buffer.from(v, 'latin1').toString('utf8') : undefined);

export interface Notification {
  service: string;
  title?: string;
  text: string;
  priority?: unknown;
  tags?: string[];
}

export class Services {
  readonly notifications: Notification[] = [];
  private readonly matrixTxns = new Map<string, string>();
  /** Store the next new Matrix message, then cut the connection instead of answering (a lost answer). */
  matrixCutNext = false;
  private constructor(readonly server: TestServer) {}

  static readonly GOTIFY_TOKEN = 'AqzN3pL0_test_app_token';
  static readonly MATRIX_TOKEN = 'syt_dGVzdA_matrix_access_token';

  static async start(): Promise<Services> {
    const s = await TestServer.start();
    const svc = new Services(s);
    s.handler = (r) => svc.answer(r);
    return svc;
  }

  get url(): string {
    return this.server.url;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private answer(r: Received): Scripted {
    const path = r.path.split('?')[0]!;
    if (path.startsWith('/ntfy/')) return this.ntfy(r, path.slice('/ntfy/'.length));
    if (path === '/gotify/message') return this.gotify(r);
    if (path.startsWith('/slack/services/')) return this.slack(r);
    if (path.startsWith('/discord/api/webhooks/')) return this.discord(r);
    const m = /^\/matrix\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/m\.room\.message\/([^/]+)$/.exec(path);
    if (m) return this.matrix(r, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
    return json(404, { error: 'not found' });
  }

  private ntfy(r: Received, topic: string): Scripted {
    if (r.method !== 'POST' && r.method !== 'PUT') return json(405, { code: 40500, http: 405, error: 'method not allowed' });
    if (!/^[-_A-Za-z0-9]{1,64}$/.test(topic)) return json(400, { code: 40009, http: 400, error: 'invalid topic' });
    const names: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 };
    const p = String(r.headers.priority ?? r.headers.p ?? '3');
    const priority = names[p] ?? (/^[1-5]$/.test(p) ? Number(p) : undefined);
    if (priority === undefined) return json(400, { code: 40007, http: 400, error: 'invalid priority' });
    const title = utf8Header(r.headers.title ?? r.headers.t);
    const tags = utf8Header(r.headers.tags ?? r.headers.ta)
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    this.notifications.push({ service: 'ntfy', title, text: r.body, priority, tags });
    return json(200, { id: randomUUID().slice(0, 12), time: Math.floor(Date.now() / 1000), event: 'message', topic, title, message: r.body, priority, tags });
  }

  private gotify(r: Received): Scripted {
    const token = (r.headers['x-gotify-key'] as string | undefined) ?? new URL(r.path, 'http://x').searchParams.get('token') ?? undefined;
    if (token !== Services.GOTIFY_TOKEN) return json(401, { error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' });
    if (!String(r.headers['content-type']).startsWith('application/json')) return json(400, { error: 'Bad Request', errorCode: 400, errorDescription: 'invalid content type' });
    const b = parse(r);
    if (!b || typeof b.message !== 'string' || b.message === '') return json(400, { error: 'Bad Request', errorCode: 400, errorDescription: "Field 'message' is required" });
    if (b.priority !== undefined && !Number.isInteger(b.priority)) return json(400, { error: 'Bad Request', errorCode: 400, errorDescription: 'json: cannot unmarshal string into Go struct field MessageExternal.priority of type int' });
    this.notifications.push({ service: 'gotify', title: b.title as string | undefined, text: b.message, priority: b.priority });
    return json(200, { id: this.notifications.length, appid: 1, message: b.message, title: b.title, priority: b.priority ?? 0, date: new Date().toISOString() });
  }

  private slack(r: Received): Scripted {
    const b = parse(r);
    if (!b) return { status: 400, body: 'invalid_payload' };
    if (typeof b.text !== 'string' || b.text === '') return { status: 400, body: 'no_text' };
    this.notifications.push({ service: 'slack', text: b.text });
    return { status: 200, body: 'ok' };
  }

  private discord(r: Received): Scripted {
    const b = parse(r);
    if (!b) return json(400, { message: 'Cannot send an empty message', code: 50006 });
    if (typeof b.content !== 'string' || b.content === '') return json(400, { message: 'Cannot send an empty message', code: 50006 });
    if (b.content.length > 2000) return json(400, { content: ['Must be 2000 or fewer in length.'] });
    this.notifications.push({ service: 'discord', title: b.username as string | undefined, text: b.content });
    return { status: 204, body: '' };
  }

  private matrix(r: Received, room: string, txn: string): Scripted {
    if (r.method !== 'PUT') return json(405, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    if (r.headers.authorization !== `Bearer ${Services.MATRIX_TOKEN}`) return json(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.', soft_logout: false });
    if (!room.startsWith('!')) return json(400, { errcode: 'M_INVALID_PARAM', error: 'Invalid room id' });
    const b = parse(r);
    if (!b || b.msgtype !== 'm.text' || typeof b.body !== 'string') return json(400, { errcode: 'M_BAD_JSON', error: 'Content must be m.text with a body' });
    const known = this.matrixTxns.get(txn);
    if (known) return json(200, { event_id: known }); // the same transaction again: not stored twice
    const id = `$${randomUUID().replace(/-/g, '')}`;
    this.matrixTxns.set(txn, id);
    this.notifications.push({ service: 'matrix', text: b.body });
    if (this.matrixCutNext) {
      this.matrixCutNext = false;
      return { destroy: true };
    }
    return json(200, { event_id: id });
  }
}
