/** Logstash's `host` list: `"name"` or `"name:port"`, the port falling back to the `port` option. */
export interface HostPort {
  host: string;
  port: number;
}

export function parseHosts(hosts: readonly string[], defaultPort: number): HostPort[] {
  return hosts.map((h) => {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(h); // [::1]:6380
    if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
    const colons = h.split(':').length - 1;
    if (colons === 1) {
      const [name, port] = h.split(':');
      return { host: name!, port: Number(port) };
    }
    return { host: h, port: defaultPort };
  });
}

/** Fisher–Yates, as Logstash shuffles the list at start so shippers spread over the hosts. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
