import type { ReplaySummary } from './summary.js';

/**
 * The replay report: one self-contained HTML page (inline CSS and SVG, no script, nothing
 * fetched): the counts, the table of rules that fired, and a timeline of alerts per rule per hour,
 * one row of bars per rule on a shared time axis.
 */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n = (x: number) => x.toLocaleString('en-US');
const HOUR = 3_600_000;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

function timeline(s: ReplaySummary): string {
  const rules = s.alerts;
  if (rules.length === 0) return '<p class="none">No rule fired.</p>';
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rules)
    for (const h of Object.keys(r.hours)) {
      const ms = Date.parse(h);
      lo = Math.min(lo, ms);
      hi = Math.max(hi, ms);
    }
  if (s.from) lo = Math.min(lo, Math.floor(Date.parse(s.from) / HOUR) * HOUR);
  if (s.to) hi = Math.max(hi, Math.floor(Date.parse(s.to) / HOUR) * HOUR);
  const hours = Math.round((hi - lo) / HOUR) + 1;
  const label = 340;
  const rowH = 34;
  const plotW = Math.max(480, Math.min(1100, hours * 12));
  const barW = plotW / hours;
  const top = 10;
  const axisH = 40;
  const height = top + rules.length * rowH + axisH;
  const width = label + plotW + 100;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="alerts per rule per hour">`);
  rules.forEach((r, i) => {
    const y0 = top + i * rowH;
    const max = Math.max(...Object.values(r.hours));
    const color = COLORS[i % COLORS.length]!;
    parts.push(`<g><title>${esc(r.desc)}: ${n(r.count)} alerts</title>`);
    const name = r.desc.length > 40 ? `${r.desc.slice(0, 39)}…` : r.desc;
    const twin = rules.some((o) => o !== r && o.desc === r.desc) && r.rule ? ` (${r.rule})` : '';
    parts.push(`<text x="${label - 8}" y="${y0 + rowH / 2 + 4}" text-anchor="end" class="rule">${esc(name + twin)}</text>`);
    parts.push(`<line x1="${label}" x2="${label + plotW}" y1="${y0 + rowH - 4}" y2="${y0 + rowH - 4}" class="base"/>`);
    for (const [h, c] of Object.entries(r.hours)) {
      const x = label + ((Date.parse(h) - lo) / HOUR) * barW;
      const bh = Math.max(2, ((rowH - 10) * c) / max);
      parts.push(`<rect x="${x.toFixed(1)}" y="${(y0 + rowH - 4 - bh).toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"><title>${esc(h.slice(0, 13))}:00Z ${esc(r.desc)}: ${n(c)}</title></rect>`);
    }
    parts.push(`<text x="${label + plotW + 6}" y="${y0 + rowH / 2 + 4}" class="max">max ${n(max)}/h</text></g>`);
  });
  // axis: a tick per day (or every 6 h for short spans)
  const yAxis = top + rules.length * rowH;
  parts.push(`<line x1="${label}" x2="${label + plotW}" y1="${yAxis}" y2="${yAxis}" class="axis"/>`);
  // a label every 1, 3, 6, 12 or 24 hours, whichever leaves room for its text
  const step = [1, 3, 6, 12, 24].find((h) => h * barW >= 80) ?? 24;
  for (let k = 0; k < hours; k++) {
    const t = lo + k * HOUR;
    if (new Date(t).getUTCHours() % step !== 0) continue;
    const x = label + k * barW;
    const iso = new Date(t).toISOString();
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${yAxis}" y2="${yAxis + 5}" class="axis"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${yAxis + 18}" text-anchor="middle" class="tick">${step === 24 ? iso.slice(5, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`}</text>`);
  }
  parts.push(`<text x="${label + plotW / 2}" y="${yAxis + 35}" text-anchor="middle" class="tick">event time (UTC), one bar per hour</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** An alert in a few words: its severity, resource and event (a heartbeat: origin and timeout). */
function example(e: Record<string, unknown> | undefined): string {
  if (!e) return '';
  const a = e.alert as Record<string, unknown> | undefined;
  if (a) return [a.severity, a.resource, a.event].filter((x) => x !== undefined).map(String).join(' · ');
  const h = e.heartbeat as Record<string, unknown> | undefined;
  return h ? `heartbeat ${String(h.origin ?? '')} (timeout ${String(h.timeout ?? '')} s)` : '';
}

export function reportHtml(s: ReplaySummary): string {
  const total = s.alerts.reduce((a, r) => a + r.count, 0);
  const failures = Object.entries(s.failures)
    .map(([k, v]) => `<code>${esc(k)}</code> ${n(v)}`)
    .join(', ');
  const rows = s.alerts
    .map(
      (r, i) =>
        `<tr><td><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${esc(r.desc)}${r.rule ? ` <span class="muted">${esc(r.rule)}</span>` : ''}</td><td class="num">${n(r.count)}</td><td class="t">${esc(r.first)}</td><td class="t">${esc(r.last)}</td><td class="ex">${esc(example(r.examples[0]))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pipeline replay: ${n(total)} alerts from ${n(s.lines)} lines</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0; }
dt { color: #666; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.ex { max-width: 520px; overflow-wrap: anywhere; color: #444; }
.muted { color: #888; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
svg .tick { fill: #666; font-size: 11px; }
svg .max { fill: #888; font-size: 11px; }
svg .base { stroke: #eee; }
svg .axis { stroke: #999; }
</style></head>
<body>
<h1>pipeline replay</h1>
<dl>
<dt>files</dt><dd>${s.files.map((f) => `<code>${esc(f)}</code>`).join(' ')}</dd>
<dt>lines read</dt><dd>${n(s.lines)}</dd>
<dt>events</dt><dd>${n(s.events)}${s.from ? `, event time ${esc(s.from)} to ${esc(s.to!)}` : ''}</dd>
<dt>parse failures</dt><dd>${failures}</dd>
<dt>late events</dt><dd>${n(s.late)}</dd>
${s.skipped ? `<dt>outside --from/--to</dt><dd>${n(s.skipped)}</dd>` : ''}
<dt>alerts</dt><dd>${n(total)} from ${n(s.alerts.length)} rule${s.alerts.length === 1 ? '' : 's'}</dd>
</dl>
<h2>Alerts per rule per hour</h2>
${timeline(s)}
<h2>Rules that fired</h2>
<table><thead><tr><th>rule</th><th>count</th><th>first</th><th>last</th><th>first alert (severity · resource · event)</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5">none</td></tr>'}
</tbody></table>
</body></html>
`;
}
