import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '@pipeline/core';

/**
 * TLS material of a connecting output, as paths; read when the output starts (so a missing or
 * unreadable file stops it with the file's name) and again at each reconnection, so renewed
 * certificates are picked up without a restart.
 */
export interface ClientTlsFiles {
  /** CA files the server certificate must chain to, in addition to the system CAs. */
  cas: string[];
  /** Client certificate and key, for servers that ask for one. */
  cert?: string;
  key?: string;
  passphrase?: string;
  /** full: chain and host name; none: no check at all. */
  verify: 'full' | 'none';
}

/** Reads one TLS file; the error names the option and the file. */
export function readTlsFile(what: string, p: string): Buffer {
  try {
    return readFileSync(p);
  } catch (e) {
    throw new Error(`cannot read ${what} ${p}: ${(e as Error).message}`);
  }
}

/** Connection options for `tls.connect` to `host`. Throws with the file at fault. */
export function clientTlsOptions(f: ClientTlsFiles, host: string): tls.ConnectionOptions {
  if ((f.cert === undefined) !== (f.key === undefined)) throw new Error('a client certificate needs both ssl_certificate and ssl_key');
  const o: tls.ConnectionOptions = { rejectUnauthorized: f.verify !== 'none' };
  // the system CAs stay trusted, as Logstash's cert store includes the default paths
  if (f.cas.length) o.ca = [...tls.rootCertificates, ...f.cas.map((p) => readTlsFile('ssl_certificate_authorities', p))];
  if (f.cert !== undefined && f.key !== undefined) {
    o.cert = readTlsFile('ssl_certificate', f.cert);
    o.key = readTlsFile('ssl_key', f.key);
    if (f.passphrase !== undefined) o.passphrase = f.passphrase;
  }
  // SNI for a name, never for an address (RFC 6066)
  if (isIP(host) === 0) o.servername = host;
  // a key that does not match its certificate, a wrong passphrase: fail here, not at each connection
  tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, passphrase: o.passphrase });
  return o;
}

/**
 * TLS options for each connection attempt: the files as read at start, read again at every
 * attempt so that renewed certificates are used; a file that has become unreadable keeps the
 * previous ones (logged).
 */
export function tlsForEachAttempt(files: ClientTlsFiles, host: string, logger: Logger): () => tls.ConnectionOptions {
  let last = clientTlsOptions(files, host);
  return () => {
    try {
      last = clientTlsOptions(files, host);
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'cannot read the TLS files again; using the ones read before');
    }
    return last;
  };
}
