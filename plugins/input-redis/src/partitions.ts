/**
 * Which streams an indexer reads. One partition: the key itself. N partitions: `key:0` ..
 * `key:N-1` (the names the redis output writes), or only the `owned_partitions` among them.
 */
export function streamsToRead(key: string, partitions: number, owned: readonly number[] | undefined): string[] {
  if (partitions <= 1) return [key];
  const list = owned && owned.length > 0 ? owned : Array.from({ length: partitions }, (_, i) => i);
  return list.map((p) => `${key}:${p}`);
}

/**
 * The owned partitions as numbers. Each element is a number or a text of numbers and ranges,
 * `"0-3"` or `"0,4,8"`, so one environment variable can carry the whole list
 * (`owned_partitions => ["${INDEXER_PARTITIONS}"]`). Unreadable parts come back as NaN for checkOwned.
 */
export function expandOwned(owned: readonly unknown[] | undefined): number[] | undefined {
  if (owned === undefined) return undefined;
  const out: number[] = [];
  for (const item of owned) {
    if (typeof item === 'number') {
      out.push(item);
      continue;
    }
    for (const part of String(item).split(',')) {
      const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
      if (m) for (let i = Number(m[1]); i <= Number(m[2]); i++) out.push(i);
      else out.push(part.trim() === '' ? NaN : Number(part));
    }
  }
  return out;
}

/** A reason the owned partitions are wrong, or undefined. */
export function checkOwned(owned: readonly unknown[] | undefined, partitions: number): string | undefined {
  if (owned === undefined || owned.length === 0) return undefined;
  if (partitions <= 1) return 'owned_partitions needs partitions > 1';
  const seen = new Set<number>();
  for (const p of expandOwned(owned)!) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n >= partitions) return `owned_partitions: ${JSON.stringify(owned)} holds ${String(p)}, not a partition number from 0 to ${partitions - 1} (write numbers, "0-3" or "0,4,8")`;
    if (seen.has(n)) return `owned_partitions: ${n} is listed twice`;
    seen.add(n);
  }
  return undefined;
}
