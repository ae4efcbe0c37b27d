/**
 * Senders for compliance drivers: real sockets, as the peers of an input use them.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

/** Connects to 127.0.0.1:port, retrying while nothing listens yet (up to `ms`). */
export async function connectTcp(port: number, ms = 10_000): Promise<Socket> {
  const t0 = Date.now();
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() - t0 > ms) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Writes `data` on one TCP connection, then closes it and waits until the peer has closed its
 * side too (the input has read everything to the end of the stream).
 */
export async function sendTcp(port: number, data: Buffer | string | readonly (Buffer | string)[]): Promise<void> {
  const s = await connectTcp(port);
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume(); // whatever the peer answers (RELP, ...) is not this sender's business
    for (const d of Array.isArray(data) ? data : [data]) s.write(d);
    s.end();
  });
}

/** Sends each message as one UDP datagram to 127.0.0.1:port. */
export async function sendUdp(port: number, messages: readonly (Buffer | string)[]): Promise<void> {
  const s = createSocket('udp4');
  try {
    for (const m of messages) await new Promise<void>((resolve, reject) => s.send(m, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  } finally {
    s.close();
  }
}
