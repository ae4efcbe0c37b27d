/**
 * The server messages this filter recognises, each a regex compiled once and a function that
 * fills an OpenVpnEvent from the match. The first that matches wins. Messages come from OpenVPN
 * 2.4–2.6 server logs (`--verb 3`) and the auth-pam plugin.
 */
import { splitAddress } from './prefix.js';

export type EventKind = 'connected' | 'address_assigned' | 'auth_failed' | 'tls_error' | 'tls_verified' | 'inactivity_timeout' | 'disconnected';

export interface OpenVpnEvent {
  event: EventKind;
  common_name?: string;
  username?: string;
  real_ip?: string;
  real_port?: number;
  virtual_ip?: string;
  virtual_ipv6?: string;
  signal?: string;
  reason?: string;
}

type Fill = (m: RegExpExecArray, e: OpenVpnEvent) => void;

function peer(e: OpenVpnEvent, text: string | undefined): void {
  const a = text === undefined ? undefined : splitAddress(text);
  if (a === undefined) return;
  e.real_ip = a.ip;
  e.real_port = a.port;
}

const COMMON_NAME_IN_TEXT = /common name '([^']*)'/;

const RULES: [EventKind, RegExp, Fill][] = [
  // `[client1] Peer Connection Initiated with [AF_INET]198.51.100.7:49502`
  ['connected', /^\[([^\]]*)\] Peer Connection Initiated with \[AF_INET6?\](\S+)/, (m, e) => {
    e.common_name = m[1];
    peer(e, m[2]);
  }],
  // `MULTI_sva: pool returned IPv4=10.8.0.6, IPv6=(Not enabled)` (IPv6 may be an address)
  ['address_assigned', /^MULTI_sva: pool returned IPv4=([^,\s]+), IPv6=(\S+)/, (m, e) => {
    if (m[1] !== '(Not') e.virtual_ip = m[1];
    if (!m[2]!.startsWith('(')) e.virtual_ipv6 = m[2];
  }],
  // `TLS Auth Error: Auth Username/Password verification failed for peer`,
  // `TLS Auth Error: --client-config-dir authentication failed for common name 'x' file='...'`
  ['auth_failed', /^TLS Auth Error: (.*)$/, (m, e) => {
    e.reason = m[1];
    const cn = COMMON_NAME_IN_TEXT.exec(m[1]!);
    if (cn) e.common_name = cn[1];
  }],
  // `SENT CONTROL [client1]: 'AUTH_FAILED' (status=1)` or `'AUTH_FAILED,reason'`
  ['auth_failed', /^SENT CONTROL \[([^\]]*)\]: 'AUTH_FAILED(?:,([^']*))?'/, (m, e) => {
    e.common_name ??= m[1];
    e.reason = m[2] === undefined || m[2] === '' ? 'AUTH_FAILED' : m[2];
  }],
  // `TLS: Username/Password authentication failed for username 'bob'` (and auth-token)
  ['auth_failed', /^TLS: (Username\/(?:Password|auth-token) authentication failed) for username '?([^'\s]*)'?/, (m, e) => {
    e.username = m[2];
    e.reason = m[1];
  }],
  // `AUTH-PAM: BACKGROUND: user 'bob' failed to authenticate: Authentication failure`
  ['auth_failed', /^AUTH-PAM: BACKGROUND: user '([^']*)' failed to authenticate: (.*)$/, (m, e) => {
    e.username = m[1];
    e.reason = m[2];
  }],
  // `OTP-AUTH: authentication failed for username 'bob', remote 198.51.100.7:47776` (auth plugins)
  ['auth_failed', /^([\w-]+): authentication failed for username '([^']*)'(?:, remote (\S+))?/, (m, e) => {
    e.username = m[2];
    e.reason = `${m[1]}: authentication failed`;
    if (e.real_ip === undefined) peer(e, m[3]);
  }],
  // `TLS Error: TLS handshake failed`, `TLS Error: cannot locate HMAC in incoming packet from [AF_INET]198.51.100.7:1194`
  ['tls_error', /^TLS Error: (.*)$/, (m, e) => {
    e.reason = m[1];
    const from = /from \[AF_INET6?\](\S+)$/.exec(m[1]!);
    if (from && e.real_ip === undefined) peer(e, from[1]);
  }],
  // `VERIFY ERROR: depth=0, error=certificate has expired: CN=client1`
  ['tls_error', /^VERIFY ERROR: (.*)$/, (m, e) => {
    e.reason = `VERIFY ERROR: ${m[1]}`;
    const cn = /CN=([^,]+)$/.exec(m[1]!);
    if (cn) e.common_name ??= cn[1];
  }],
  // `VERIFY OK: depth=0, C=.., CN=client1, name=..` — only the peer's own certificate (depth 0)
  ['tls_verified', /^VERIFY OK: depth=0, (?:.*?, )?CN=([^,]+)/, (m, e) => {
    e.common_name ??= m[1];
  }],
  // `[client1] Inactivity timeout (--ping-restart), restarting`
  ['inactivity_timeout', /^(?:\[([^\]]*)\] )?Inactivity timeout \(([^)]*)\)/, (m, e) => {
    if (m[1] !== undefined) e.common_name ??= m[1];
    e.reason = m[2];
  }],
  // `SIGTERM[soft,remote-exit] received, client-instance exiting`,
  // `SIGUSR1[soft,ping-restart] received, client-instance restarting`
  ['disconnected', /^(SIG[A-Z0-9]+)\[(?:soft|hard),([^\]]*)\] received, client-instance (exiting|restarting)/, (m, e) => {
    e.signal = m[1];
    e.reason = m[2] || m[3];
  }],
];

/** Recognises the message (after the prefixes); fills `e` and returns true, or returns false. */
export function recognise(message: string, e: OpenVpnEvent): boolean {
  for (const [kind, re, fill] of RULES) {
    const m = re.exec(message);
    if (m === null) continue;
    e.event = kind;
    fill(m, e);
    return true;
  }
  return false;
}
