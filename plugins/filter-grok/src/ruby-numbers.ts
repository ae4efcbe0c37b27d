/**
 * Ruby's String#to_i and String#to_f, which Logstash grok applies for `:int` and `:float`:
 * leading whitespace skipped, optional sign, decimal digits with single `_` between digits, stop at
 * the first other character; nothing numeric gives 0. So "0x1F" → 0, "512KB" → 512, "NaN" → 0.0.
 */
const INT = /^[\t\n\v\f\r ]*([+-]?\d+(?:_\d+)*)/;
const FLOAT = /^[\t\n\v\f\r ]*([+-]?(?:\d+(?:_\d+)*)?(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+(?:_\d+)*)?)/;

export function rubyToI(s: string): number {
  const m = INT.exec(s);
  if (!m) return 0;
  const n = Number(m[1]!.replace(/_/g, ''));
  return Object.is(n, -0) ? 0 : n;
}

export function rubyToF(s: string): number {
  const m = FLOAT.exec(s);
  if (!m) return 0;
  let t = m[1]!.replace(/_/g, '');
  // the mantissa needs a digit; "e5" alone or "." alone is not a number
  if (!/\d/.test(t.split(/[eE]/)[0]!)) return 0;
  // an exponent without digits before it stays out ("1.e5" reads as 1.0 in Ruby: '.' needs a digit after)
  const n = Number(t);
  if (Number.isNaN(n)) {
    t = t.replace(/[eE].*$/, '');
    const v = Number(t);
    return Number.isNaN(v) ? 0 : v;
  }
  return n;
}
