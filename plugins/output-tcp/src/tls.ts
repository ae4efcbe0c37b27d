import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';

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

function read(what: string, p: string): Buffer {
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
  if (f.cas.length) o.ca = [...tls.rootCertificates, ...f.cas.map((p) => read('ssl_certificate_authorities', p))];
  if (f.cert !== undefined && f.key !== undefined) {
    o.cert = read('ssl_certificate', f.cert);
    o.key = read('ssl_key', f.key);
    if (f.passphrase !== undefined) o.passphrase = f.passphrase;
  }
  // SNI for a name, never for an address (RFC 6066)
  if (isIP(host) === 0) o.servername = host;
  // a key that does not match its certificate, a wrong passphrase: fail here, not at each connection
  tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, passphrase: o.passphrase });
  return o;
}

export type ClientAuthentication = 'none' | 'optional' | 'required';

export interface ServerTlsFiles {
  cert: string;
  key: string;
  passphrase?: string;
  cas: string[];
  clientAuth: ClientAuthentication;
}

/** Options for `tls.createServer`. Throws with the file at fault. */
export function serverTlsOptions(f: ServerTlsFiles): tls.TlsOptions {
  const o: tls.TlsOptions = {
    cert: read('ssl_certificate', f.cert),
    key: read('ssl_key', f.key),
    requestCert: f.clientAuth !== 'none',
    rejectUnauthorized: f.clientAuth === 'required',
  };
  if (f.passphrase !== undefined) o.passphrase = f.passphrase;
  if (f.cas.length) o.ca = f.cas.map((p) => read('ssl_certificate_authorities', p));
  tls.createSecureContext({ cert: o.cert, key: o.key, passphrase: o.passphrase, ca: o.ca });
  return o;
}
