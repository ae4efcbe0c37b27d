import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { compileTemplate, DeliveryLoop, spoolPath, Spool, type DeliveryOutcome, type Event, type NewItem, type OutputInstance, type PluginContext, type SpoolItem } from '@pipeline/core';
import { addressList, headerValue } from './header.js';

export interface EmailOutputOptions {
  host: string;
  port: number;
  secure: boolean;
  username?: string;
  password?: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  spoolPath?: string;
}

interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** The email output: every event becomes a mail, spooled on disk, then sent in order. */
export class EmailOutput implements OutputInstance {
  readonly spool: Spool;
  readonly loop: DeliveryLoop;
  private readonly transport: Transporter;
  private readonly t;

  constructor(o: EmailOutputOptions, private readonly ctx: PluginContext) {
    this.t = { from: compileTemplate(o.from), to: compileTemplate(o.to), subject: compileTemplate(o.subject), body: compileTemplate(o.body) };
    this.transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.secure,
      auth: o.username ? { user: o.username, pass: o.password ?? '' } : undefined,
    });
    this.spool = new Spool({ path: spoolPath(ctx, 'email', o.spoolPath), clock: ctx.clock, logger: ctx.logger });
    this.loop = new DeliveryLoop({
      spool: this.spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: 1000, maxMs: 60_000, maxAttempts: 8 },
      send: (item) => this.send(item),
    });
    if (this.spool.depth > 0) this.loop.kick();
  }

  receive(events: readonly Event[]): void {
    const items: NewItem[] = [];
    for (const ev of events) {
      const f = ev.fields;
      const mail: Mail = { from: headerValue(this.t.from.render(f)), to: addressList(this.t.to.render(f)), subject: headerValue(this.t.subject.render(f)), text: this.t.body.render(f) };
      items.push({ payload: JSON.stringify(mail) });
    }
    this.loop.enqueue(items);
  }

  private async send(item: SpoolItem): Promise<DeliveryOutcome> {
    const mail = JSON.parse(item.payload) as Mail;
    try {
      await this.transport.sendMail(mail);
      return { kind: 'delivered' };
    } catch (err) {
      const e = err as { responseCode?: number; message: string };
      if (e.responseCode !== undefined && e.responseCode >= 500) return { kind: 'reject', status: String(e.responseCode), message: e.message };
      return { kind: 'retry', unavailable: e.responseCode === undefined, status: String(e.responseCode ?? 'error'), message: e.message };
    }
  }

  whenIdle(): Promise<void> {
    return this.loop.whenIdle();
  }

  async close(): Promise<void> {
    await this.loop.close();
    this.transport.close();
  }
}
