import { readFileSync, statSync } from 'node:fs';
import { compileTemplate, ConfigError, definePlugin, fieldRef, opt, type FieldRef, type Logger, type Template } from '@pipeline/core';
import { NetworkSet, parseNet, type Net } from './ip.js';

export { NetworkSet, parseNet, type Net } from './ip.js';

const options = {
  address: opt.strings({ default: [], description: 'IP addresses to check (sprintf: "%{src_ip}"); any one inside any network is a match' }),
  address_field: opt.field({ description: 'field holding the address or an array of addresses to check (instead of address)' }),
  network: opt.strings({ default: [], description: 'networks (192.168.0.0/16, 10.0.0.0/255.0.0.0, fe80::/64, a single address); an item may hold several separated by commas, and be sprintf ("%{allowed}")' }),
  network_path: opt.path({ description: 'file of networks, one per separator (instead of network)' }),
  refresh_interval: opt.number({ default: 600, description: 'seconds between checks of network_path; a changed file is read again (0 or less: never)' }),
  separator: opt.string({ default: '\n', description: 'what separates the networks in network_path' }),
};

type Options = {
  address: string[];
  address_field?: string | undefined;
  network: string[];
  network_path?: string | undefined;
  refresh_interval: number;
  separator: string;
};

/** The networks of one text: entries split on `separator`, trimmed, empty ones skipped; the invalid ones listed. */
export function parseNetworks(text: string, separator: string): { set: NetworkSet; invalid: string[] } {
  const set = new NetworkSet();
  const invalid: string[] = [];
  for (const raw of text.split(separator)) {
    const entry = raw.trim();
    if (entry === '') continue;
    const n = parseNet(entry);
    if (n === undefined) invalid.push(entry);
    else set.add(n);
  }
  return { set, invalid };
}

/** What a network file holds now; throws when it cannot be read or holds no network. */
function loadFile(path: string, separator: string, logger?: Logger): NetworkSet {
  const { set, invalid } = parseNetworks(readFileSync(path, 'utf8'), separator);
  if (invalid.length) logger?.warn({ path, invalid: invalid.slice(0, 10), count: invalid.length }, 'cidr: entries of network_path that are not networks, skipped');
  if (set.size === 0) throw new Error(`no network in ${path}${invalid.length ? ` (${invalid.length} invalid entries, e.g. '${invalid[0]}')` : ''}; check the separator`);
  return set;
}

function compile(o: Options, resolvePath: (p: string) => string, logger?: Logger) {
  if (o.network_path !== undefined && o.network.length > 0) throw ConfigError.forOption('network_path', "cidr: the options 'network' and 'network_path' are mutually exclusive");
  if (o.address_field !== undefined && o.address.length > 0) throw ConfigError.forOption('address_field', "cidr: the options 'address' and 'address_field' are mutually exclusive");
  if (o.address_field === undefined && o.address.length === 0) throw new ConfigError("cidr: set 'address' or 'address_field': without an address the filter never matches");
  if (o.network_path === undefined && o.network.length === 0) throw new ConfigError("cidr: set 'network' or 'network_path': without a network the filter never matches");
  if (o.separator === '') throw ConfigError.forOption('separator', "cidr: option 'separator' must not be empty");
  // static networks are compiled once; an item with %{...} is rendered per event
  const fixed = new NetworkSet();
  const dynamic: Template[] = [];
  for (const item of o.network.map(String)) {
    const t = compileTemplate(item);
    if (t.dynamic) {
      dynamic.push(t);
      continue;
    }
    let any = false;
    for (const raw of item.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      const n = parseNet(entry);
      if (n === undefined) throw ConfigError.forOption('network', `cidr: '${entry}' is not an IP network`, 'a network is an address with an optional /prefix length or /netmask: 192.168.0.0/16, 10.0.0.0/255.0.0.0, fe80::/64', item);
      fixed.add(n);
      any = true;
    }
    if (!any) throw ConfigError.forOption('network', 'cidr: an empty network', undefined, item);
  }
  let path: string | undefined;
  let fromFile: NetworkSet | undefined;
  if (o.network_path !== undefined) {
    path = resolvePath(o.network_path);
    try {
      fromFile = loadFile(path, o.separator, logger);
    } catch (e) {
      throw ConfigError.forOption('network_path', `cidr: network_path: ${(e as Error).message}`);
    }
  }
  const addresses = o.address.map((a) => compileTemplate(String(a)));
  const addressField: FieldRef | undefined = o.address_field === undefined ? undefined : fieldRef(o.address_field);
  return { fixed, fromFile, dynamic, path, addresses, addressField };
}

/** Sets made from rendered network templates, by their text; cleared when it holds this many. */
const DYNAMIC_CACHE = 1024;

export default definePlugin({
  kind: 'filter',
  name: 'cidr',
  description: 'Matches IP addresses in fields against lists of networks.',
  options,
  parallel: true,
  check(o, env) {
    compile(o, env.resolvePath);
  },
  create(o, ctx) {
    const { fixed, fromFile, dynamic, path, addresses, addressField } = compile(o, (p) => ctx.resolvePath(p), ctx.logger);
    const invalidAddresses = ctx.metrics.counter('invalid_addresses');
    const reloads = ctx.metrics.counter('network_reloads');
    let networks = fromFile ?? fixed;
    let timer: { cancel(): void } | undefined;
    if (path !== undefined) {
      let seen = statSync(path, { throwIfNoEntry: false });
      if (o.refresh_interval > 0) {
        timer = ctx.clock.setInterval(() => {
          const st = statSync(path, { throwIfNoEntry: false });
          if (st === undefined) {
            if (seen !== undefined) ctx.logger.warn({ path }, 'cidr: network_path is gone; the networks read before stay');
            seen = st;
            return;
          }
          if (seen !== undefined && st.mtimeMs === seen.mtimeMs && st.size === seen.size && st.ino === seen.ino) return;
          seen = st;
          try {
            networks = loadFile(path, o.separator, ctx.logger);
            reloads.inc();
            ctx.logger.info({ path, networks: networks.size }, 'cidr: network_path read again');
          } catch (e) {
            ctx.logger.error({ path, err: (e as Error).message }, 'cidr: network_path could not be read again; the networks read before stay');
          }
        }, o.refresh_interval * 1000);
      }
    }
    const cache = new Map<string, NetworkSet>();
    const dynamicSet = (text: string): NetworkSet => {
      let s = cache.get(text);
      if (s === undefined) {
        s = parseNetworks(text, ',').set;
        if (cache.size >= DYNAMIC_CACHE) cache.clear();
        cache.set(text, s);
      }
      return s;
    };
    const inside = (a: Net, fields: Record<string, unknown>): boolean => {
      if (networks.has(a)) return true;
      for (const t of dynamic) if (dynamicSet(t.render(fields)).has(a)) return true;
      return false;
    };
    const check = (candidate: unknown, fields: Record<string, unknown>): boolean => {
      if (typeof candidate !== 'string') {
        if (candidate !== undefined) invalidAddresses.inc();
        return false;
      }
      const a = parseNet(candidate);
      if (a === undefined) {
        invalidAddresses.inc();
        return false;
      }
      return inside(a, fields);
    };
    return {
      filter(event) {
        const fields = event.fields;
        if (addressField) {
          const v = addressField.get(fields);
          if (Array.isArray(v)) {
            for (const x of v) if (check(x, fields)) return true;
            return false;
          }
          return check(v, fields);
        }
        for (const t of addresses) if (check(t.render(fields), fields)) return true;
        return false;
      },
      close() {
        timer?.cancel();
      },
    };
  },
});
