import type { Logger } from 'pino';
import type { Event } from '../event/event.js';
import type { Clock } from './clock.js';
import type { Metrics } from './metrics.js';
import type { Resolved, Schema } from './options.js';
import type { PipelineBus } from '../runtime/pipeline-bus.js';

/**
 * The plugin contract. A plugin is a definition object: its kind, name, option schema, and a
 * `create` that turns validated options and a context into an instance of its kind.
 */
export type PluginKind = 'input' | 'filter' | 'correlate' | 'output' | 'codec';

export type { Logger };

/** What the runtime hands every plugin instance. Tests build one with `@pipeline/core/testing`. */
export interface PluginContext {
  /** pino child logger bound to the plugin's id. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** Metrics scoped to this plugin instance. */
  readonly metrics: Metrics;
  /** `path.data`, absolute; the plugin may create its own files under it. */
  readonly dataDir: string;
  /** The process's working directory (relative paths in configs resolve here first). */
  readonly workingDir: string;
  /** Resolves a path named in a config: working directory first, then the installation. */
  resolvePath(p: string): string;
  /** Aborted when the pipeline stops. */
  readonly signal: AbortSignal;
  readonly pipelineId: string;
  /** The plugin's `id` option, or a generated one. */
  readonly id: string;
  /** The codec configured for this input or output (its `codec` option or the plugin's default). */
  readonly codec: CodecFactory;
  /**
   * The codecs of one of the plugin's `opt.codecs()` options, by key, each built from its own
   * options (resolved and checked when the config was loaded). Throws for another option name.
   */
  codecsOf(option: string): ReadonlyMap<string, CodecFactory>;
  /** Pipeline settings (pipeline.yml merged with the command line), dotted names. */
  readonly settings: Readonly<Record<string, unknown>>;
  /**
   * The process's pipeline-to-pipeline addresses (runtime/pipeline-bus.ts), shared by every
   * pipeline of the process: the `pipeline` input listens on one, the `pipeline` output sends to them.
   */
  readonly pipelineBus: PipelineBus;
}

// ---- codecs ----

export interface Decoder {
  /**
   * Feeds the next bytes of a stream (a connection, a file, stdin); calls `emit` for each complete
   * event. The codec's own framing applies: line splits on its `delimiter` and keeps a partial
   * last line for the next call, plain makes each call one event.
   */
  decode(data: Buffer | string, emit: (event: Event) => void): void;
  /** End of stream: emits what is left (a last line without its newline). */
  flush(emit: (event: Event) => void): void;
  /**
   * One complete message an input has already delimited (a datagram, a RELP frame, a Redis list
   * item, a line the input split): decoded whole, nothing carried over to the next message, as
   * Logstash's inputs call `decode` then `flush` per message. line and json_lines still split it
   * on their delimiter.
   */
  decodeMessage(data: Buffer | string, emit: (event: Event) => void): void;
  /**
   * Present when the codec's framing is LF-terminated lines (line and json_lines with their
   * default delimiter): decodes one line an input framed itself, as the codec would have decoded
   * that line of the stream (an empty line too), without splitting it further. Bytes are decoded
   * by the codec's charset, as everywhere (an input passes bytes, not text it decoded). An input with a
   * line framer of its own (octet counting, length limits, CRLF) uses it; otherwise it must hand
   * the stream to `decode` for the codec's framing to apply.
   */
  decodeLine?(line: Buffer | string, emit: (event: Event) => void): void;
  /**
   * Present on codecs that join lines into one event (multiline): how many lines handed to this
   * instance are in no event emitted yet (a partial line of `decode` not counted). Read inside
   * `emit`, it says which lines the event holds: the ones handed in before, minus these. Such a
   * codec keeps lines across calls, so an input gives each stream (connection, file) an instance of
   * its own, feeds it that stream's lines (`decodeLine`) or bytes (`decode`), calls `flush` when the
   * stream ends, and acknowledges a line only with the event that holds it. It may also emit between
   * calls, on a timer of its own (auto_flush_interval), through the `emit` of its latest call.
   */
  readonly heldLines?: number;
}

export interface Encoder {
  encode(event: Event): string;
}

