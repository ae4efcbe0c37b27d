import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type Mail from 'nodemailer/lib/mailer';
import {
  compileTemplate,
  DeliveryLoop,
  fieldRef,
  type FieldRef,
  spoolPath,
  Spool,
  valueToString,
  type Counter,
  type DeliveryOutcome,
  type Event,
  type OutputInstance,
  type PluginContext,
  type SpoolItem,
  type Template,
  type TimerHandle,
} from '@pipeline/core';
import { composeDigest, heldSummary, withHeld, type DigestEntry, type HeldBack } from './digest.js';
import { mailKey } from './idempotency.js';
import { compileMail, envelopeOf, type MailTemplateOptions, type RenderedMail } from './mail.js';
import { classifySmtpError, createSmtpTransport, type SmtpOptions } from './smtp.js';
import { Throttle } from './throttle.js';
import { headerValue } from './header.js';

export interface EmailOutputOptions extends MailTemplateOptions, SmtpOptions {
  contentType: string;
  throttleCount: number;
  throttlePeriodMs: number;
  throttleKey?: string;
  /** Field holding a mail's severity (throttleExempt). */
  severityField: string;
  /** Severities (lower case) never throttled. */
  throttleExempt: string[];
  digestWindowMs: number;
  digestKey?: string;
  digestMaxEvents: number;
  volatileFields: string[];
  dedupWindowMs: number;
  spoolPath?: string;
  spoolMaxBytes: number;
  spoolMaxAgeMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  retryMaxAttempts: number;
}

const THROTTLE_STATE = 'email.throttle';
/** Throttle keys whose held-back mails are remembered (the oldest key is forgotten beyond). */
const MAX_HELD_KEYS = 1000;
/** Held-back mails listed per key; more are only counted. */
const MAX_HELD_LISTED = 20;
/** Throttled mails logged per minute; the rest are summed up in the next line. */
const LOG_BURST = 5;
const LOG_WINDOW_MS = 60_000;

/**
 * The email output. Every event's mail is rendered and made safe at once, then either spooled
 * (and sent in order by the delivery loop) or, with a digest window, staged in the spool until
 * the window closes and promoted as one mail. Throttling is decided before a mail is spooled, so
 * a long outage does not turn into a burst of mail beyond the limit.
 */
export class EmailOutput implements OutputInstance {
  readonly spool: Spool;
  readonly loop: DeliveryLoop;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly render: ReturnType<typeof compileMail>;
  private readonly throttle: Throttle;
  private readonly throttleKey: Template | undefined;
  private readonly digestKey: Template | undefined;
  private readonly volatile: ReadonlySet<string>;
  private readonly throttled: Counter;
  private readonly digested: Counter;
  /** Idempotency keys of events waiting in a digest (the spool cannot look staged rows up by key). */
  private readonly stagedKeys = new Set<string>();
  private readonly stagedCounts = new Map<string, number>();
  private readonly digestTimers = new Map<string, TimerHandle>();
  private readonly digestDue = new Map<string, number>();
  /** Per throttle key: the mails held back since its last mail, and when the next may go. */
  private readonly held = new Map<string, HeldBack & { envelope: RenderedMail; timer?: TimerHandle }>();
  private readonly severity: FieldRef;
  private readonly exempt: ReadonlySet<string>;
  private readonly heldForgotten: Counter;
  private readonly exempted: Counter;
  private logWindow = -Infinity;
  private logged = 0;
  private unlogged = 0;
  private closed = false;

  /** Opens the spool (waiting while its disk is full), then the output. */
  static async open(o: EmailOutputOptions, ctx: PluginContext): Promise<EmailOutput> {
    const spool = await Spool.open({
      path: spoolPath(ctx, 'email', o.spoolPath),
      clock: ctx.clock,
      logger: ctx.logger,
      maxBytes: o.spoolMaxBytes,
      maxAgeMs: o.spoolMaxAgeMs,
      dedupWindowMs: o.dedupWindowMs,
      what: 'email spool',
    });
    return new EmailOutput(o, ctx, spool);
  }

