import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createCA, createClientCert, createServerCert, type CaOptions, type KeyPairPem, type LeafOptions, type ServerOptions } from './pki.js';

/**
 * The file side of `pipeline certs`: a directory holding `ca.pem`/`ca.key` and the certificates
 * made from it (`NAME.pem`/`NAME.key`). Keys are written with mode 0600, certificates 0644;
 * existing files are not overwritten unless `force` is set.
 */
export interface WrittenFiles {
  cert: string;
  key: string;
}

export interface WriteOptions {
  force?: boolean;
}

const fileName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function writePair(dir: string, name: string, pair: KeyPairPem, o: WriteOptions = {}): WrittenFiles {
  if (!fileName.test(name)) throw new Error(`certificate name '${name}' must be letters, digits, '.', '_' or '-'`);
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  if (!o.force) for (const p of [cert, key]) if (existsSync(p)) throw new Error(`${p} exists (use --force to replace it)`);
  // the key is created 0600 from the start, never briefly world-readable
  writeFileSync(key, pair.key, { mode: 0o600 });
  chmodSync(key, 0o600);
  writeFileSync(cert, pair.cert, { mode: 0o644 });
  return { cert, key };
}

export function readCA(dir: string): KeyPairPem {
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca.key');
  if (!existsSync(cert) || !existsSync(key)) throw new Error(`no CA in ${dir} (run 'pipeline certs create-ca' first)`);
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** `pipeline certs create-ca`: DIR/ca.pem + DIR/ca.key. */
export function certsCreateCA(dir: string, o: CaOptions & WriteOptions = {}): WrittenFiles {
  return writePair(dir, 'ca', createCA(o), o);
}

/** `pipeline certs create-server --dns NAME... --ip ADDR...`: DIR/server.pem + server.key (or --name). */
export function certsCreateServer(dir: string, o: Partial<ServerOptions> & WriteOptions & { name?: string } = {}): WrittenFiles {
  const commonName = o.commonName ?? o.dns?.[0] ?? o.ip?.[0] ?? 'localhost';
  return writePair(dir, o.name ?? 'server', createServerCert(readCA(dir), { ...o, commonName }), o);
}

/** `pipeline certs create-client NAME`: DIR/NAME.pem + DIR/NAME.key, CN=NAME. */
export function certsCreateClient(dir: string, name: string, o: Partial<LeafOptions> & WriteOptions = {}): WrittenFiles {
  return writePair(dir, name, createClientCert(readCA(dir), { ...o, commonName: o.commonName ?? name }), o);
}
