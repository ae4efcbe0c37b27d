/** The Ruby String behaviours mutate relies on, where JavaScript's built-ins differ. */

const STRIP_RE = /^[\0\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g;

/** Ruby's String#strip: ASCII whitespace and NUL at both ends (not JavaScript's Unicode set). */
export function rubyStrip(s: string): string {
  return s.replace(STRIP_RE, '');
}

/** Ruby's String#capitalize: first character upper case, the rest lower case. */
export function rubyCapitalize(s: string): string {
  if (s.length === 0) return s;
  const first = String.fromCodePoint(s.codePointAt(0)!);
  return first.toUpperCase() + s.slice(first.length).toLowerCase();
}

const AWK_WS = /[ \t\n\v\f\r\0]+/;

/**
 * Ruby's String#split with a string separator: trailing empty fields are dropped; a single space
 * splits on runs of whitespace ignoring leading whitespace (awk style); an empty separator splits
 * into characters; an empty string gives an empty array.
 */
export function rubySplit(s: string, sep: string): string[] {
  let parts: string[];
  if (sep === ' ') {
    const trimmed = s.replace(/^[ \t\n\v\f\r\0]+/, '');
    parts = trimmed === '' ? [] : trimmed.split(AWK_WS);
  } else if (sep === '') parts = Array.from(s);
  else parts = s.split(sep);
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return end === parts.length ? parts : parts.slice(0, end);
}

/** Ruby's Array#join: nested arrays are joined with the same separator, nil becomes ''. */
export function rubyJoin(arr: readonly unknown[], sep: string): string {
  let out = '';
  let first = true;
  const walk = (a: readonly unknown[]) => {
    for (const v of a) {
      if (Array.isArray(v)) {
        walk(v);
        continue;
      }
      if (!first) out += sep;
      first = false;
      out += v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  };
  walk(arr);
  return out;
}
