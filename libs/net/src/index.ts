/**
 * @pipeline/net: the network building blocks the network plugins share. Listening side: line
 * framing, the TLS-capable stream listener and line-stream server, the listen options of Logstash's
 * tcp input, certificate files, a rate-limited warning log, a UDP server. Connecting side: a
 * reconnecting stream link with a resend window, client TLS options, a UDP sender.
 * Test helpers are in `@pipeline/net/testing`.
 */
export { Framer, type FrameSink } from './framing.js';
export { StreamListener, type AcceptHandler, type ListenerOptions, type Peer } from './listener.js';
export { StreamServer, serverInput, type ConnectionHandler, type StreamServerOptions } from './stream-server.js';
export { listenOptions, clientAuthOf, clientAuthValues, tlsFilesOf, streamServerOf, type ClientAuth, type ListenSettings } from './listen-options.js';
export { tlsTuningOptions, tlsTuningOf, openSslCipher, PROTOCOLS, type TlsTuning } from './tls-params.js';
export { loadTls, warnExpiring, subjectText, type TlsFiles } from './tls-files.js';
export { LimitedLog } from './log-limit.js';
export { PeerNames, systemPeerName, PEER_NAME_DEFAULTS, type PeerNamesOptions } from './peer-names.js';
export { UdpServer, datagramBytes, type UdpServerOptions } from './udp-server.js';
export { StreamLink, type LinkOptions } from './stream-link.js';
export { clientTlsOptions, tlsForEachAttempt, readTlsFile, type ClientTlsFiles } from './client-tls.js';
export { CONNECT_TIMEOUT_MS, MAX_BACKOFF_MS, defaultResendWindow, resendWindowOf, resendWindowOption } from './resend-window.js';
export { UdpSender, type UdpSenderOptions } from './udp-sender.js';
