import tls from 'node:tls';
import { readTlsFile } from '@pipeline/net';

export type ClientAuthentication = 'none' | 'optional' | 'required';

/** TLS material of the tcp output in server mode, as paths; read when the output starts. */
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
    cert: readTlsFile('ssl_certificate', f.cert),
    key: readTlsFile('ssl_key', f.key),
    requestCert: f.clientAuth !== 'none',
    rejectUnauthorized: f.clientAuth === 'required',
  };
  if (f.passphrase !== undefined) o.passphrase = f.passphrase;
  if (f.cas.length) o.ca = f.cas.map((p) => readTlsFile('ssl_certificate_authorities', p));
  tls.createSecureContext({ cert: o.cert, key: o.key, passphrase: o.passphrase, ca: o.ca });
  return o;
}
