/**
 * A bounded cache whose entries expire a fixed time after they were stored (Logstash uses
 * lru_redux's TTL cache): reading an entry makes it the most recently used; storing past the
 * size evicts the least recently used. Time comes from the caller (ctx.clock).
 */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();

  constructor(
    readonly size: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    if (e.expires <= now) return undefined;
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V, now: number): void {
    const e = this.map.get(key);
    if (e !== undefined) {
      this.map.delete(key);
      e.value = value;
      e.expires = now + this.ttlMs;
      this.map.set(key, e);
      return;
    }
    this.map.set(key, { value, expires: now + this.ttlMs });
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }

  get length(): number {
    return this.map.size;
  }
}
