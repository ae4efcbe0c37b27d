import { compileTemplate, type Fields, type Template } from '@pipeline/core';
import { addressList, headerValue, type Address } from './header.js';

/** What the config says a mail looks like: every part a sprintf template. */
export interface MailTemplateOptions {
  from: string;
  to: string;
  cc?: string;
  bcc?: string;
  replyto?: string;
  subject: string;
  body: string;
  htmlbody?: string;
}

/** One mail, rendered and made safe; this (as JSON) is what the spool holds. */
export interface RenderedMail {
  from: Address;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  subject: string;
  text: string;
  html?: string;
  /** The event's @timestamp, for digests. */
  at?: string;
}

export type RenderResult = { ok: true; mail: RenderedMail; invalid: string[] } | { ok: false; reason: string; mail: RenderedMail };

const none = compileTemplate('');

/** Compiles the templates once; the returned function renders one event's mail. */
export function compileMail(o: MailTemplateOptions): (fields: Fields, at?: string) => RenderResult {
  const t = {
    from: compileTemplate(o.from),
    to: compileTemplate(o.to),
    cc: o.cc ? compileTemplate(o.cc) : none,
    bcc: o.bcc ? compileTemplate(o.bcc) : none,
    replyto: o.replyto ? compileTemplate(o.replyto) : none,
    subject: compileTemplate(o.subject),
    body: compileTemplate(o.body),
    html: o.htmlbody ? compileTemplate(o.htmlbody) : undefined,
  };
  const list = (tpl: Template, fields: Fields, invalid: string[]) => {
    const r = addressList(tpl.render(fields));
    invalid.push(...r.invalid);
    return r.addresses;
  };
  return (fields, at) => {
    const invalid: string[] = [];
    const fromList = list(t.from, fields, invalid);
    const mail: RenderedMail = {
      from: fromList[0] ?? { name: '', address: '' },
      to: list(t.to, fields, invalid),
      cc: list(t.cc, fields, invalid),
      bcc: list(t.bcc, fields, invalid),
      replyTo: list(t.replyto, fields, invalid),
      subject: headerValue(t.subject.render(fields)),
      text: t.body.render(fields),
    };
    if (t.html) mail.html = t.html.render(fields);
    if (at !== undefined) mail.at = at;
    if (fromList.length !== 1) return { ok: false, reason: `from must be exactly one address, got '${headerValue(t.from.render(fields))}'`, mail };
    if (mail.to.length + mail.cc.length + mail.bcc.length === 0) return { ok: false, reason: `no valid recipient${invalid.length ? ` (refused: ${invalid.join(', ')})` : ''}`, mail };
    return { ok: true, mail, invalid };
  };
}

/** A stable name for a mail's envelope: digests and throttles never mix senders or recipients. */
export function envelopeOf(m: RenderedMail): string {
  const a = (l: Address[]) => l.map((x) => x.address.toLowerCase()).join(',');
  return `${m.from.address.toLowerCase()}>${a(m.to)}|${a(m.cc)}|${a(m.bcc)}`;
}
