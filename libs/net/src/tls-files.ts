import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '@pipeline/core';
import type { ClientAuth } from './listen-options.js';
import type { TlsTuning } from './tls-params.js';

/** Where the TLS material lives; read at start and again on every reload. */
export interface TlsFiles {
  cert: string;
  key: string;
  passphrase?: string;
  extraChain: string[];
  cas: string[];
  clientAuth: ClientAuth;
  /** ssl_cipher_suites and ssl_supported_protocols, in OpenSSL's terms. */
  tuning?: TlsTuning;
}

const WARN_DAYS = 30;
const DAY_MS = 86_400_000;

/** Reads the files into secure-context options; throws with the file name on a bad file. */
export function loadTls(files: TlsFiles): SecureContextOptions {
  const read = (what: string, p: string) => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new Error(`cannot read ${what} ${p}: ${(e as Error).message}`);
    }
  };
  const cert = Buffer.concat([read('ssl_cert', files.cert), ...files.extraChain.map((p) => Buffer.concat([Buffer.from('\n'), read('ssl_extra_chain_certs', p)]))]);
  const out: SecureContextOptions = { cert, key: read('ssl_key', files.key) };
  if (files.passphrase !== undefined) out.passphrase = files.passphrase;
  if (files.cas.length) out.ca = files.cas.map((p) => read('ssl_certificate_authorities', p));
  const t = files.tuning;
  if (t?.ciphers) out.ciphers = t.ciphers;
  if (t?.minVersion) out.minVersion = t.minVersion;
  if (t?.maxVersion) out.maxVersion = t.maxVersion;
  return out;
}

/** PEM certificates in a buffer, in order. */
function pemCerts(buf: Buffer | string): X509Certificate[] {
  const text = buf.toString();
  const out: X509Certificate[] = [];
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
    try {
      out.push(new X509Certificate(m[0]));
    } catch {
      /* an unparsable block: the TLS stack reports it */
    }
  }
  return out;
}

/** Logs a warning for every certificate (server, chain, CAs) that expires within 30 days or has. */
export function warnExpiring(opts: SecureContextOptions, nowMs: number, logger: Logger): void {
  const sources: [string, Buffer | string][] = [['ssl_cert', opts.cert as Buffer]];
  for (const ca of (opts.ca as Buffer[] | undefined) ?? []) sources.push(['ssl_certificate_authorities', ca]);
  for (const [what, buf] of sources) {
    for (const c of pemCerts(buf)) {
      const end = Date.parse(c.validTo);
      const days = Math.floor((end - nowMs) / DAY_MS);
      if (end <= nowMs) logger.error({ option: what, subject: c.subject, notAfter: c.validTo }, `TLS certificate has expired (${c.validTo})`);
      else if (days < WARN_DAYS) logger.warn({ option: what, subject: c.subject, notAfter: c.validTo, days }, `TLS certificate expires in ${days} days (${c.validTo})`);
    }
  }
}

/** Logstash's legacy `sslsubject` text (most specific RDN first, as Java prints it). */
export function subjectText(subject: Record<string, string | string[]> | undefined): string | undefined {
  if (!subject) return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) for (const x of Array.isArray(v) ? v : [v]) parts.push(`${k}=${x}`);
  return parts.reverse().join(',');
}
