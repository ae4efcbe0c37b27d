import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { startRedis, type RedisServer } from '../src/testing.js';

// The compliance suite (core/src/testing/compliance.ts) against a real redis-server: the output
// RPUSHes to a list of the run's own; what it wrote is the list's items, one message each.
let server: RedisServer;
let client: Redis;
before(async () => {
  server = await startRedis();
  client = new Redis({ host: '127.0.0.1', port: server.port });
});
after(async () => {
  client?.disconnect();
  await server?.stop();
});

const key = (port: number) => `cmplx:list:${port}`;

outputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => ["127.0.0.1:${server?.port ?? 6379}"] data_type => "list" key => "${key(run.port)}"`,
  changed: (run) => `host => ["127.0.0.1:${server.port}"] data_type => "list" key => "${key(run.port)}" congestion_interval => 2`,
  written: (run) => client.lrange(key(run.port), 0, -1),
});
