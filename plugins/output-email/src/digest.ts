import type { RenderedMail } from './mail.js';

/** One event waiting in a digest (a staged row's payload). */
export interface DigestEntry {
  /** The event mail's idempotency key. */
  key: string;
  mail: RenderedMail;
  /** Its severity is in throttle_exempt: the digest holding it is not held back. */
  exempt?: boolean;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Merges the mails of the events collected in one digest window into one mail: the envelope of the
 * first (a digest group never mixes envelopes), a subject counting the events, and a body listing
 * each event's time, subject and body in arrival order. A digest of one event is that event's mail.
 */
export function composeDigest(entries: readonly DigestEntry[]): RenderedMail {
  const first = entries[0]!.mail;
  if (entries.length === 1) return first;
  const n = entries.length;
  const when = (m: RenderedMail) => (m.at ? `${m.at} ` : '');
  const text =
    `${n} events:\n\n` +
    entries.map((e, i) => `--- ${i + 1}/${n} ${when(e.mail)}${e.mail.subject}\n${e.mail.text}${e.mail.text.endsWith('\n') ? '' : '\n'}`).join('\n');
  const digest: RenderedMail = {
    from: first.from,
    to: first.to,
    cc: first.cc,
    bcc: first.bcc,
    replyTo: first.replyTo,
    subject: `[${n} events] ${first.subject}`,
    text,
  };
  if (first.at) digest.at = first.at;
  if (entries.some((e) => e.mail.html !== undefined)) {
    digest.html =
      `<p>${n} events:</p>\n` +
      entries
        .map((e, i) => `<h3>${i + 1}/${n} ${escapeHtml(when(e.mail))}${escapeHtml(e.mail.subject)}</h3>\n${e.mail.html ?? `<pre>${escapeHtml(e.mail.text)}</pre>`}`)
        .join('\n<hr>\n');
  }
  return digest;
}

/** A mail the throttle held back, as the next mail for its key lists it. */
export interface HeldMail {
  at: string;
  subject: string;
  text: string;
}

/** The mails one throttle key held back: how many, since when, the first few of them. */
export interface HeldBack {
  count: number;
  since: string;
  listed: HeldMail[];
}

/** The list of held-back mails, as text: appended to the next mail of the key, or the body of a summary mail. */
export function heldText(h: HeldBack): string {
  const more = h.count - h.listed.length;
  return (
    `${h.count} mail${h.count === 1 ? '' : 's'} held back by the throttle since ${h.since}:\n\n` +
    h.listed.map((m, i) => `--- ${i + 1}/${h.count} ${m.at} ${m.subject}\n${m.text}${m.text.endsWith('\n') ? '' : '\n'}`).join('\n') +
    (more > 0 ? `\n(and ${more} more, not listed)\n` : '')
  );
}

/** The next mail of a key carries the list of what its key held back, after its own body. */
export function withHeld(mail: RenderedMail, h: HeldBack): RenderedMail {
  const text = `${mail.text}${mail.text.endsWith('\n') ? '' : '\n'}\n${heldText(h)}`;
  const out: RenderedMail = { ...mail, text };
  if (mail.html !== undefined) out.html = `${mail.html}\n<hr>\n<pre>${escapeHtml(heldText(h))}</pre>`;
  return out;
}

/** When no other mail of the key came once the throttle allowed one: a mail listing the held-back ones. */
export function heldSummary(envelope: RenderedMail, h: HeldBack): RenderedMail {
  return {
    from: envelope.from,
    to: envelope.to,
    cc: envelope.cc,
    bcc: envelope.bcc,
    replyTo: envelope.replyTo,
    subject: `[${h.count} throttled] ${h.listed[0]?.subject ?? envelope.subject}`,
    text: heldText(h),
  };
}
