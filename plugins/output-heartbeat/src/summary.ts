import type { SpoolItem } from '@pipeline/core';

/**
 * What replaces heartbeats evicted by the spool's age or size cap. A heartbeat is state, not
 * history (Alerta upserts it by origin), so replaying every old one is pointless: only the newest
 * heartbeat of each origin among the evicted ones is kept, in the order of those newest ones.
 */
export function newestPerOrigin(evicted: readonly SpoolItem[]): string[] {
  const last = new Map<string, string>();
  for (const it of evicted) {
    let origin: string;
    try {
      origin = String((JSON.parse(it.payload) as { origin?: unknown }).origin);
    } catch {
      continue;
    }
    last.delete(origin);
    last.set(origin, it.payload);
  }
  return [...last.values()];
}
