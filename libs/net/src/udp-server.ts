import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { Clock, InputSink, Logger, Metrics, TimerHandle } from '@pipeline/core';

/** The datagram without one trailing LF or CRLF (senders such as `nc -u` add it; syslog senders do not). */
export function datagramBytes(msg: Buffer): Buffer {
  let end = msg.length;
  if (end > 0 && msg[end - 1] === 10) end--;
  if (end > 0 && msg[end - 1] === 13) end--;
  return end === msg.length ? msg : msg.subarray(0, end);
}

/**
 * A UDP listener: one datagram is one message. UDP cannot be paused, so when the queue is full a
 * datagram is dropped here and counted (`drops`); what the kernel drops because the socket buffer
 * overflowed is read from /proc/net/udp (`kernel_drops`). `receive_buffer_bytes` enlarges the
 * socket buffer (capped by net.core.rmem_max).
 */
export interface UdpServerOptions {
  host: string;
  port: number;
  /** Largest datagram kept; longer ones are cut (Logstash's buffer_size). */
  bufferSize: number;
  receiveBufferBytes?: number;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  /** Reuse the address (lets the syslog input share a port number with its TCP listener). */
  onMessage(msg: Buffer, host: string, port: number, sink: InputSink): void;
}

export class UdpServer {
  private socket?: dgram.Socket;
  private poller?: TimerHandle;
  private readonly m;

  constructor(private readonly o: UdpServerOptions) {
    const mt = o.metrics;
    this.m = {
      datagrams: mt.counter('datagrams'),
      bytes: mt.counter('bytes'),
      drops: mt.counter('drops'),
      truncated: mt.counter('oversize_lines'),
      kernelDrops: mt.gauge('kernel_drops'),
    };
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  async listen(sink: InputSink): Promise<void> {
    const o = this.o;
    const socket = dgram.createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4' });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: o.host, port: o.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (e) => o.logger.error({ err: e.message }, 'udp socket error'));
    if (o.receiveBufferBytes) {
      try {
        socket.setRecvBufferSize(o.receiveBufferBytes);
      } catch (e) {
        o.logger.warn({ err: (e as Error).message }, 'could not set receive_buffer_bytes');
      }
      const got = socket.getRecvBufferSize();
      // Linux reports twice the usable size; less than asked means net.core.rmem_max is lower
      if (got < o.receiveBufferBytes) o.logger.warn({ asked: o.receiveBufferBytes, got }, 'receive buffer smaller than receive_buffer_bytes (raise net.core.rmem_max)');
    }
    const max = o.bufferSize;
    socket.on('message', (msg, rinfo) => {
      this.m.datagrams.inc();
      this.m.bytes.inc(msg.length);
      if (!sink.writable) {
        this.m.drops.inc();
        return;
      }
      if (msg.length > max) {
        this.m.truncated.inc();
        msg = msg.subarray(0, max);
      }
      o.onMessage(msg, rinfo.address, rinfo.port, sink);
    });
    this.poller = o.clock.setInterval(() => this.readKernelDrops(), 5000);
    o.metrics.gauge('listen_port_udp').set(this.port);
    o.logger.info({ host: o.host, port: this.port, receive_buffer: socket.getRecvBufferSize() }, 'listening (udp)');
  }

  /** The kernel's drop count for this socket (Linux /proc/net/udp{,6}); -1 where unavailable. */
  readKernelDrops(): number {
    const port = this.port;
    if (!port) return -1;
    const hexPort = ':' + port.toString(16).toUpperCase().padStart(4, '0');
    let drops = -1;
    for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
      let text: string;
      try {
        text = readFileSync(f, 'latin1');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length >= 13 && cols[1]!.endsWith(hexPort)) drops = Math.max(0, drops) + Number(cols[12]);
      }
    }
    if (drops >= 0) this.m.kernelDrops.set(drops);
    return drops;
  }

  async close(): Promise<void> {
    this.poller?.cancel();
    const s = this.socket;
    if (!s) return;
    this.readKernelDrops();
    this.socket = undefined;
    await new Promise<void>((r) => s.close(() => r()));
  }
}
