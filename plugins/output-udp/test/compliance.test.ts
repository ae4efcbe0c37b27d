import dgram from 'node:dgram';
import { after } from 'node:test';
import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts) with a real UDP socket per run: what the
// output wrote is the datagrams it received, one string each.
const sockets = new Map<number, { socket: dgram.Socket; got: string[] }>();
after(() => {
  for (const s of sockets.values()) s.socket.close();
});

outputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} retry_count => 1`,
  async ready(run) {
    if (sockets.has(run.port)) return;
    const socket = dgram.createSocket('udp4');
    const got: string[] = [];
    socket.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => socket.bind(run.port, '127.0.0.1', () => r()));
    sockets.set(run.port, { socket, got });
  },
  written: (run) => sockets.get(run.port)?.got ?? [],
});
