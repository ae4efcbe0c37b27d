/** `pipeline certs`: the PKI functions (pki.ts) and the files they write (files.ts). */
export { createCA, createServerCert, createClientCert, type KeyPairPem, type CaOptions, type LeafOptions, type ServerOptions } from './pki.js';
export { certsCreateCA, certsCreateServer, certsCreateClient, readCA, writePair, type WrittenFiles, type WriteOptions } from './files.js';
