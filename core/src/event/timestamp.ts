/**
 * Logstash's `@timestamp`: an instant in milliseconds since the epoch. It serialises as
 * ISO-8601 in UTC with milliseconds, as Logstash writes it (`2026-11-27T23:32:28.123Z`).
 */
/**
 * The last instant formatted, and its text: events made in the same millisecond (a burst from one
 * input) share one ISO string instead of each formatting a Date.
 */
let lastMs = NaN;
let lastIso = '';

function isoOf(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

export class Timestamp {
  /** The ISO text, made once: JSON outputs and templates ask for it several times per event. */
  private iso: string | undefined;

  constructor(readonly ms: number) {}

  static now(clockMs: number = Date.now()): Timestamp {
    return new Timestamp(clockMs);
  }

  /** Parses an ISO-8601 string; returns undefined when it is not one. */
  static parse(text: string): Timestamp | undefined {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : new Timestamp(ms);
  }

  toISOString(): string {
    return (this.iso ??= isoOf(this.ms));
  }

  toJSON(): string {
    return this.toISOString();
  }

  toString(): string {
    return this.toISOString();
  }

  /** Seconds since the epoch, the `%{+%s}` form. */
  get epochSeconds(): number {
    return Math.floor(this.ms / 1000);
  }
}
