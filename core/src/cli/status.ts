/** `pipeline status`: a readable summary of a running pipeline, read from its monitoring API. */
export async function statusCommand(host: string, port: number): Promise<number> {
  let stats: Record<string, any>;
  try {
    const res = await fetch(`http://${host}:${port}/_node/stats`);
    stats = (await res.json()) as Record<string, any>;
  } catch (e) {
    process.stderr.write(`no pipeline answers at http://${host}:${port} (${(e as Error).message}); is it running, with the API on (api.http.host/api.http.port)?\n`);
    return 1;
  }
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const out: string[] = [];
  const p = stats.process;
  out.push(`pipeline ${stats.id} on ${stats.host}, version ${stats.version}, status ${stats.status}`);
  out.push(`  up ${Math.round(p.uptime_in_millis / 1000)} s, pid ${p.pid}, rss ${mib(p.mem.rss_in_bytes)}, heap ${mib(p.mem.heap_used_in_bytes)}, cpu ${p.cpu.percent}% (${p.cpu.total_in_millis} ms total)`);
  out.push(`  events: in ${stats.events.in ?? 0}, filtered ${stats.events.filtered ?? 0}, out ${stats.events.out ?? 0}`);
  for (const [id, pl] of Object.entries<any>(stats.pipelines)) {
    out.push(`  queue (${pl.queue.type}): ${pl.queue.size} events of ${pl.queue.capacity}${pl.queue.bytes !== undefined ? `, ${mib(pl.queue.bytes)} on disk` : ''}`);
    out.push(`  reloads: ${pl.reloads.successes} ok, ${pl.reloads.failures} failed${pl.reloads.last_error ? ` (last error: ${String(pl.reloads.last_error).split('\n')[0]})` : ''}`);
    for (const kind of ['inputs', 'filters', 'outputs']) {
      for (const plug of pl.plugins[kind] as any[]) {
        const { id: pid, ...m } = plug;
        const flat: string[] = [];
        const walk = (prefix: string, o: Record<string, any>) => {
          for (const [k, v] of Object.entries(o)) typeof v === 'number' ? flat.push(`${prefix}${k}=${Math.round(v * 100) / 100}`) : walk(`${prefix}${k}.`, v);
        };
        walk('', m);
        out.push(`  ${kind.slice(0, -1).padEnd(6)} ${String(pid).padEnd(28)} ${flat.join(' ')}`);
      }
    }
    void id;
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
