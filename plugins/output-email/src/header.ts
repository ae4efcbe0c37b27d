/**
 * Header safety. A rendered header value (subject, an address) comes from log lines an attacker
 * may write; a CR or LF in it would start a new header (or the body) of the mail. Every line
 * break, with the blanks around it, becomes one space and other control characters are removed,
 * before nodemailer ever sees the value (it folds long headers itself afterwards).
 *
 * Addresses get more: each entry of a rendered list must be one plain `local@domain` or
 * `Display Name <local@domain>`, and is handed to nodemailer already split into name and address,
 * so nodemailer's lenient parser never sees text a log line could shape into extra recipients.
 */
// eslint-disable-next-line no-control-regex
const BREAKS = /[ \t]*(?:\r\n|[\r\n\u0085\u2028\u2029\v\f])[ \t]*/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f]/g;

export function headerValue(s: string): string {
  return s.replace(BREAKS, ' ').replace(CONTROLS, '').trim();
}

export interface Address {
  name: string;
  address: string;
}

const ADDR = '[^\\s<>()\\[\\]@,;:"\\\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?';
const BARE = new RegExp(`^(${ADDR})$`);
const NAMED = new RegExp(`^(?:"([^"\\\\]*)"|([^"<>@,;:\\\\]*?))\\s*<(${ADDR})>$`);

export interface AddressListResult {
  addresses: Address[];
  /** Entries that are not one plain address (left out of the mail, reported). */
  invalid: string[];
}

/** A rendered address list: made safe, split on commas and semicolons, each entry checked. */
export function addressList(rendered: string): AddressListResult {
  const out: AddressListResult = { addresses: [], invalid: [] };
  for (const raw of headerValue(rendered).split(/[,;]/)) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    const bare = BARE.exec(entry);
    if (bare) {
      out.addresses.push({ name: '', address: bare[1]! });
      continue;
    }
    const named = NAMED.exec(entry);
    if (named) out.addresses.push({ name: (named[1] ?? named[2] ?? '').trim(), address: named[3]! });
    else out.invalid.push(entry);
  }
  return out;
}
