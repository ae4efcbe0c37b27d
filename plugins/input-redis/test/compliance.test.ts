import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { inputCompliance } from '@pipeline/core/testing';
import { startRedis, type RedisServer } from '@pipeline/output-redis/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts) against a real redis-server: each message
// an item RPUSHed to a list of the run's own.
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

inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${server?.port ?? 6379} data_type => "list" key => "${key(run.port)}"`,
  changed: (run) => `host => "127.0.0.1" port => ${server.port} data_type => "list" key => "${key(run.port)}" batch_count => 50`,
  async send(run, data) {
    await client.rpush(key(run.port), ...data);
  },
});
