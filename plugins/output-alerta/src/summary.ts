import type { SpoolItem } from '@pipeline/core';

/**
 * After a long outage, alerts past the spool's age (or size) cap are not replayed one by one:
 * they become one alert saying how many there were, over which period, and for which resources.
 */
export const SUMMARY_EVENT = 'SpooledAlertsExpired';

export function summariseEvicted(evicted: readonly SpoolItem[], origin: string): string {
  const resources = new Map<string, number>();
  const environments = new Map<string, number>();
  let worst: string | undefined;
  let count = 0;
  let firstMs = evicted[0]!.createdMs;
  for (const it of evicted) {
    let a: Record<string, unknown>;
    try {
      a = JSON.parse(it.payload) as Record<string, unknown>;
    } catch {
      continue;
    }
    const attrs = a.attributes as Record<string, unknown> | undefined;
    if (a.event === SUMMARY_EVENT && attrs) {
      // an earlier summary evicted in its turn: carry its count and period over
      count += Number(attrs.count) || 0;
      if (typeof a.environment === 'string') environments.set(a.environment, (environments.get(a.environment) ?? 0) + (Number(attrs.count) || 0));
      const f = Date.parse(String(attrs.firstTime));
      if (!Number.isNaN(f)) firstMs = Math.min(firstMs, f);
      for (const part of String(attrs.resources ?? '').split(' ').filter(Boolean)) {
        const at = part.lastIndexOf(':');
        resources.set(part.slice(0, at), (resources.get(part.slice(0, at)) ?? 0) + (Number(part.slice(at + 1)) || 0));
      }
      continue;
    }
    count++;
    const r = String(a.resource ?? '?');
    resources.set(r, (resources.get(r) ?? 0) + 1);
    if (typeof a.environment === 'string') environments.set(a.environment, (environments.get(a.environment) ?? 0) + 1);
    if (a.severity === 'critical' || a.severity === 'security') worst = 'critical';
  }
  const top = [...resources.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10);
  const env = [...environments.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
  const first = new Date(firstMs).toISOString();
  const last = new Date(evicted[evicted.length - 1]!.createdMs).toISOString();
  const body: Record<string, unknown> = {
    resource: 'pipeline-spool',
    event: SUMMARY_EVENT,
    severity: worst ?? 'warning',
    service: ['pipeline'],
    group: 'Pipeline',
    value: String(count),
    text: `${count} alerts from ${first} to ${last} waited too long for Alerta and were summarised here instead of replayed. Most frequent resources: ${top.map(([r, n]) => `${r} (${n})`).join(', ')}`,
    origin,
    attributes: { count: count, firstTime: first, lastTime: last, resources: top.map(([r, n]) => `${r}:${n}`).join(' ') },
    createTime: last,
  };
  if (env !== undefined) body.environment = env;
  return JSON.stringify(body);
}
