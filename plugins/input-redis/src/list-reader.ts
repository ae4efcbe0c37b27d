import type { Redis } from 'ioredis';
import type { Counter, Decoder, Event, InputSink, Logger } from '@pipeline/core';
import { closeGracefully } from './connection.js';
import { decodeMessage } from './decode.js';
import { roomOrStop, type Stop } from './stop.js';

/** Seconds BLPOP waits before the loop looks at the stop flag again. */
const BLPOP_TIMEOUT_S = 1;

/**
 * Reads a list: BLPOP waits for the first item, then LPOP with a count takes up to
 * `batchCount - 1` more in the same turn (Logstash uses a Lua LRANGE+LTRIM for this; LPOP COUNT,
 * Redis 6.2+, does the same atomically without a script). It reads only while the sink has room.
 * Items are gone from Redis once popped, so a crash loses what the pipeline holds in memory:
 * use the stream type, or a persisted queue, when that matters.
 */
export async function readList(c: Redis, key: string, batchCount: number, decoder: Decoder, sink: InputSink, stop: Stop, logger: Logger, received: Counter): Promise<void> {
  const emit = (e: Event) => sink.push(e);
  const stopped = stop.promise.then(() => closeGracefully(c));
  try {
    while (!stop.requested) {
      const room = roomOrStop(sink, stop);
      if (room) await room;
      if (stop.requested) break;
      // bytes, not text: the codec decodes them by its charset
      let first: [Buffer, Buffer] | null;
      try {
        first = await c.blpopBuffer(key, BLPOP_TIMEOUT_S);
      } catch (err) {
        if (stop.requested) break;
        logger.warn({ err: (err as Error).message }, 'redis BLPOP failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (first === null) continue;
      decodeMessage(decoder, first[1], emit, logger);
      received.inc();
      if (batchCount > 1) {
        let rest: Buffer[] | null = null;
        try {
          rest = await c.lpopBuffer(key, batchCount - 1);
        } catch (err) {
          if (!stop.requested) logger.warn({ err: (err as Error).message }, 'redis LPOP failed');
        }
        if (rest !== null) {
          for (const item of rest) decodeMessage(decoder, item, emit, logger);
          received.inc(rest.length);
        }
      }
    }
  } finally {
    stop.request();
    await stopped;
  }
}
