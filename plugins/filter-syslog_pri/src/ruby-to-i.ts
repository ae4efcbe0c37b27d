const TO_I_RE = /^[\t\n\v\f\r ]*([+-]?\d+(?:_\d+)*)/;

/**
 * Ruby's `to_i` as Logstash applies it to the PRI value: strings give their leading integer
 * (`"13"`, `" 13x"` → 13, `"abc"` → 0), numbers are truncated, null is 0. Undefined for values
 * that have no `to_i` in Ruby (true, hashes).
 */
export function rubyToI(v: unknown): number | undefined {
  if (v === null) return 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'string') {
    const m = TO_I_RE.exec(v);
    return m ? Number(m[1]!.replaceAll('_', '')) : 0;
  }
  return undefined;
}
