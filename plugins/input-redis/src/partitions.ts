/**
 * Which streams an indexer reads. One partition: the key itself. N partitions: `key:0` ..
 * `key:N-1` (the names the redis output writes), or only the `owned_partitions` among them.
 */
export function streamsToRead(key: string, partitions: number, owned: readonly number[] | undefined): string[] {
  if (partitions <= 1) return [key];
  const list = owned && owned.length > 0 ? owned : Array.from({ length: partitions }, (_, i) => i);
  return list.map((p) => `${key}:${p}`);
}

/** A reason the owned partitions are wrong, or undefined. */
export function checkOwned(owned: readonly unknown[] | undefined, partitions: number): string | undefined {
  if (owned === undefined || owned.length === 0) return undefined;
  if (partitions <= 1) return 'owned_partitions needs partitions > 1';
  const seen = new Set<number>();
  for (const p of owned) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n >= partitions) return `owned_partitions: ${String(p)} is not a partition number from 0 to ${partitions - 1}`;
    if (seen.has(n)) return `owned_partitions: ${n} is listed twice`;
    seen.add(n);
  }
  return undefined;
}
