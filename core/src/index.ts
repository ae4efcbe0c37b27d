/**
 * @pipeline/core — the public API for plugin authors. Everything a plugin needs is exported here;
 * anything not exported is internal and may change. Semver applies to this file's exports.
 */
export { Event, deepCopy } from './event/event.js';
export { Timestamp } from './event/timestamp.js';
export { eventFromJson } from './event/from-json.js';
export { fieldRef, parseFieldPath, getField, setField, FieldRefError, type FieldRef, type Fields } from './event/field-ref.js';
export { compileTemplate, valueToString, type Template } from './event/sprintf.js';
export { compileJoda } from './event/joda.js';
export {
  definePlugin,
  isPluginDefinition,
  completeCodec,
  type PluginDefinition,
  type PluginKind,
  type PluginContext,
  type CheckEnv,
  type InputInstance,
  type InputSink,
  type FilterInstance,
  type OutputInstance,
  type PendingWrite,
  type CodecInstance,
  type CodecImplementation,
  type CodecInput,
  type CodecFactory,
  type Decoder,
  type Encoder,
  type InstanceOf,
  type Logger,
} from './plugin/define.js';
export { charset, charsetError, type Charset, type TextReader } from './plugin/charset.js';
export { opt, optionsTable, type OptionSpec, type Schema, type Resolved, type CodecRef } from './plugin/options.js';
export { SystemClock, VirtualClock, type Clock, type TimerHandle } from './plugin/clock.js';
export { compileDecorator, filterMatchedOptions } from './runtime/common-options.js';
export { MetricsRegistry, type Metrics, type Counter, type Gauge, type MetricLabels } from './plugin/metrics.js';
export { ConfigError, closeMatches } from './config/errors.js';
export { PluginError } from './plugin/errors.js';
export * from './spool/index.js';
export type { CommandContext, CommandRun, CommandWriter } from './registry/commands.js';
export { RUNAWAY_MS, enableRegexFallback, needsWatchdog, RegexWatchdog } from './regex/bounded.js';