export interface CodecInstance extends Decoder, Encoder {}

/**
 * What a codec plugin's `create` returns: `decodeMessage` may be left out (the framework then
 * decodes a message as `decode` + `flush`).
 */
export type CodecImplementation = Omit<CodecInstance, 'decodeMessage'> & Partial<Pick<CodecInstance, 'decodeMessage'>>;

/**
 * The codec configured for an input or output, built by the runtime from the codec's own options
 * (`codec => line { delimiter => "|" }`); `create` makes a fresh stateful instance: one per
 * connection or file for a stream, one per socket or session for messages, never one per event.
 */
export interface CodecFactory {
  readonly name: string;
  create(): CodecInstance;
}

/**
 * How an input hands data to its codec (inputs that take a codec declare it):
 * - 'stream': a byte stream per connection, file or process stream, through `decode`/`flush`, so
 *   the codec's framing (line's delimiter, json_lines) splits events;
 * - 'message': each message whole (datagrams, frames, list items, generated lines) through `decodeMessage`.
 */
export type CodecInput = 'stream' | 'message';

/** A codec instance as handed to plugins: `decodeMessage` filled in (decode + flush) where the codec has none. */
export function completeCodec(c: CodecImplementation): CodecInstance {
  if (!c.decodeMessage)
    c.decodeMessage = (data, emit) => {
      c.decode(data, emit);
      c.flush(emit);
    };
  return c as CodecInstance;
}

// ---- instances by kind ----

/**
 * Where an input puts its events. `push` always accepts; `writable` false means pause reading.
 * `onDelivered`, when given, runs once the event's batch has passed every output (or the event
 * was dropped by a filter): inputs that can re-read (files, broker streams) acknowledge their
 * source only then, which makes delivery at-least-once across crashes. Batches may complete out
 * of order when several are in flight, so an input tracks the highest contiguous position itself.
 */
export interface InputSink {
  /**
   * Hands an event to the queue. `onDelivered` runs once the event is safe: with the memory queue,
   * when its batch has passed every output (or it was dropped); with the persisted queue, when it
   * is committed to disk (the queue then owns redelivery). Inputs move their checkpoints (file
   * offsets, stream acks) from it.
   */
  push(event: Event, onDelivered?: () => void): void;
  /** True when `onDelivered` callbacks are honoured (always, in this runtime; test sinks may not). */
  readonly tracksDelivery?: boolean;
  readonly writable: boolean;
  /** Resolves when the queue has room again. */
  whenWritable(): Promise<void>;
  /**
   * Resolves once every event pushed so far is held by the queue (persisted queue: committed to
   * disk). For inputs that acknowledge their sender on receipt rather than on delivery (RELP).
   * Absent in sinks that store on push (test sinks).
   */
  whenStored?(): Promise<void>;
}

export interface InputInstance {
  /** Runs until the input is finished (finite inputs) or stopped. */
  run(sink: InputSink): Promise<void>;
  /** Stops reading; `run` then resolves after handing over what it has received. */
  stop(): void | Promise<void>;
  /** Reloads certificates and the like (SIGHUP). */
  reload?(): void | Promise<void>;
}

/**
 * A filter (or correlate stage). `filter` returns false when it did not match (no common
 * add_field/add_tag then); sets `event.cancelled` to drop it; calls `emit` for new events, which
 * continue through the stages after this one.
 */
export interface FilterInstance {
  filter(event: Event, emit: (event: Event) => void): boolean | void;
  /**
   * Optional: sees each whole batch as it leaves the queue, before any of its events is filtered,
   * so a filter can do per-batch work in one go (grok hands a batch's lines to its matcher thread
   * in one round trip). Events may still be changed, dropped or skipped by conditionals before
   * `filter` sees them: anything prepared must be checked against the event when `filter` runs.
   */
  prepare?(batch: readonly Event[]): void;
  /** Periodic (and, with final=true, end-of-pipeline) flush for time-driven plugins. */
  flush?(emit: (event: Event) => void, final: boolean): void;
  close?(): void | Promise<void>;
}

