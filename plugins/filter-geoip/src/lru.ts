/**
 * A least-recently-used map of fixed capacity. Entries live in preallocated slots linked by index
 * (two Int32Arrays), so a hit moves its slot to the front without allocating; a miss on a full
 * cache reuses the slot of the least recently used entry.
 */
export class Lru<V, K extends string | number = string> {
  private readonly index = new Map<K, number>();
  private readonly keys: (K | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = -1;
  private tail = -1;
  private used = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.keys = new Array<K | undefined>(capacity).fill(undefined);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.prev = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.used;
  }

  get(key: K): V | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    if (slot !== this.head) {
      this.unlink(slot);
      this.pushFront(slot);
    }
    return this.values[slot];
  }

  set(key: K, value: V): void {
    let slot = this.index.get(key);
    if (slot !== undefined) {
      this.values[slot] = value;
      if (slot !== this.head) {
        this.unlink(slot);
        this.pushFront(slot);
      }
      return;
    }
    if (this.used < this.capacity) slot = this.used++;
    else {
      slot = this.tail;
      this.index.delete(this.keys[slot]!);
      this.unlink(slot);
    }
    this.keys[slot] = key;
    this.values[slot] = value;
    this.index.set(key, slot);
    this.pushFront(slot);
  }

  clear(): void {
    this.index.clear();
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.prev.fill(-1);
    this.next.fill(-1);
    this.head = this.tail = -1;
    this.used = 0;
  }

  /** Keys from most to least recently used (for tests). */
  keysByRecency(): K[] {
    const out: K[] = [];
    for (let s = this.head; s !== -1; s = this.next[s]!) out.push(this.keys[s]!);
    return out;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== -1) this.next[p] = n;
    else this.head = n;
    if (n !== -1) this.prev[n] = p;
    else this.tail = p;
    this.prev[slot] = this.next[slot] = -1;
  }

  private pushFront(slot: number): void {
    this.prev[slot] = -1;
    this.next[slot] = this.head;
    if (this.head !== -1) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail === -1) this.tail = slot;
  }
}
