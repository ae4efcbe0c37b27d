/**
 * Time zones for date parsing: IANA names through Intl (what Joda calls zone IDs), fixed offsets
 * (`+01:00`, `-0800`, `UTC`), and the process's own zone (`TZ`), which Logstash takes from the JVM.
 * Offsets are looked up through Intl once per zone and minute, then cached.
 */
export interface Zone {
  readonly id: string;
  /** Offset from UTC, in ms, at an instant. */
  offsetAt(utcMs: number): number;
  /**
   * The instant of a local wall-clock time, or undefined when that time does not exist (the hour
   * skipped when clocks go forward). When it exists twice, the earlier instant, as Joda chooses.
   */
  localToUtc(localMs: number): number | undefined;
}

const DAY = 86_400_000;

class FixedZone implements Zone {
  constructor(
    readonly id: string,
    private readonly offset: number,
  ) {}
  offsetAt(): number {
    return this.offset;
  }
  localToUtc(localMs: number): number {
    return localMs - this.offset;
  }
}

class IntlZone implements Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  constructor(readonly id: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: id,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  offsetAt(utcMs: number): number {
    const minute = Math.floor(utcMs / 60_000);
    let off = this.cache.get(minute);
    if (off === undefined) {
      off = this.compute(minute * 60_000);
      if (this.cache.size >= 50_000) this.cache.clear();
      this.cache.set(minute, off);
    }
    return off;
  }

  private compute(utcMinute: number): number {
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const p of this.fmt.formatToParts(utcMinute)) {
      switch (p.type) {
        case 'year':
          year = Number(p.value);
          break;
        case 'month':
          month = Number(p.value);
          break;
        case 'day':
          day = Number(p.value);
          break;
        case 'hour':
          hour = Number(p.value);
          break;
        case 'minute':
          minute = Number(p.value);
          break;
        case 'second':
          second = Number(p.value);
          break;
        case 'era':
          bc = p.value.startsWith('B');
          break;
      }
    }
    const d = new Date(0);
    d.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
    d.setUTCHours(hour, minute, second, 0);
    return d.getTime() - utcMinute;
  }

  localToUtc(localMs: number): number | undefined {
    const before = this.offsetAt(localMs - DAY);
    const after = this.offsetAt(localMs + DAY);
    let best: number | undefined;
    for (const o of before === after ? [before, this.offsetAt(localMs - before)] : [before, after]) {
      const t = localMs - o;
      if (this.offsetAt(t) === o && (best === undefined || t < best)) best = t;
    }
    return best;
  }
}

const FIXED_RE = /^(?:UTC|GMT|Z)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;

const zones = new Map<string, Zone | null>();

/** The zone for a name, or undefined when neither Intl nor the offset syntax knows it. */
export function zoneFor(name: string): Zone | undefined {
  let z = zones.get(name);
  if (z === undefined) {
    z = makeZone(name) ?? null;
    if (zones.size < 1000) zones.set(name, z);
  }
  return z ?? undefined;
}

function makeZone(name: string): Zone | undefined {
  if (/^(UTC|GMT|Z|UT|Etc\/UTC|Etc\/GMT)$/i.test(name)) return new FixedZone('UTC', 0);
  const m = FIXED_RE.exec(name);
  if (m) {
    const h = Number(m[2]);
    const min = Number(m[3] ?? 0);
    if (h > 23 || min > 59) return undefined;
    return new FixedZone(name, (m[1] === '-' ? -1 : 1) * (h * 60 + min) * 60_000);
  }
  try {
    return new IntlZone(new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone);
  } catch {
    return undefined;
  }
}

/** The process's zone: `TZ` when set, else the system's. */
export function processZone(): Zone {
  return zoneFor(Intl.DateTimeFormat().resolvedOptions().timeZone) ?? new FixedZone('UTC', 0);
}
