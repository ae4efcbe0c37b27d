/**
 * Splits an `address[:port]` endpoint as Snort and Suricata print it. IPv4 is unambiguous
 * (`10.0.0.1:80`). IPv6 is not: Snort 2 writes `2001:db8::1:80`, where the last group may be the
 * port; Suricata writes the full eight groups, so a ninth is the port; Snort 3 brackets the address
 * (`[2001:db8::1]:80`). So the protocol decides for compressed IPv6: TCP, UDP and SCTP carry ports,
 * other protocols (ICMP, IPV6-ICMP, IGMP, ...) do not, unless the address has nine groups.
 */
import { isIPv6 } from 'node:net';

export interface Endpoint {
  ip: string;
  port?: number;
}

const PORTED = new Set(['TCP', 'UDP', 'SCTP', 'UDPLITE', 'DCCP']);
const IPV4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/;
const BRACKETED = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/;
const LAST_GROUP = /^(.*):(\d{1,5})$/;

export function hasPorts(protocol: string): boolean {
  return PORTED.has(protocol.toUpperCase());
}

export function parseEndpoint(text: string, protocolHasPorts: boolean): Endpoint | undefined {
  let m = IPV4_PORT.exec(text);
  if (m !== null) return m[2] === undefined ? { ip: m[1]! } : { ip: m[1]!, port: Number(m[2]) };
  m = BRACKETED.exec(text);
  if (m !== null) return m[2] === undefined ? { ip: m[1]! } : { ip: m[1]!, port: Number(m[2]) };
  if (!text.includes(':')) return undefined;
  const split = LAST_GROUP.exec(text);
  const ninthGroup = split !== null && !text.includes('::') && text.split(':').length === 9;
  if (split !== null && (protocolHasPorts || ninthGroup) && isIPv6(split[1]!)) return { ip: split[1]!, port: Number(split[2]) };
  return isIPv6(text) ? { ip: text } : undefined;
}
