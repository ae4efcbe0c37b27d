/**
 * Header safety. A rendered header value (subject, an address list) comes from log lines an
 * attacker may write; a CR or LF in it would start a new header (or the body) in the mail. Every
 * line break, with the whitespace around it, becomes one space, and other control characters go,
 * before nodemailer ever sees the value. nodemailer folds long headers itself afterwards.
 */
// eslint-disable-next-line no-control-regex
const BREAKS = /[ \t]*(?:\r\n|[\r\n\u0085\u2028\u2029\v\f])[ \t]*/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f]/g;

export function headerValue(s: string): string {
  return s.replace(BREAKS, ' ').replace(CONTROLS, '').trim();
}

/** An address list option: the rendered value, made safe, split on commas and semicolons, empties dropped. */
export function addressList(s: string): string[] {
  return headerValue(s)
    .split(/[,;]/)
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
}
