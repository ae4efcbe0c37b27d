import { hostname } from 'node:os';
import { ConfigError, definePlugin, opt, type InputSink } from '@pipeline/core';
import { readChannel } from './channel-reader.js';
import { openConnection, type ConnectionSettings } from './connection.js';
import { readList } from './list-reader.js';
import { checkOwned, expandOwned, streamsToRead } from './partitions.js';
import { Stop } from './stop.js';
import { StreamReader } from './stream-reader.js';

export { tracksDelivery, EntryBatch, type DeliveryTrackingSink } from './delivery.js';
export { streamsToRead } from './partitions.js';
export { STREAM_FIELD } from './stream-reader.js';

export default definePlugin({
  kind: 'input',
  name: 'redis',
  description: 'Reads events from Redis: a list (BLPOP), a channel (SUBSCRIBE/PSUBSCRIBE) or streams through a consumer group (at least once).',
  defaultCodec: 'json',
  codecInput: 'message',
  options: {
    host: opt.string({ default: '127.0.0.1', description: 'Redis host.' }),
    port: opt.port({ default: 6379, description: 'Redis port.' }),
    path: opt.string({ description: 'Unix socket path; overrides host and port.' }),
    db: opt.number({ default: 0, description: 'Redis database number.' }),
    password: opt.password({ description: 'Password (AUTH).' }),
    ssl: opt.bool({ default: false, description: 'Connect with TLS (server certificate verified against the system CAs).' }),
    timeout: opt.number({ default: 5, description: 'Connection timeout, seconds.' }),
    key: opt.string({ required: true, description: 'List, channel (or pattern) name; for streams the stream, or the prefix of its partitions.' }),
    data_type: opt.string({ required: true, values: ['list', 'channel', 'pattern_channel', 'stream'], description: '`list` (BLPOP), `channel` (SUBSCRIBE), `pattern_channel` (PSUBSCRIBE) or `stream` (XREADGROUP).' }),
    batch_count: opt.number({ default: 125, description: 'Most items taken per read (lists: one BLPOP then LPOP with a count; streams: XREADGROUP COUNT).' }),
    threads: opt.number({ default: 1, description: 'Reader connections (lists and streams; each stream reader is its own consumer, `<consumer>-<n>`).' }),
    group: opt.string({ default: 'pipeline', description: 'Streams: consumer group, created (MKSTREAM, from the first entry) when absent.' }),
    consumer: opt.string({ description: 'Streams: consumer name; default `<hostname>-<pid>`. A fixed name lets a restarted indexer take back its own pending entries at once.' }),
    partitions: opt.number({ default: 1, description: 'Streams: partitions the output writes (`key:0` .. `key:N-1`); 1 reads `key` itself.' }),
    owned_partitions: opt.array({ description: 'Streams: read only these partitions (numbers, or texts such as "0-3" and "0,4,8"), so each host reaches one indexer.' }),
    block_ms: opt.number({ default: 1000, description: 'Streams: XREADGROUP BLOCK, ms (also how fast a stop is noticed).' }),
    claim_min_idle_ms: opt.number({ default: 60_000, description: 'Streams: take over entries another consumer has left unacknowledged this long (XAUTOCLAIM).' }),
  },
  check(o) {
    if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new ConfigError(`redis: partitions must be a whole number >= 1, got ${o.partitions}`);
    if (o.data_type !== 'stream' && (o.partitions > 1 || o.owned_partitions !== undefined)) throw new ConfigError('redis: partitions and owned_partitions need data_type => "stream"');
    const bad = checkOwned(o.owned_partitions, o.partitions);
    if (bad) throw new ConfigError(`redis: ${bad}`);
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new ConfigError('redis: threads must be a whole number >= 1');
    if (o.batch_count < 1) throw new ConfigError('redis: batch_count must be >= 1');
    if (o.claim_min_idle_ms < 0) throw new ConfigError('redis: claim_min_idle_ms must be >= 0');
  },
  create(o, ctx) {
    const conn: ConnectionSettings = { host: o.host, port: o.port, path: o.path, db: o.db, password: o.password, ssl: o.ssl, timeout: o.timeout };
    const name = `pipeline-${ctx.pipelineId}-${ctx.id}`;
    const received = ctx.metrics.counter('received');
    const stop = new Stop();
    let threads = o.threads;
    if (threads > 1 && (o.data_type === 'channel' || o.data_type === 'pattern_channel')) {
      ctx.logger.warn('threads > 1 would subscribe several times and duplicate every message; using 1');
      threads = 1;
    }
    let stream: StreamReader | undefined;

    return {
      async run(sink: InputSink) {
        switch (o.data_type) {
          case 'list':
            await Promise.all(
              Array.from({ length: threads }, () => readList(openConnection(conn, name), o.key, o.batch_count, ctx.codec.create(), sink, stop, ctx.logger, received)),
            );
            return;
          case 'channel':
          case 'pattern_channel':
            await readChannel(openConnection(conn, name), o.key, o.data_type === 'pattern_channel', ctx.codec.create(), sink, stop, ctx.logger, received);
            return;
          case 'stream': {
            const base = o.consumer ?? `${hostname()}-${process.pid}`;
            stream = new StreamReader(
              openConnection(conn, name),
              Array.from({ length: threads }, () => openConnection(conn, name)),
              {
                streams: streamsToRead(o.key, o.partitions, expandOwned(o.owned_partitions)),
                group: o.group,
                consumers: threads === 1 ? [base] : Array.from({ length: threads }, (_, i) => `${base}-${i}`),
                batchCount: o.batch_count,
                blockMs: o.block_ms,
                claimMinIdleMs: o.claim_min_idle_ms,
                claimIntervalMs: Math.max(100, o.claim_min_idle_ms / 2),
              },
              ctx.codec.create(),
              sink,
              stop,
              ctx.clock,
              ctx.logger,
              { received, acked: ctx.metrics.counter('acknowledged'), claimed: ctx.metrics.counter('claimed') },
            );
            await stream.run();
            // run() returns so the pipeline can drain; acknowledgements go on until it has delivered
            // what was pushed, or until the pipeline has stopped (it delivers nothing after that)
            const s = stream;
            const pipelineStopped = new Promise<void>((resolve) => {
              if (ctx.signal.aborted) resolve();
              else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            });
            void Promise.race([s.finish(), pipelineStopped.then(() => s.flushDue())]).then(() => {
              if (s.unacknowledgedBatches > 0) ctx.logger.warn({ batches: s.unacknowledgedBatches }, 'stopped with undelivered stream entries; they stay pending for another consumer');
              s.abandon();
            });
            return;
          }
        }
      },
      stop() {
        stop.request();
      },
    };
  },
});
