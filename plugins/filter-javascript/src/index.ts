import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, deepCopy, definePlugin, opt, type Clock, type Event, type Logger, type Resolved } from '@pipeline/core';
import { compileInline, compileScript, placeOf, scriptRequire, type Emit, type FilterFn, type Script, type Where } from './compile.js';
import { ScriptEvent } from './facade.js';
import { handOn, messageOf, readResults } from './run.js';
import { runScriptTests } from './script-tests.js';

export { ScriptEvent } from './facade.js';

const options = {
  code: opt.string({ description: 'JavaScript run for every event: a function body with `event` (and `emit`, `params`, `logger`, `require`) in scope; not with path' }),
  init: opt.string({ description: 'JavaScript run once at start, before the first event; what it declares is in scope for code; with code only' }),
  path: opt.path({ description: 'a script file defining filter(event), which returns an array of events, and optionally register(params) and tests; not with code' }),
  script_params: opt.hash({ default: {}, description: 'passed to the script file\'s register(params); with code, `params` in init and code' }),
  tag_on_exception: opt.string({ default: '_javascriptexception', description: 'tag added to an event when the code throws on it' }),
  tag_with_exception_message: opt.bool({ default: false, description: 'also add the tag "<tag_on_exception>: <exception message>"' }),
};

type Options = Resolved<typeof options>;

function readScript(path: string, resolvePath: (p: string) => string): Script {
  const file = resolvePath(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw ConfigError.forOption('path', `javascript: cannot read the script ${file}: ${messageOf(e)}`, undefined, path);
  }
  return compileScript(file, text);
}

/** The rules across options, and everything compiled: `check` (so `-t`) and `create` share it. */
function compile(o: Options, resolvePath: (p: string) => string, filename: string): { inline?: ReturnType<typeof compileInline>; script?: Script } {
  if (o.code !== undefined && o.path !== undefined) {
    throw ConfigError.forOption('path', "javascript: options 'code' and 'path' cannot be used together", 'inline code goes in code (with init); a script file in path (with script_params)');
  }
  if (o.code === undefined && o.path === undefined) {
    throw new ConfigError("javascript: set either 'code' (inline JavaScript run for every event) or 'path' (a script file defining filter(event))");
  }
  if (o.path !== undefined) {
    if (o.init !== undefined) throw ConfigError.forOption('init', "javascript: option 'init' goes with 'code'; a script file does its setup in register(params)");
    return { script: readScript(o.path, resolvePath) };
  }
  return { inline: compileInline(o.code!, o.init, filename) };
}

/** A script's logger: the plugin's logger methods only, not the pino object behind them. */
function scriptLogger(logger: Logger) {
  return Object.freeze({
    trace: (...a: unknown[]) => (logger.trace as (...x: unknown[]) => void)(...a),
    debug: (...a: unknown[]) => (logger.debug as (...x: unknown[]) => void)(...a),
    info: (...a: unknown[]) => (logger.info as (...x: unknown[]) => void)(...a),
    warn: (...a: unknown[]) => (logger.warn as (...x: unknown[]) => void)(...a),
    error: (...a: unknown[]) => (logger.error as (...x: unknown[]) => void)(...a),
  });
}

/** One warning per interval with the count it swallowed: an exception on every event cannot flood the log. */
class RateLimited {
  private last = -Infinity;
  private suppressed = 0;
  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 10_000,
  ) {}

  warn(fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = now;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.logger.warn({ ...fields, ...extra }, msg);
  }
}

/**
 * Logstash's `ruby` filter, in JavaScript: inline `code` (with `init`) run per event with the
 * event's API in scope, or a script file (`path`) whose `filter(event)` returns the events that go
 * on. The code is the operator's, trusted like the config, and runs on the pipeline thread.
 */
export default definePlugin({
  kind: 'filter',
  name: 'javascript',
  description: "Runs operator-written JavaScript on each event (the stand-in for Logstash's ruby filter).",
  options,
  // no `parallel`: code may keep state across events (init's variables), so the filter section
  // runs on the pipeline thread, one event at a time, as Logstash asks of such ruby filters.
  check(o, env) {
    const { script } = compile(o, env.resolvePath, 'javascript');
    // as Logstash does at -t: a script file is loaded and its tests run
    if (script) runScriptTests(script);
  },
  fingerprint(o, resolvePath) {
    if (o.path === undefined) return '';
    try {
      return createHash('sha256').update(readFileSync(resolvePath(o.path))).digest('hex');
    } catch {
      return 'unreadable';
    }
  },
  create(o, ctx) {
    const filename = `javascript:${ctx.id}`;
    const { inline, script } = compile(o, ctx.resolvePath, filename);
    const logger = scriptLogger(ctx.logger);
    const params = deepCopy(o.script_params);
    let run: FilterFn;
    let where: Where;
    let traceName: string;
    if (script) {
      let parts;
      try {
        parts = script.load(logger);
        parts.register?.(params);
      } catch (e) {
        throw ConfigError.forOption('path', `javascript: ${script.path}: loading the script and its register(params) failed: ${messageOf(e)}${at(placeOf(e, script.path, script.where))}`);
      }
      run = parts.filter;
      where = script.where;
      traceName = script.path;
    } else {
      let fn: unknown;
      try {
        fn = inline!.outer(params, logger, scriptRequire);
      } catch (e) {
        throw ConfigError.forOption('init', `javascript: init failed: ${messageOf(e)}${at(placeOf(e, filename, inline!.where))}`);
      }
      if (typeof fn !== 'function') throw ConfigError.forOption('init', 'javascript: init returned before the code (a top-level return in init)');
      run = fn as FilterFn;
      where = inline!.where;
      traceName = filename;
    }
    const fileMode = script !== undefined;
    const tag = o.tag_on_exception;
    const withMessage = o.tag_with_exception_message;
    const warnings = new RateLimited(ctx.logger, ctx.clock);
    const exceptions = ctx.metrics.counter('exceptions');

    // events emitted while the code runs; handed to the next stage once it has returned, so code
    // may still change an event after emitting it, as with Logstash's new_event_block
    const pending: Event[] = [];
    let current: ScriptEvent | undefined;
    const emitFn: Emit = (x) => {
      if (current === undefined) throw new Error('emit can be called only while the filter runs for an event');
      pending.push(handOn(x, current));
    };
    // `new_event_block.call(event.clone())`, Logstash's spelling, works as written
    Object.defineProperty(emitFn, 'call', { value: (x: unknown) => emitFn(x) });

    return {
      filter(event, emit) {
        const facade = new ScriptEvent(event);
        current = facade;
        try {
          const out = run(facade, emitFn, emitFn);
          if (fileMode) {
            if (!readResults(out, facade, pending)) event.cancelled = true;
          }
          return true;
        } catch (err) {
          exceptions.inc();
          const message = messageOf(err);
          if (withMessage) event.tag(`${tag}: ${message}`);
          event.tag(tag);
          const place = placeOf(err, traceName, where);
          warnings.warn({ error: message, ...(place ? { at: place } : {}) }, `javascript: the code threw; the event is tagged ${tag}`);
          return false;
        } finally {
          current = undefined;
          if (pending.length > 0) {
            const out = pending.length === 1 ? [pending[0]!] : pending.slice();
            pending.length = 0;
            for (let i = 0; i < out.length; i++) emit(out[i]!);
          }
        }
      },
    };
  },
});

function at(place: string | undefined): string {
  return place ? ` (at ${place})` : '';
}
