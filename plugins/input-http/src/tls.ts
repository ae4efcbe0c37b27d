import { constants } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * TLS for the http input, from Logstash's ssl_* options: PEM certificate and key, the CAs client
 * certificates must chain to, client authentication none/optional/required, the protocol list and
 * the cipher suites by their IANA names (as Logstash, which runs on the JDK, names them).
 */

export const CLIENT_AUTH = ['none', 'optional', 'required'] as const;
export type ClientAuth = (typeof CLIENT_AUTH)[number];

export const PROTOCOLS = ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type Protocol = (typeof PROTOCOLS)[number];

/** IANA suite name → the name OpenSSL (and so Node) knows it by. TLS 1.3 suites keep their names. */
const SUITES: Readonly<Record<string, string>> = {
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  // the suites TLSv1.1 can use
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
};

export const SUPPORTED_SUITES = Object.keys(SUITES);

/** Logstash's default suite list (for an up-to-date JDK). */
export const DEFAULT_SUITES = SUPPORTED_SUITES.slice(0, 13);

export function suiteError(names: readonly string[]): { message: string; item: number } | undefined {
  for (const [i, n] of names.entries()) {
    if (!Object.hasOwn(SUITES, String(n).toUpperCase())) return { message: `unknown cipher suite '${n}' (known: ${SUPPORTED_SUITES.join(', ')})`, item: i };
  }
  return undefined;
}

export function protocolError(names: readonly string[]): { message: string; item: number } | undefined {
  for (const [i, n] of names.entries()) if (!(PROTOCOLS as readonly string[]).includes(n)) return { message: `unknown protocol '${n}' (one of ${PROTOCOLS.join(', ')})`, item: i };
  if (names.length === 0) return { message: 'needs at least one protocol', item: 0 };
  return undefined;
}

export interface TlsSettings {
  certificate: string;
  key: string;
  passphrase?: string;
  /** Files, or directories whose files are all read. */
  authorities: string[];
  clientAuth: ClientAuth;
  handshakeTimeoutMs: number;
  suites: string[];
  protocols: string[];
}

function read(what: string, p: string): Buffer {
  try {
    return readFileSync(p);
  } catch (e) {
    throw new Error(`cannot read ${what} ${p}: ${(e as Error).message}`);
  }
}

/** The CA files: each path a PEM file, or a directory whose regular files are read. */
function authorities(paths: string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const p of paths) {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      /* read() says why */
    }
    if (!dir) out.push(read('ssl_certificate_authorities', p));
    else for (const f of readdirSync(p).sort()) if (statSync(join(p, f)).isFile()) out.push(read('ssl_certificate_authorities', join(p, f)));
  }
  return out;
}

/** The material read from disk (at start and on reload), for `setSecureContext` too. */
export function secureContextOf(t: TlsSettings): SecureContextOptions {
  const o: SecureContextOptions = { cert: read('ssl_certificate', t.certificate), key: read('ssl_key', t.key) };
  if (t.passphrase !== undefined) o.passphrase = t.passphrase;
  if (t.clientAuth !== 'none') o.ca = authorities(t.authorities);
  const protocols = t.protocols as Protocol[];
  const idx = protocols.map((p) => PROTOCOLS.indexOf(p)).sort();
  o.minVersion = PROTOCOLS[idx[0]!]!;
  o.maxVersion = PROTOCOLS[idx[idx.length - 1]!]!;
  // a gap (TLSv1.1 and TLSv1.3 without 1.2) is closed by OpenSSL's per-version switch
  if (o.minVersion === 'TLSv1.1' && o.maxVersion === 'TLSv1.3' && !protocols.includes('TLSv1.2')) o.secureOptions = constants.SSL_OP_NO_TLSv1_2;
  // TLS 1.1 only works at OpenSSL security level 0 (it signs with SHA-1/MD5)
  const suites = t.suites.map((s) => SUITES[s.toUpperCase()]!).join(':');
  o.ciphers = o.minVersion === 'TLSv1.1' ? `${suites}:@SECLEVEL=0` : suites;
  return o;
}

/** Options for https.createServer. */
export function serverTlsOptions(t: TlsSettings): TlsOptions {
  return {
    ...secureContextOf(t),
    requestCert: t.clientAuth !== 'none',
    // 'optional' verifies a certificate the client presents; the server refuses an unverified one itself
    rejectUnauthorized: t.clientAuth === 'required',
    handshakeTimeout: t.handshakeTimeoutMs,
  };
}
