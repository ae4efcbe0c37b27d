import { compileTemplate, type Event, type Encoder, type Logger } from '@pipeline/core';
import { partitionOf, streamName } from './partition.js';

/** One Redis command of a batch, with the keys it writes (for the congestion check). */
export interface Command {
  readonly name: 'RPUSH' | 'PUBLISH' | 'XADD';
  readonly key: string;
  readonly args: readonly (string | number)[];
}

export type DataType = 'list' | 'channel' | 'stream';

export interface CommandPlan {
  dataType: DataType;
  key: string;
  /** Streams: `MAXLEN ~` bound; 0 leaves streams unbounded. */
  maxLen: number;
  partitionKey?: string;
  partitions: number;
}

/** The field of a stream entry that holds the encoded event. */
export const STREAM_FIELD = 'event';

/**
 * Turns a batch into commands, compiled once per output: a list gets one RPUSH per key (in event
 * order within the key), a channel one PUBLISH per event, a stream one XADD per event to the
 * stream of its partition. An event the codec cannot encode is logged and skipped, as Logstash does.
 */
export function compileCommandBuilder(plan: CommandPlan, encoder: Encoder, logger: Logger): (events: readonly Event[]) => Command[] {
  const key = compileTemplate(plan.key);
  const partition = plan.partitionKey !== undefined ? compileTemplate(plan.partitionKey) : undefined;
  const encode = (e: Event): string | undefined => {
    try {
      return encoder.encode(e);
    } catch (err) {
      logger.warn({ err }, 'could not encode an event; skipped');
      return undefined;
    }
  };
  switch (plan.dataType) {
    case 'list':
      return (events) => {
        const byKey = new Map<string, string[]>();
        for (const e of events) {
          const payload = encode(e);
          if (payload === undefined) continue;
          const k = key.render(e.fields);
          const list = byKey.get(k);
          if (list === undefined) byKey.set(k, [payload]);
          else list.push(payload);
        }
        const out: Command[] = [];
        for (const [k, payloads] of byKey) out.push({ name: 'RPUSH', key: k, args: [k, ...payloads] });
        return out;
      };
    case 'channel':
      return (events) => {
        const out: Command[] = [];
        for (const e of events) {
          const payload = encode(e);
          if (payload === undefined) continue;
          const k = key.render(e.fields);
          out.push({ name: 'PUBLISH', key: k, args: [k, payload] });
        }
        return out;
      };
    case 'stream': {
      const trim: (string | number)[] = plan.maxLen > 0 ? ['MAXLEN', '~', plan.maxLen] : [];
      return (events) => {
        const out: Command[] = [];
        for (const e of events) {
          const payload = encode(e);
          if (payload === undefined) continue;
          const p = partition === undefined ? 0 : partitionOf(partition.render(e.fields), plan.partitions);
          const s = streamName(key.render(e.fields), plan.partitions, p);
          out.push({ name: 'XADD', key: s, args: [s, ...trim, '*', STREAM_FIELD, payload] });
        }
        return out;
      };
    }
  }
}
