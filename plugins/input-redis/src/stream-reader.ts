import type { Redis } from 'ioredis';
import type { Clock, Counter, Decoder, Event, InputSink, Logger, TimerHandle } from '@pipeline/core';
import { Acker } from './acker.js';
import { closeGracefully } from './connection.js';
import { decodeMessage } from './decode.js';
import { EntryBatch } from './delivery.js';
import { roomOrStop, type Stop } from './stop.js';

/** The field of a stream entry that holds the encoded event (what the redis output writes). */
export const STREAM_FIELD = 'event';

export interface StreamSettings {
  streams: readonly string[];
  group: string;
  /** One name per reader connection (`threads`). */
  consumers: readonly string[];
  batchCount: number;
  blockMs: number;
  claimMinIdleMs: number;
  claimIntervalMs: number;
}

/** An entry with its id as text and its field names and values as bytes (the codec decodes the payload by its charset). */
type Entry = [id: string, fields: Buffer[] | null];
type ReadReply = [stream: string, entries: Entry[]][] | null;
type RawEntry = [id: Buffer, fields: Buffer[] | null];

/** Ids and stream names as text, as the rest of the reader keeps them; field values stay bytes. */
function textIds(raw: RawEntry[]): Entry[] {
  const out: Entry[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = [raw[i]![0].toString('latin1'), raw[i]![1]];
  return out;
}

/**
 * Reads streams through a consumer group, at least once:
 * - the group is created (MKSTREAM, from the first entry) when absent, and again if Redis lost it;
 * - each reader first re-reads what its consumer name left pending (a restart under the same name),
 *   then XREADGROUP `>` with BLOCK, only while the sink has room;
 * - entries are acknowledged (XACK) when every event decoded from them has been delivered — told
 *   by a delivery-tracking sink, or right after the push when the sink cannot tell;
 * - every `claimIntervalMs` (on the pipeline clock) and at start, XAUTOCLAIM takes over entries
 *   another consumer has left unacknowledged for `claimMinIdleMs`: a dead indexer's work.
 */
export class StreamReader {
  private readonly acker: Acker;
  private claimTimer: TimerHandle | undefined;
  private claiming: Promise<void> | undefined;

  constructor(
    private readonly cmd: Redis,
    private readonly readers: readonly Redis[],
    private readonly s: StreamSettings,
    private readonly decoder: Decoder,
    private readonly sink: InputSink,
    private readonly stop: Stop,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: { received: Counter; acked: Counter; claimed: Counter },
  ) {
    this.acker = new Acker(cmd, s.group, logger, counters.acked);
  }

  async run(): Promise<void> {
    await this.ensureGroups();
    const closing = this.stop.promise.then(() => Promise.all(this.readers.map(closeGracefully)));
    try {
      await this.claim();
      this.claimTimer = this.clock.setInterval(() => void this.claim(), this.s.claimIntervalMs);
      await Promise.all(this.readers.map((r, i) => this.readLoop(r, this.s.consumers[i]!)));
    } finally {
      this.stop.request();
      this.claimTimer?.cancel();
      await closing;
      await this.claiming;
    }
  }

  /** Waits for the acknowledgement of everything pushed, then closes the command connection. */
  async finish(): Promise<void> {
    await this.acker.drained();
    await closeGracefully(this.cmd);
  }

  /** Sends the acknowledgements already due, without waiting for undelivered events. */
  flushDue(): Promise<void> {
    return this.acker.flushDue();
  }

  /** Close the command connection now; what is unacknowledged stays pending for a claim. */
  abandon(): void {
    this.cmd.disconnect();
  }

  get unacknowledgedBatches(): number {
    return this.acker.pendingBatches;
  }

  private async ensureGroups(): Promise<void> {
    for (const stream of this.s.streams) {
      try {
        await this.cmd.xgroup('CREATE', stream, this.s.group, '0', 'MKSTREAM');
        this.logger.info({ stream, group: this.s.group }, 'created consumer group');
      } catch (err) {
        if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
      }
    }
  }

  private async readLoop(c: Redis, consumer: string): Promise<void> {
    const streams = this.s.streams;
    // first what this consumer name left pending (ids from 0), then new entries ('>')
    let ids: string[] = streams.map(() => '0');
    let history = true;
    while (!this.stop.requested) {
      const room = roomOrStop(this.sink, this.stop);
      if (room) await room;
      if (this.stop.requested) break;
      let reply: ReadReply;
      try {
        const raw = (await c.callBuffer('XREADGROUP', 'GROUP', this.s.group, consumer, 'COUNT', this.s.batchCount, 'BLOCK', this.s.blockMs, 'STREAMS', ...streams, ...ids)) as [Buffer, RawEntry[]][] | null;
        reply = raw === null ? null : raw.map(([stream, list]) => [stream.toString(), textIds(list)]);
      } catch (err) {
        if (this.stop.requested) break;
        const msg = String((err as Error).message);
        if (msg.startsWith('NOGROUP')) {
          this.logger.warn({ group: this.s.group }, 'consumer group vanished (Redis restarted without persistence?); creating it again');
          await this.ensureGroups().catch(() => {});
        } else {
          this.logger.warn({ err: msg }, 'XREADGROUP failed; retrying');
          await new Promise((r) => setTimeout(r, 1000));
        }
        continue;
      }
      if (history) {
        // the history read returns every stream, empty ones included; done when all are empty
        let any = false;
        const next = [...ids];
        for (const [stream, entries] of reply ?? []) {
          if (entries.length === 0) continue;
          any = true;
          next[streams.indexOf(stream)] = entries[entries.length - 1]![0];
        }
        if (reply !== null) this.handle(reply, false);
        if (!any) {
          history = false;
          ids = streams.map(() => '>');
        } else ids = next;
        continue;
      }
      if (reply !== null) this.handle(reply, false);
    }
  }

  /** Pushes the events of the entries read (or claimed) as one batch. */
  private handle(reply: [string, Entry[]][], claimed: boolean): void {
    const batch = new EntryBatch(this.acker.settle);
    this.acker.opened();
    let n = 0;
    const push = (e: Event) => batch.push(this.sink, e); // one per batch of entries, not per entry
    for (const [stream, entries] of reply) {
      for (const [id, fields] of entries) {
        if (!this.acker.hold(stream, id)) continue; // claimed back while we still hold it
        batch.add(stream, id);
        n++;
        if (fields === null) continue; // trimmed away while pending: acknowledge, nothing to push
        const payload = valueOf(fields);
        if (payload === undefined) {
          this.logger.warn({ stream, id }, `stream entry without an '${STREAM_FIELD}' field; acknowledged and skipped`);
          continue;
        }
        decodeMessage(this.decoder, payload, push, this.logger);
      }
    }
    this.counters.received.inc(n);
    if (claimed) this.counters.claimed.inc(n);
    batch.close();
  }

  /** One claim pass over every stream; passes never overlap. */
  private claim(): Promise<void> {
    if (this.claiming !== undefined || this.stop.requested) return this.claiming ?? Promise.resolve();
    this.claiming = this.claimPass().finally(() => (this.claiming = undefined));
    return this.claiming;
  }

  private async claimPass(): Promise<void> {
    const consumer = this.s.consumers[0]!;
    for (const stream of this.s.streams) {
      let start = '0-0';
      do {
        const room = roomOrStop(this.sink, this.stop);
        if (room) await room;
        if (this.stop.requested) return;
        let reply: [string, Entry[]];
        try {
          const raw = (await this.cmd.callBuffer('XAUTOCLAIM', stream, this.s.group, consumer, this.s.claimMinIdleMs, start, 'COUNT', this.s.batchCount)) as [Buffer, RawEntry[], Buffer[]?];
          reply = [raw[0].toString('latin1'), textIds(raw[1])];
        } catch (err) {
          if (!this.stop.requested) this.logger.warn({ err: (err as Error).message, stream }, 'XAUTOCLAIM failed');
          return;
        }
        const [next, entries] = reply;
        if (entries.length > 0) {
          this.logger.info({ stream, entries: entries.length }, 'claimed entries another consumer left unacknowledged');
          this.handle([[stream, entries]], true);
        }
        start = next;
      } while (start !== '0-0');
    }
  }
}

const FIELD = Buffer.from(STREAM_FIELD);

function valueOf(fields: readonly Buffer[]): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.equals(FIELD)) return fields[i + 1];
  return undefined;
}
