import { readFileSync } from 'node:fs';

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