/**
 * What `receive` may return for a batch it has taken but not yet made safe (lines still in the
 * output's own buffer): the pipeline goes on with the next batch at once, but acknowledges this one
 * (the persisted queue deletes it, inputs' delivery callbacks run) only when `written` resolves.
 * A rejection leaves the batch unacknowledged: the persisted queue delivers it again after a restart.
 */
export interface PendingWrite {
  readonly written: Promise<void>;
}

export interface OutputInstance {
  /**
   * Receives a batch, in order. The pipeline waits for the promise before reusing the batch and
   * acknowledges the batch once it resolves, or, if it resolves to a `PendingWrite`, once that is written.
   */
  receive(events: readonly Event[]): void | PendingWrite | Promise<void | PendingWrite>;
  /** Closes the files it writes so that the next write opens them again (SIGUSR2, after a log rotation). */
  reopen?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface InstanceOf {
  input: InputInstance;
  filter: FilterInstance;
  correlate: FilterInstance;
  output: OutputInstance;
  codec: CodecImplementation;
}

export interface PluginDefinition<K extends PluginKind = PluginKind, S extends Schema = Schema> {
  readonly kind: K;
  readonly name: string;
  readonly description?: string;
  readonly options: S;
  /**
   * Inputs and outputs: the codec used when the config names none. A plugin without one takes no
   * codec: `codec => ...` on it is refused at `-t`.
   */
  readonly defaultCodec?: string;
  /** Inputs that take a codec: how they hand it their data (see `CodecInput`). */
  readonly codecInput?: CodecInput;
  /**
   * Codecs that cannot decode (rubydebug, encode-only in Logstash too): refused on inputs at `-t`.
   */
  readonly encodeOnly?: boolean;
  /**
   * Filters and correlate stages that never write to the events they are given (SEC): the
   * executor then keeps an event's cached JSON text across them (see `Event.json`).
   */
  readonly readsOnly?: boolean;
  /**
   * Filters whose output for an event depends only on that event and the options (grok, date,
   * mutate...): with `pipeline.workers` above 1 the filter section may then run in several worker
   * threads at once, each with its own instance. A filter that keeps state across events (a
   * throttle, csv's autodetected header, anything with `flush`) leaves it unset, or answers per
   * options, and its section runs on the pipeline thread.
   */
  readonly parallel?: boolean | OptionsTest<Resolved<S>>;
  /** Filters and correlate stages: how often `flush` runs, in ms (Logstash flushes every 5 s). */
  readonly flushIntervalMs?: number;
  /**
   * A text that changes when files the plugin reads at start change (SEC rule files, pattern
   * files): a reload recreates the plugin then, and keeps it (with its state) otherwise.
   */
  fingerprint?(options: Resolved<S>, resolvePath: (p: string) => string): string;
  /**
   * Checks a resolved options object beyond the schema, at `--config.test_and_exit` as at start
   * (throw a ConfigError or Error to refuse): files the options name can be read here.
   */
  check?(options: Resolved<S>, env: CheckEnv): void;
  create(options: Resolved<S>, ctx: PluginContext): InstanceOf[K] | Promise<InstanceOf[K]>;
}

/** What a plugin's `check` may use. */
export interface CheckEnv {
  /** Resolves a path named in a config, as the plugin's context will at run time. */
  resolvePath(p: string): string;
}

/** A function of a plugin's options, compared like a method (bivariantly), as `check` is. */
type OptionsTest<O> = { bivariant(options: O): boolean }['bivariant'];

export const PLUGIN_BRAND = Symbol.for('pipeline.plugin.definition');

/** Declares a plugin. The brand lets the registry recognise definitions from any copy of core. */
export function definePlugin<K extends PluginKind, S extends Schema>(def: PluginDefinition<K, S>): PluginDefinition<K, S> {
  if (!/^[a-z][a-z0-9_]*$/.test(def.name)) throw new Error(`plugin name '${def.name}' must be lowercase letters, digits and _`);
  if (def.kind === 'input' && def.defaultCodec !== undefined && def.codecInput === undefined) throw new Error(`input '${def.name}' takes a codec: declare codecInput ('stream' or 'message')`);
  Object.defineProperty(def, PLUGIN_BRAND, { value: true });
  return def;
}

export function isPluginDefinition(x: unknown): x is PluginDefinition {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
