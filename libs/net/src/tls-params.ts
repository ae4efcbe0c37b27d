import { getCiphers } from 'node:tls';
import { opt } from '@pipeline/core';

/**
 * Logstash's TLS tuning options of a listening input, in Java's terms, turned into what Node's
 * TLS (OpenSSL) takes: cipher suites by their IANA names (Java's, e.g.
 * TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) become OpenSSL's (ECDHE-RSA-AES256-GCM-SHA384); protocol
 * versions become a minimum and a maximum (OpenSSL enables a range, so a list with a gap enables
 * the versions between too).
 */
export const PROTOCOLS = ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const tlsTuningOptions = {
  ssl_cipher_suites: opt.strings({
    default: [],
    description: "Cipher suites by their IANA/Java names (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256); empty: OpenSSL's defaults.",
    validate: (list: string[]) => {
      for (const [i, s] of list.entries()) if (openSslCipher(s) === undefined) return { message: `unknown cipher suite '${s}' (IANA names, as Java and Logstash take them)`, item: i };
      return undefined;
    },
  }),
  ssl_supported_protocols: opt.strings({
    default: [],
    description: "TLS versions allowed: TLSv1.1, TLSv1.2, TLSv1.3 (the lowest to the highest listed are enabled); empty: TLSv1.2 and TLSv1.3.",
    validate: (list: string[]) => {
      for (const [i, s] of list.entries()) if (!(PROTOCOLS as readonly string[]).includes(s)) return { message: `'${s}' is not one of ${PROTOCOLS.join(', ')}`, item: i };
      return undefined;
    },
  }),
};

let known: Set<string> | undefined;

/** OpenSSL's name for an IANA cipher suite name, or undefined when OpenSSL here has no such suite. */
export function openSslCipher(iana: string): string | undefined {
  known ??= new Set(getCiphers().map((c) => c.toUpperCase()));
  const name = iana.trim().toUpperCase();
  if (!name.startsWith('TLS_')) return undefined;
  const w = name.indexOf('_WITH_');
  // TLS 1.3 suites have one name in both worlds
  if (w < 0) return known.has(name) ? name : undefined;
  const kx = name.slice(4, w).replace(/_/g, '-'); // ECDHE_RSA -> ECDHE-RSA; plain RSA key exchange has no prefix
  let enc = name.slice(w + 6);
  enc = enc
    .replace(/^AES_(128|256)_/, 'AES$1_')
    .replace(/^CHACHA20_POLY1305_SHA256$/, 'CHACHA20_POLY1305')
    .replace(/_CBC_/, '_')
    .replace(/_/g, '-');
  const out = kx === 'RSA' ? enc : `${kx}-${enc}`;
  return known.has(out) ? out : undefined;
}

export interface TlsTuning {
  ciphers?: string;
  minVersion?: Protocol;
  maxVersion?: Protocol;
}

/** The secure-context parameters for the options (already validated). */
export function tlsTuningOf(o: { ssl_cipher_suites?: string[]; ssl_supported_protocols?: string[] }): TlsTuning {
  const out: TlsTuning = {};
  if (o.ssl_cipher_suites?.length) out.ciphers = o.ssl_cipher_suites.map((s) => openSslCipher(s)!).join(':');
  const p = (o.ssl_supported_protocols ?? []).map((v) => PROTOCOLS.indexOf(v as Protocol)).filter((i) => i >= 0);
  if (p.length) {
    out.minVersion = PROTOCOLS[Math.min(...p)];
    out.maxVersion = PROTOCOLS[Math.max(...p)];
  }
  return out;
}