  constructor(
    private readonly o: EmailOutputOptions,
    private readonly ctx: PluginContext,
    spool: Spool,
  ) {
    this.render = compileMail(o);
    this.throttleKey = o.throttleKey ? compileTemplate(o.throttleKey) : undefined;
    this.digestKey = o.digestKey ? compileTemplate(o.digestKey) : undefined;
    this.volatile = new Set(o.volatileFields);
    this.transport = createSmtpTransport(o, (p) => ctx.resolvePath(p));
    this.spool = spool;
    this.throttle = new Throttle(o.throttleCount, o.throttlePeriodMs, ctx.clock, (s) => this.spool.setState(THROTTLE_STATE, s), this.spool.getState(THROTTLE_STATE));
    this.throttled = ctx.metrics.counter('throttled');
    this.heldForgotten = ctx.metrics.counter('throttled_unlisted');
    this.exempted = ctx.metrics.counter('throttle_exempted');
    this.severity = fieldRef(o.severityField);
    this.exempt = new Set(o.throttleExempt.map((s) => s.toLowerCase()));
    this.digested = ctx.metrics.counter('digested');
    this.loop = new DeliveryLoop({
      spool: this.spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, maxAttempts: o.retryMaxAttempts },
      send: (item) => this.send(item),
    });
    // digests collected before a restart go out when their window closes, as if nothing happened
    for (const { group, firstMs } of this.spool.stagedGroups()) {
      const rows = this.spool.staged(group);
      for (const r of rows) this.stagedKeys.add((JSON.parse(r.payload) as DigestEntry).key);
      this.stagedCounts.set(group, rows.length);
      this.scheduleDigest(group, firstMs + o.digestWindowMs);
    }
    if (this.spool.depth > 0) {
      ctx.logger.info({ waiting: this.spool.depth }, 'email: delivering mails spooled before the restart');
      this.loop.kick();
    }
  }

  /**
   * Renders and spools (or stages) each event's mail, in order. On a full spool disk it waits for
   * room before going on, so the batch is acknowledged to the pipeline's queue only once every mail
   * of it is on disk.
   */
  async receive(events: readonly Event[]): Promise<void> {
    for (const ev of events) {
      if (this.closed) return;
      const fields = ev.fields;
      const r = this.render(fields, fields['@timestamp'] === undefined ? undefined : valueToString(fields['@timestamp']));
      if (!r.ok) {
        this.spool.deadLetterNew(JSON.stringify(r.mail), 'invalid', r.reason);
        this.loop.counters.failed.inc();
        this.ctx.logger.error({ reason: r.reason, subject: r.mail.subject }, 'email: mail not sent, it has no valid sender or recipient');
        continue;
      }
      if (r.invalid.length > 0) this.ctx.logger.warn({ refused: r.invalid, subject: r.mail.subject }, 'email: addresses that are not one plain address were left out');
      const key = mailKey(fields, r.mail, this.volatile);
      if (this.stagedKeys.has(key) || this.spool.wasDelivered(key)) {
        this.loop.counters.duplicates.inc();
        continue;
      }
      const envelope = envelopeOf(r.mail);
      const exempt = this.isExempt(fields);
      if (this.o.digestWindowMs > 0) await this.addToDigest(`${envelope}\u0000${this.digestKey ? headerValue(this.digestKey.render(fields)) : r.mail.subject}`, key, r.mail, exempt);
      else await this.sendOne(`${envelope}\u0000${this.throttleKey ? headerValue(this.throttleKey.render(fields)) : r.mail.subject}`, key, r.mail, exempt);
    }
  }

  /** A mail whose severity is in throttle_exempt (critical, by default) is never throttled. */
  private isExempt(fields: Event['fields']): boolean {
    if (this.exempt.size === 0 || !this.throttle.enabled) return false;
    const v = this.severity.get(fields);
    return typeof v === 'string' && this.exempt.has(v.toLowerCase());
  }

  private async sendOne(throttleKey: string, key: string, mail: RenderedMail, exempt: boolean): Promise<void> {
    if (exempt) {
      this.exempted.inc();
      await this.spoolMail(key, mail); // not counted against the key's allowance
      return;
    }
    const wait = this.throttle.waitMs(throttleKey);
    if (wait > 0) {
      this.hold(throttleKey, mail, wait);
      return;
    }
    const h = this.held.get(throttleKey);
    if (!(await this.spoolMail(key, h ? withHeld(mail, h) : mail))) return;
    this.throttle.record(throttleKey);
    if (h) this.dropHeld(throttleKey);
  }

  /** Spools a mail; false when a mail with the same key is already waiting (not spooled twice). */
  private async spoolMail(key: string, mail: RenderedMail): Promise<boolean> {
    const duplicates = this.loop.counters.duplicates.value;
    const spooled = this.loop.enqueue([{ payload: JSON.stringify(mail), key }]);
    if (spooled !== undefined) await spooled; // a full disk: once it is on disk
    // a mail still waiting in the spool under the same key is not spooled twice, nor counted twice
    return this.loop.counters.duplicates.value === duplicates;
  }

  /**
   * A mail over the limit: counted, logged (at most LOG_BURST a minute), and kept for the next
   * mail of its key, which lists it; if none comes by the time the throttle allows one, a mail
   * listing the held-back ones goes then.
   */
  private hold(throttleKey: string, mail: RenderedMail, waitMs: number): void {
    this.throttled.inc();
    const at = mail.at ?? new Date(this.ctx.clock.now()).toISOString();
    let h = this.held.get(throttleKey);
    if (!h) {
      if (this.held.size >= MAX_HELD_KEYS) {
        const [oldest, o] = this.held.entries().next().value!;
        this.heldForgotten.inc(o.count);
        this.dropHeld(oldest);
      }
      h = { count: 0, since: at, listed: [], envelope: mail };
      this.held.set(throttleKey, h);
    }
    h.count++;
    if (h.listed.length < MAX_HELD_LISTED) h.listed.push({ at, subject: mail.subject, text: mail.text });
    else this.heldForgotten.inc();
    if (!h.timer) h.timer = this.ctx.clock.setTimeout(() => this.sendHeld(throttleKey), waitMs);
    this.logThrottled(throttleKey, mail, h.count, waitMs);
  }

  private logThrottled(throttleKey: string, mail: RenderedMail, count: number, waitMs: number): void {
    const now = this.ctx.clock.now();
    if (now - this.logWindow >= LOG_WINDOW_MS) {
      if (this.unlogged > 0) this.ctx.logger.warn({ throttled: this.unlogged }, `email: ${this.unlogged} more mails throttled (not logged one by one)`);
      this.logWindow = now;
      this.logged = 0;
      this.unlogged = 0;
    }
    if (this.logged++ < LOG_BURST) {
      const k = throttleKey.slice(throttleKey.indexOf('\u0000') + 1);
      this.ctx.logger.warn({ subject: mail.subject, throttle_key: k, held_for_key: count, next_mail_in_s: Math.ceil(waitMs / 1000) }, 'email: throttled; the mail is listed in the next mail of its key');
    } else this.unlogged++;
  }

  /** The throttle allows a mail of the key again and none came: the held-back ones go as one mail. */
  private sendHeld(throttleKey: string): void {
    const h = this.held.get(throttleKey);
    if (!h || this.closed) return;
    h.timer = undefined;
    const wait = this.throttle.waitMs(throttleKey);
    if (wait > 0) {
      h.timer = this.ctx.clock.setTimeout(() => this.sendHeld(throttleKey), wait);
      return;
    }
    const mail = heldSummary(h.envelope, h);
    const id = createHash('sha256').update(throttleKey).update('\u0000').update(h.since).update(String(h.count)).digest('base64url');
    this.dropHeld(throttleKey);
    void this.spoolMail(`held:${id}`, mail).then((spooled) => spooled && this.throttle.record(throttleKey));
  }

  private dropHeld(throttleKey: string): void {
    this.held.get(throttleKey)?.timer?.cancel();
    this.held.delete(throttleKey);
  }

  private async addToDigest(group: string, key: string, mail: RenderedMail, exempt: boolean): Promise<void> {
    const entry: DigestEntry = exempt ? { key, mail, exempt } : { key, mail };
    const payload = JSON.stringify(entry);
    const staged = this.loop.write(() => this.spool.stage(group, payload));
    if (staged !== undefined) await staged; // a full disk: once it is on disk
    this.stagedKeys.add(key);
    const n = (this.stagedCounts.get(group) ?? 0) + 1;
    this.stagedCounts.set(group, n);
    if (n >= this.o.digestMaxEvents) this.closeDigest(group);
    else {
      const due = this.ctx.clock.now() + this.o.digestWindowMs;
      // an exempt event does not wait for a digest the throttle holds back: it goes at its window's end
      if (!this.digestTimers.has(group) || (exempt && (this.digestDue.get(group) ?? Infinity) > due)) this.scheduleDigest(group, due);
    }
  }

  private scheduleDigest(group: string, dueMs: number): void {
    this.digestTimers.get(group)?.cancel();
    this.digestDue.set(group, dueMs);
    this.digestTimers.set(
      group,
      this.ctx.clock.setTimeout(() => this.closeDigest(group), Math.max(0, dueMs - this.ctx.clock.now())),
    );
  }

  /** The digest window of `group` is over: its events become one mail, unless the throttle holds it back. */
  private closeDigest(group: string): void {
    this.digestTimers.get(group)?.cancel();
    this.digestTimers.delete(group);
    this.digestDue.delete(group);
    if (this.closed) return;
    const rows = this.spool.staged(group);
    if (rows.length === 0) return;
    const entries = rows.map((r) => JSON.parse(r.payload) as DigestEntry);
    // a digest holding an exempt (critical) event is not held back
    const exempt = entries.some((e) => e.exempt === true);
    const wait = exempt ? 0 : this.throttle.waitMs(group);
    if (wait > 0) {
      // over the limit: the events stay staged and go with the next digest the throttle allows
      this.throttled.inc();
      this.scheduleDigest(group, this.ctx.clock.now() + wait);
      return;
    }
    const mail = composeDigest(entries);
    const h = createHash('sha256');
    for (const e of entries) h.update(e.key).update('\u0000');
    if (!this.spool.promoteStaged(group, { payload: JSON.stringify(mail), key: `digest:${h.digest('base64url')}` })) {
      // a full disk: the events stay staged (on disk) and the digest is tried again
      this.scheduleDigest(group, this.ctx.clock.now() + Math.max(1, this.spool.retryMs));
      return;
    }
    for (const e of entries) {
      this.markDelivered(e.key);
      this.stagedKeys.delete(e.key);
    }
    this.stagedCounts.delete(group);
    if (exempt) this.exempted.inc();
    else this.throttle.record(group);
    if (entries.length > 1) this.digested.inc(entries.length);
    this.loop.kick();
  }

  /**
   * Remembers an event's key as delivered once its digest is in the spool, so the event handed over
   * again cannot start a second digest (on a full disk, once there is room).
   */
  private markDelivered(key: string): void {
    void this.loop.write(() => this.spool.markDelivered(key));
  }

  private async send(item: SpoolItem): Promise<DeliveryOutcome> {
    let mail: RenderedMail;
    try {
      mail = JSON.parse(item.payload) as RenderedMail;
    } catch (err) {
      return { kind: 'reject', status: 'invalid', message: `unreadable spooled mail: ${(err as Error).message}` };
    }
    const message: Mail.Options = {
      from: mail.from,
      to: mail.to,
      cc: mail.cc,
      bcc: mail.bcc,
      replyTo: mail.replyTo.length > 0 ? mail.replyTo : undefined,
      subject: mail.subject,
      text: mail.text,
      // the same mail sent again after a crash carries the same Message-ID, so clients can tell
      messageId: item.key ? `<${item.key.replace(/[^A-Za-z0-9_-]/g, '')}@pipeline.invalid>` : undefined,
    };
    if (mail.html !== undefined) message.alternatives = [{ contentType: this.o.contentType, content: mail.html }];
    try {
      const info = await this.transport.sendMail(message);
      if (info.rejected?.length) this.ctx.logger.warn({ rejected: info.rejected, subject: mail.subject }, 'email: the relay refused some recipients');
      return { kind: 'delivered' };
    } catch (err) {
      return classifySmtpError(err);
    }
  }

  /** Resolves when no mail is being sent (tests and shutdown use it). */
  whenIdle(): Promise<void> {
    return this.loop.whenIdle();
  }

  /** Stops; spooled mails and open digests stay on disk for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.digestTimers.values()) t.cancel();
    this.digestTimers.clear();
    for (const h of this.held.values()) h.timer?.cancel();
    await this.loop.close();
    this.transport.close();
  }
}
