import { readFileSync } from 'node:fs';

/** What a reliability test finds in an output file: how often each numbered line arrived. */
export interface Tally {
  /** How often each line number was seen. */
  counts: Map<number, number>;
  /** Lines seen in all. */
  total: number;
}

/**
 * Counts each `<prefix>N` line (optionally followed by a space and padding) in `file`. A torn last
 * line (kill -9 mid-write) is left out; a missing file is an empty tally.
 */
export function tallyLines(file: string, prefix: string): Tally {
  const counts = new Map<number, number>();
  let total = 0;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { counts, total };
  }
  const re = new RegExp(`^${prefix}(\\d+)(?: .*)?$`);
  for (const l of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    const m = re.exec(l);
    if (!m) continue;
    const n = Number(m[1]);
    counts.set(n, (counts.get(n) ?? 0) + 1);
    total++;
  }
  return { counts, total };
}

/** Lines delivered more than once: deliveries beyond the first of each line. */
export const duplicates = (t: Tally): number => t.total - t.counts.size;
