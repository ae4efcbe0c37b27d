/**
 * One CSV line into its values, with Ruby CSV's strict rules (what Logstash's csv filter uses):
 * an empty unquoted field is null and a quoted empty one is "", a doubled quote inside quotes is
 * one quote, and a quote inside an unquoted field, text after a closing quote or an unclosed quote
 * is malformed. Scans with indexOf only: no regex, and the only allocations are the values.
 */
export class MalformedCsv extends Error {}

export type Row = (string | null)[];

export function makeParser(separator: string, quote: string): (line: string) => Row {
  const sepLen = separator.length;
  const q2 = quote + quote;
  return (input) => {
    // A trailing line end is the row separator, not data (Ruby's parse_line auto row_sep).
    let end = input.length;
    if (end > 0 && input.charCodeAt(end - 1) === 10) end--;
    if (end > 0 && input.charCodeAt(end - 1) === 13) end--;
    const row: Row = [];
    if (end === 0) return row; // a blank line has no values at all (Ruby: nil), not one empty one
    let pos = 0;
    // The next quote at or after pos, found once and reused: a line without quotes is scanned once.
    let quoteAt = input.indexOf(quote);
    const lf = input.indexOf('\n');
    const cr = input.indexOf('\r');
    const lineEndInside = (lf >= 0 && lf < end) || (cr >= 0 && cr < end);
    for (;;) {
      if (quoteAt >= 0 && quoteAt < pos) quoteAt = input.indexOf(quote, pos);
      if (quoteAt === pos && pos < end) {
        // quoted field: runs to a quote not doubled, which must end the field
        let i = pos + 1;
        let text = '';
        for (;;) {
          const close = input.indexOf(quote, i);
          if (close < 0 || close >= end) throw new MalformedCsv(`unclosed quoted field at ${pos + 1}`);
          if (input.startsWith(q2, close) && close + 1 < end) {
            text += input.slice(i, close + 1);
            i = close + 2;
            continue;
          }
          text += input.slice(i, close);
          pos = close + 1;
          break;
        }
        row.push(text);
        if (pos === end) return row;
        if (!input.startsWith(separator, pos)) throw new MalformedCsv(`text after a closing quote at ${pos + 1}`);
        pos += sepLen;
        continue;
      }
      let next = input.indexOf(separator, pos);
      if (next < 0 || next > end - sepLen) next = end;
      if (quoteAt >= 0 && quoteAt < next) throw new MalformedCsv(`quote inside an unquoted field at ${quoteAt + 1}`);
      const value = next === pos ? null : input.slice(pos, next);
      if (lineEndInside && value !== null && (value.includes('\n') || value.includes('\r'))) throw new MalformedCsv('line end inside an unquoted field');
      row.push(value);
      if (next === end) return row;
      pos = next + sepLen;
    }
  };
}
