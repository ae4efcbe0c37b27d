import { ConfigError, definePlugin, opt } from '@pipeline/core';
import { compileCommandBuilder, type DataType } from './commands.js';
import { parseHosts, shuffled } from './hosts.js';
import { RedisLink } from './link.js';
import { Sender } from './sender.js';

export { fnv1a32, partitionOf, streamName } from './partition.js';
export { STREAM_FIELD } from './commands.js';

/** The longest wait between two connection attempts, however long Redis stays away. */
const MAX_BACKOFF_MS = 30_000;

export default definePlugin({
  kind: 'output',
  name: 'redis',
  description: 'Sends events to Redis: RPUSH to a list, PUBLISH to a channel, or XADD to a (partitioned) stream.',
  defaultCodec: 'json',
  options: {
    host: opt.strings({ default: ['127.0.0.1'], description: 'Redis hosts, `name` or `name:port`; on a failure the output moves to the next one.' }),
    port: opt.port({ default: 6379, description: 'Port for hosts that name none.' }),
    db: opt.number({ default: 0, description: 'Redis database number.' }),
    password: opt.password({ description: 'Password (AUTH).' }),
    ssl: opt.bool({ default: false, description: 'Connect with TLS (server certificate verified against the system CAs).' }),
    timeout: opt.number({ default: 5, description: 'Connection timeout, seconds.' }),
    key: opt.string({ required: true, description: 'List, channel or stream name; sprintf (`logs-%{type}`).' }),
    data_type: opt.string({ required: true, values: ['list', 'channel', 'stream'], description: '`list` (RPUSH), `channel` (PUBLISH) or `stream` (XADD).' }),
    shuffle_hosts: opt.bool({ default: true, description: 'Shuffle the host list at start.' }),
    reconnect_interval: opt.number({ default: 1, description: 'Seconds before reconnecting; doubles on each failure, up to 30 s.' }),
    congestion_threshold: opt.number({ default: 0, description: 'Lists: wait while the list holds more items than this; 0 disables.' }),
    congestion_interval: opt.number({ default: 1, description: 'Lists: seconds between congestion checks (0 = every batch).' }),
    batch: opt.bool({ default: false, description: 'Accepted for compatibility: every pipeline batch already goes to Redis in one round trip (one RPUSH per list).' }),
    batch_events: opt.number({ default: 50, description: 'Accepted for compatibility (see `batch`).' }),
    batch_timeout: opt.number({ default: 5, description: 'Accepted for compatibility (see `batch`).' }),
    max_len: opt.number({ default: 1_000_000, description: 'Streams: `XADD MAXLEN ~` bound (oldest entries are trimmed, read or not); 0 = unbounded.' }),
    partition_key: opt.string({ description: 'Streams: sprintf key (`%{host}`) whose FNV-1a hash picks the partition.' }),
    partitions: opt.number({ default: 1, description: 'Streams: number of partitions; more than 1 writes to streams `key:0` .. `key:N-1`.' }),
  },
  check(o) {
    if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new ConfigError(`redis: partitions must be a whole number >= 1, got ${o.partitions}`);
    if (o.data_type !== 'stream' && (o.partitions > 1 || o.partition_key !== undefined)) throw new ConfigError(`redis: partition_key and partitions need data_type => "stream"`);
    if (o.partitions > 1 && o.partition_key === undefined) throw new ConfigError('redis: partitions > 1 needs a partition_key, e.g. "%{host}"');
    if (o.batch && o.data_type !== 'list') throw new ConfigError(`redis: batch is not supported with data_type ${o.data_type}`);
    if (o.congestion_threshold > 0 && o.data_type !== 'list') throw new ConfigError('redis: congestion_threshold works on lists only; bound a stream with max_len');
    if (o.host.length === 0) throw new ConfigError('redis: host needs at least one entry');
  },
  create(o, ctx) {
    const hosts = parseHosts(o.host, o.port);
    const link = new RedisLink(
      o.shuffle_hosts ? shuffled(hosts) : hosts,
      {
        db: o.db,
        password: o.password,
        tls: o.ssl ? {} : undefined,
        connectTimeout: o.timeout * 1000,
        connectionName: `pipeline-${ctx.pipelineId}-${ctx.id}`,
      },
      o.reconnect_interval * 1000,
      MAX_BACKOFF_MS,
      ctx.clock,
      ctx.logger,
    );
    const build = compileCommandBuilder(
      { dataType: o.data_type as DataType, key: o.key, maxLen: o.max_len, partitionKey: o.partition_key, partitions: o.partitions },
      ctx.codec.create(),
      ctx.logger,
    );
    const sender = new Sender(
      link,
      { threshold: o.congestion_threshold, intervalMs: o.congestion_interval * 1000 },
      o.reconnect_interval * 1000,
      ctx.clock,
      ctx.logger,
      ctx.metrics.counter('retried_commands'),
    );
    return {
      receive(events) {
        const commands = build(events);
        return commands.length === 0 ? undefined : sender.send(commands);
      },
      close: () => link.close(),
    };
  },
});
