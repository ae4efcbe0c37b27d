import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
/**
 * correlate { sec { rules => ["pipelines/rules/*.sec"] } } — SEC 2.9 rule files run inside the
 * pipeline. Matches each event's `message` (or its JSON line), on the pipeline clock or on event
 * time; events created by rules (`event`, `alert`, `heartbeat`) go out to the outputs, tagged.
 */
import { writeFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { definePlugin, opt, ConfigError, Event, Timestamp, fieldRef, valueToString, type Counter } from '@pipeline/core';
import { SecEngine, type Handover } from './engine.js';
import { Trace, TRACE_LIMIT } from './trace.js';
import { loadRuleFiles, formatRuleError } from './loader.js';
import { toBytes, fromBytes } from './bytes.js';
import type { Rule } from './rules.js';

export { checkRuleFiles, loadRuleFiles, formatRuleError } from './loader.js';
export { migrateRuleFile } from './migrate.js';
export { SecEngine } from './engine.js';
export { compileRuleFile, type RuleError, type RuleFile } from './rules.js';
export { toBytes, fromBytes } from './bytes.js';

/**
 * A reload that recreates a sec block (its rule files or options changed) creates the new
 * instance first and flushes and closes the old one when the new configuration takes over, before
 * the new one sees an event. Instances of one block find each other here, by the running
 * pipeline (its stop signal: one per pipeline, the same across its reloads) and the plugin id: the old one's final flush hands its engine to the newest live instance of its block,
 * which adopts the state of every unchanged rule (sec's soft restart, per rule) before it starts.
 */
interface Live {
  /** Takes the engine (and event clock) of the instance it replaces. */
  take(old: SecEngine, evNow: number): void;
  closed: boolean;
}
const running = new WeakMap<AbortSignal, Map<string, Live[]>>();

export interface SecInstance {
  filter(event: Event, emit: (e: Event) => void): boolean;
  flush(emit: (e: Event) => void, final: boolean): void;
  close(): void;
  /** Live operations and contexts, as sec writes on SIGUSR1 (also written to `dump` when set). */
  dump(): string;
}

const options = {
  rules: opt.strings({ required: true, description: 'SEC rule files or globs, matched in this order (like repeated `--conf`).' }),
  source: opt.field({ default: 'message', description: 'Field whose text is matched against the rules.' }),
  match_json_lines: opt.bool({ default: false, description: "Match each event's json_lines encoding instead of `source` (what sec saw tailing Logstash's JSON output files)." }),
  allow_shell: opt.bool({ default: false, description: 'Allow shellcmd, spawn, cspawn, pipe, report with a command and SingleWithScript. Without it such rules fail to load.' }),
  intevents: opt.bool({ default: false, description: "Generate SEC_STARTUP / SEC_SHUTDOWN internal events, and SEC_PRE_SOFTRESTART / SEC_SOFTRESTART at a reload, with the SEC_INTERNAL_EVENT context (sec's --intevents)." }),
  intcontexts: opt.bool({ default: false, description: "Set up internal contexts _FILE_EVENT_-, _INTERNAL_EVENT ... while a line is matched (sec's --intcontexts)." }),
  time_source: opt.string({ default: 'clock', values: ['clock', 'event'], description: 'clock: the pipeline clock; event: the latest @timestamp seen, in whole seconds, never going back' }),
  dump: opt.path({ description: 'File the dump of operations and contexts is written to (SIGUSR1).' }),
  event_tag: opt.string({ default: 'sec', description: 'Tag added to events created by `event`/`tevent`/`cevent` actions.' }),
};

export default definePlugin({
  kind: 'correlate',
  name: 'sec',
  description: 'SEC-compatible event correlation (Simple Event Correlator 2.9 rule files).',
  options,
  readsOnly: true,
  flushIntervalMs: 1000,
  // Rule files are read at the config check too, so `-t` reports their mistakes with file and line.
  check(o, env) {
    loadChecked(o.rules.map((p) => env.resolvePath(p)), o.allow_shell, o.rules);
  },
  // The rule files' contents: a reload recreates the engine only when they (or its options) change.
  fingerprint(o, resolvePath) {
    const h = createHash('sha256');
    for (const f of loadRuleFiles(o.rules.map((p) => resolvePath(p)), { allowShell: true }).files) h.update(f.file).update('\0').update(readFileSync(f.file)).update('\0');
    return h.digest('hex');
  },
  create(o, ctx): SecInstance {
    const loaded = loadChecked(o.rules.map((p) => ctx.resolvePath(p)), o.allow_shell, o.rules);
    for (const w of loaded.warnings) ctx.logger.warn(formatRuleError(w));

    const eventTime = o.time_source === 'event';
    let evNow = -1;
    const now = () => (eventTime ? Math.max(evNow, 0) : Math.floor(ctx.clock.now() / 1000));
    let emit: ((e: Event) => void) | undefined;
    const stamp = () => new Timestamp(eventTime ? now() * 1000 : ctx.clock.now());
    // the rule trace: decided once, here; without debug the engine has no trace hooks at all
    const trace = ctx.logger.isLevelEnabled('debug') ? new Trace((msg) => ctx.logger.debug(msg), () => ctx.clock.now()) : undefined;
    if (trace) ctx.logger.debug(`sec: rule trace on: rule matches, context operations and actions at debug level, at most ${TRACE_LIMIT} lines a second`);
    const counters = new Map<Rule, Counter>();
    const matches = ctx.metrics.counter('matches');
    const opsGauge = ctx.metrics.gauge('operations');
    const ctxGauge = ctx.metrics.gauge('contexts');

    const engine = new SecEngine(
      loaded.files,
      {
        now,
        workingDir: ctx.workingDir,
        emitEvent(line, context) {
          emit?.(new Event({ message: fromBytes(line), '@timestamp': stamp(), tags: [o.event_tag], sec: { context } }));
        },
        emitNative(kind, fields, from) {
          const message = String(kind === 'alert' ? (fields.text ?? fields.event ?? '') : `heartbeat ${fields.origin ?? ''}`);
          const sec = from.rule === undefined ? { desc: from.desc } : { rule: from.rule, desc: from.desc };
          emit?.(new Event({ message, '@timestamp': stamp(), [kind]: fields, tags: [kind], sec }));
        },
        log(level, msg) {
          ctx.logger[level](msg);
        },
        onMatch(rule) {
          matches.inc();
          let c = counters.get(rule);
          if (!c) counters.set(rule, (c = ctx.metrics.counter('rule_matches', { rule: `${basename(rule.file)}:${rule.line}` })));
          c.inc();
        },
      },
      { intevents: o.intevents, intcontexts: o.intcontexts, allowShell: o.allow_shell, trace },
    );

    // a reload: the block's instance before this one hands over its state at its final flush
    let blocks = running.get(ctx.signal);
    if (!blocks) running.set(ctx.signal, (blocks = new Map()));
    const blockKey = ctx.id;
    let block = blocks.get(blockKey);
    if (!block) blocks.set(blockKey, (block = []));
    const me: Live = {
      closed: false,
      take(old, oldNow) {
        const h: Handover = engine.adopt(old);
        if (eventTime && oldNow > evNow) evNow = oldNow;
        ctx.logger.info(
          { operations_kept: h.kept, operations_dropped: h.dropped, rules_unchanged: h.sameRules, rules_new_or_changed: h.newRules, contexts: h.contexts },
          `sec: soft restart: ${h.kept} operation(s) of unchanged rules kept, ${h.dropped} of changed or removed rules dropped; ${h.contexts} context(s) kept`,
        );
      },
    };
    block.push(me);
    /** The newest live instance of the block, when it is not this one: the one to hand over to. */
    const successor = (): Live | undefined => {
      const list = blocks.get(blockKey) ?? [];
      if (ctx.signal.aborted) return undefined;
      for (let i = list.length - 1; i >= 0; i--) {
        const l = list[i]!;
        if (l === me) return undefined;
        if (!l.closed) return l;
      }
      return undefined;
    };
    const leave = () => {
      me.closed = true;
      const list = blocks.get(blockKey);
      if (!list) return;
      const i = list.indexOf(me);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) blocks.delete(blockKey);
    };
    /** The end of this instance: its state goes to the block's next instance, or (none) sec's shutdown. */
    const finish = () => {
      const next = successor();
      leave();
      if (next) next.take(engine, evNow);
      else engine.shutdown();
    };

    const sourceRef = fieldRef(o.source);
    const textOf = (e: Event): string | undefined => {
      if (o.match_json_lines) return e.json(); // shared with a json_lines output while the event is unchanged
      const v = e.get(sourceRef);
      return v === undefined || v === null ? undefined : valueToString(v);
    };
    const gauges = () => {
      opsGauge.set(engine.ops.size);
      ctxGauge.set(engine.contexts.size);
    };
    let closed = false;

    return {
      filter(event, em) {
        emit = em;
        if (eventTime) {
          const t = event.timestamp.epochSeconds;
          if (t > evNow) evNow = t;
        }
        const text = textOf(event);
        if (text === undefined) {
          engine.tick();
          engine.drain();
          return false;
        }
        const before = matches.value;
        // a line may hold several (json_lines never does; plain messages rarely): sec reads lines
        if (text.indexOf('\n') < 0) engine.input(toBytes(text));
        else for (const line of text.split('\n')) engine.input(toBytes(line));
        gauges();
        return matches.value > before;
      },
      flush(em, final) {
        emit = em;
        if (!eventTime || evNow >= 0) {
          engine.tick();
          engine.drain();
        }
        engine.flushOutputs();
        trace?.tick();
        if (final && !closed) {
          closed = true;
          finish();
        }
        gauges();
      },
      close() {
        if (!closed) {
          closed = true;
          finish();
        }
      },
      dump() {
        engine.flushOutputs();
        const text = engine.dump();
        if (o.dump) writeFileSync(isAbsolute(o.dump) ? o.dump : resolve(ctx.workingDir, o.dump), text);
        return text;
      },
    };
  },
});

function loadChecked(patterns: string[], allowShell: boolean, configured: string[]) {
  const loaded = loadRuleFiles(patterns, { allowShell });
  if (loaded.errors.length) throw new ConfigError(`sec: ${loaded.errors.length} error(s) in rule files:\n${loaded.errors.map(formatRuleError).join('\n')}`);
  if (!loaded.files.length) throw new ConfigError(`sec: no rule files found for ${configured.join(', ')}`, undefined, 'rules => [...] takes paths or globs, relative to the working directory or the installation');
  return loaded;
}
