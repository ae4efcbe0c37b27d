/**
 * Turns a wall-clock time without a zone (an RFC 3164 timestamp) into an instant, in the system
 * zone or a named IANA zone. Offsets of a named zone are cached per hour, so Intl formatting runs
 * about once an hour, not once per event.
 */
export type WallToEpoch = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) => number;

export function wallClock(timezone?: string): WallToEpoch {
  if (!timezone) return (y, mo, d, h, mi, s, ms) => new Date(y, mo, d, h, mi, s, ms).getTime();
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone, // throws RangeError on an unknown zone: reported at config load
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offsetAt = (instant: number) => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(instant)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    return wall - Math.floor(instant / 1000) * 1000;
  };
  const cache = new Map<number, number>();
  return (y, mo, d, h, mi, s, ms) => {
    const asUtc = Date.UTC(y, mo, d, h, mi, s, ms);
    const hour = Math.floor(asUtc / 3_600_000);
    let off = cache.get(hour);
    if (off === undefined) {
      // the offset at the guessed instant, corrected once (exact except inside a DST jump)
      off = offsetAt(asUtc - offsetAt(asUtc));
      if (cache.size > 10_000) cache.clear();
      cache.set(hour, off);
    }
    return asUtc - off;
  };
}
