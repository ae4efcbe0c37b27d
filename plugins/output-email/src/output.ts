import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type Mail from 'nodemailer/lib/mailer';
import {
  compileTemplate,
  DeliveryLoop,
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
import { composeDigest, type DigestEntry } from './digest.js';
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
      if (this.o.digestWindowMs > 0) await this.addToDigest(`${envelope}\u0000${this.digestKey ? headerValue(this.digestKey.render(fields)) : r.mail.subject}`, key, r.mail);
      else await this.sendOne(`${envelope}\u0000${this.throttleKey ? headerValue(this.throttleKey.render(fields)) : r.mail.subject}`, key, r.mail);
    }
  }

  private async sendOne(throttleKey: string, key: string, mail: RenderedMail): Promise<void> {
    if (this.throttle.waitMs(throttleKey) > 0) {
      this.throttled.inc();
      this.ctx.logger.debug({ subject: mail.subject }, 'email: throttled, mail dropped');
      return;
    }
    const duplicates = this.loop.counters.duplicates.value;
    const spooled = this.loop.enqueue([{ payload: JSON.stringify(mail), key }]);
    if (spooled !== undefined) await spooled; // a full disk: once it is on disk
    // a mail still waiting in the spool under the same key is not spooled twice, nor counted twice
    if (this.loop.counters.duplicates.value === duplicates) this.throttle.record(throttleKey);
  }

  private async addToDigest(group: string, key: string, mail: RenderedMail): Promise<void> {
    const entry: DigestEntry = { key, mail };
    const payload = JSON.stringify(entry);
    const staged = this.loop.write(() => this.spool.stage(group, payload));
    if (staged !== undefined) await staged; // a full disk: once it is on disk
    this.stagedKeys.add(key);
    const n = (this.stagedCounts.get(group) ?? 0) + 1;
    this.stagedCounts.set(group, n);
    if (n >= this.o.digestMaxEvents) this.closeDigest(group);
    else if (!this.digestTimers.has(group)) this.scheduleDigest(group, this.ctx.clock.now() + this.o.digestWindowMs);
  }

  private scheduleDigest(group: string, dueMs: number): void {
    this.digestTimers.get(group)?.cancel();
    this.digestTimers.set(
      group,
      this.ctx.clock.setTimeout(() => this.closeDigest(group), Math.max(0, dueMs - this.ctx.clock.now())),
    );
  }

  /** The digest window of `group` is over: its events become one mail, unless the throttle holds it back. */
  private closeDigest(group: string): void {
    this.digestTimers.get(group)?.cancel();
    this.digestTimers.delete(group);
    if (this.closed) return;
    const rows = this.spool.staged(group);
    if (rows.length === 0) return;
    const wait = this.throttle.waitMs(group);
    if (wait > 0) {
      // over the limit: the events stay staged and go with the next digest the throttle allows
      this.throttled.inc();
      this.scheduleDigest(group, this.ctx.clock.now() + wait);
      return;
    }
    const entries = rows.map((r) => JSON.parse(r.payload) as DigestEntry);
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
    this.throttle.record(group);
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
    await this.loop.close();
    this.transport.close();
  }
}
