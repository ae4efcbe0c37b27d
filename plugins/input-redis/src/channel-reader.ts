import type { Redis } from 'ioredis';
import type { Counter, Decoder, Event, InputSink, Logger } from '@pipeline/core';
import { closeGracefully } from './connection.js';
import { decodeMessage } from './decode.js';
import type { Stop } from './stop.js';

/**
 * Subscribes to a channel (SUBSCRIBE) or a pattern (PSUBSCRIBE) and pushes each message, with the
 * channel in `[@metadata][redis_channel]` as Logstash sets it. Pub/sub has no memory: when the
 * sink is full the socket is paused, Redis holds messages in the client's output buffer, and past
 * its `client-output-buffer-limit pubsub` it drops the subscriber, so messages are lost then.
 */
export async function readChannel(c: Redis, key: string, pattern: boolean, decoder: Decoder, sink: InputSink, stop: Stop, logger: Logger, received: Counter): Promise<void> {
  let paused = false;
  // one emit for the subscription: the channel of the message being decoded is read from here
  let current = '';
  const emit = (e: Event) => {
    e.metadata.redis_channel = current;
    sink.push(e);
  };
  // the message as bytes (the codec decodes them by its charset); the channel name as text
  const onMessage = (channel: Buffer | string, message: Buffer) => {
    received.inc();
    current = channel.toString();
    decodeMessage(decoder, message, emit, logger);
    if (!sink.writable && !paused) {
      paused = true;
      c.stream.pause();
      void sink.whenWritable().then(() => {
        paused = false;
        c.stream.resume();
      });
    }
  };
  try {
    if (pattern) {
      c.on('pmessageBuffer', (_p: string, channel: Buffer, message: Buffer) => onMessage(channel, message));
      await Promise.race([c.psubscribe(key), stop.promise]);
    } else {
      c.on('messageBuffer', onMessage);
      await Promise.race([c.subscribe(key), stop.promise]);
    }
    if (!stop.requested) logger.info({ key, pattern }, 'subscribed');
  } catch (err) {
    if (!stop.requested) throw err;
  }
  await stop.promise;
  await closeGracefully(c);
}
