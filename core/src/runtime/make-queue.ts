import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { PersistedQueue } from './persisted-queue.js';
import { MemoryQueue, type EventQueue } from './queue.js';
import { bytes, num, type Settings } from './settings.js';

/** Events the memory queue holds when queue.max_events is 0. */
const MEMORY_QUEUE_EVENTS = 1000;

/**
 * The queue `queue.type` names: in memory, or on disk under `path.queue/<pipeline id>` (`path.queue`
 * defaults to path.data/queue, as Logstash's), one directory per pipeline.
 */
export function makeQueue(settings: Settings, dataDir: string, pipelineId: string, logger: Logger, batchSize: number): EventQueue {
  // queue.max_events 0 (the default) means: 1000 events in memory; bounded by queue.max_bytes only on disk
  const maxEvents = num(settings, 'queue.max_events');
  const type = String(settings['queue.type'] ?? 'memory');
  if (type === 'memory') return new MemoryQueue(maxEvents > 0 ? maxEvents : MEMORY_QUEUE_EVENTS, batchSize);
  if (type !== 'persisted') throw new Error(`queue.type must be memory or persisted, got ${type}`);
  const q = new PersistedQueue({
    dir: join(settings['path.queue'] === undefined ? join(dataDir, 'queue') : resolve(String(settings['path.queue'])), pipelineId),
    maxBytes: bytes(settings, 'queue.max_bytes'),
    maxEvents: maxEvents > 0 ? maxEvents : Number.MAX_SAFE_INTEGER,
    checkpointWrites: Math.max(1, num(settings, 'queue.checkpoint.writes')),
    batchSize,
    logger: logger,
  });
  if (q.recovered > 0) logger.info({ events: q.recovered }, 'persisted queue: delivering events left by the previous run');
  return q;
}
