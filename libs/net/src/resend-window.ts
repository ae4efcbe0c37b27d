import { readFileSync } from 'node:fs';
import { opt } from '@pipeline/core';

/** However long the peer stays away, reconnection attempts of a stream output are at least this frequent. */
export const MAX_BACKOFF_MS = 30_000;
/** How long a stream output's connection attempt may take. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Linux's stock maxima (net.ipv4.tcp_wmem and tcp_rmem, third field) when /proc cannot be read. */
const STOCK_WMEM_MAX = 4 * 1024 * 1024;
const STOCK_RMEM_MAX = 6 * 1024 * 1024;

function sysctlMax(path: string, fallback: number): number {
  try {
    const n = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[2]);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

/**
 * The resend window a stream output keeps by default: the most bytes a TCP connection can hold
 * between our `write()` and the peer application's `read()`. A byte the kernel accepted from us
 * means the bytes before it, minus our send buffer, were acknowledged by the peer's TCP, and the peer
 * acknowledges only what fits in its receive buffer: so once this many bytes have been accepted
 * after a chunk, the peer program has read that chunk. Our send buffer grows up to tcp_wmem's
 * maximum; the peer's receive buffer up to its tcp_rmem maximum, taken to be ours (a peer with larger
 * buffers needs `resend_window_bytes` set).
 */
export function defaultResendWindow(): number {
  return sysctlMax('/proc/sys/net/ipv4/tcp_wmem', STOCK_WMEM_MAX) + sysctlMax('/proc/sys/net/ipv4/tcp_rmem', STOCK_RMEM_MAX);
}

/** The resend window of a connecting output: the option, or the kernel's buffer maxima. */
export function resendWindowOf(option: number | undefined): number {
  return option ?? defaultResendWindow();
}

/** The `resend_window_bytes` option of a connecting output (tcp, syslog). */
export const resendWindowOption = opt.integer({
  min: 0,
  description:
    'Bytes written on a connection that are kept and written again after a reconnection (the peer may not have read them). Default: this host\'s `net.ipv4.tcp_wmem` + `tcp_rmem` maxima (10 MiB on stock Linux), the most TCP can hold unread; 0 = resend only what the kernel had not taken.',
});
