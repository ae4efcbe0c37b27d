import type { RenderedMail } from './mail.js';

/** One event waiting in a digest (a staged row's payload). */
export interface DigestEntry {
  /** The event mail's idempotency key. */
  key: string;
  mail: RenderedMail;
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
