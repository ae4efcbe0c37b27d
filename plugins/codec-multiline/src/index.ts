/**
 * multiline: joins lines into one event by a pattern, as Logstash's multiline codec does — a line
 * the pattern matches (or, with negate, does not match) belongs to the previous line's event
 * (`what => previous`) or to the next one's (`what => next`).
 */
import { charset, ConfigError, definePlugin, Event, opt, Timestamp, type Charset, type CodecImplementation, type PluginContext, type Resolved, type TextReader, type TimerHandle } from '@pipeline/core';
import { compilePattern, patternSyntaxError, type LineMatcher } from './pattern.js';
import { parseBytes } from './text.js';

export { parseBytes } from './text.js';

export const MAX_LINES_TAG = 'multiline_codec_max_lines_reached';
export const MAX_BYTES_TAG = 'multiline_codec_max_bytes_reached';

const options = {
  pattern: opt.string({ required: true, description: 'The regular expression (Oniguruma syntax, grok %{NAME} references allowed) each line is matched against.', validate: patternSyntaxError }),
  what: opt.string({ required: true, values: ['previous', 'next'], description: 'Whether a matching line belongs to the event of the line before it or of the line after it' }),
  negate: opt.bool({ default: false, description: 'Apply `what` to the lines the pattern does not match instead.' }),
  patterns_dir: opt.strings({ default: [], description: 'Extra grok pattern files or folders of them (NAME PATTERN lines), loaded after the built-in legacy set.' }),
  auto_flush_interval: opt.number({ description: 'Seconds without a new line after which the event being built is emitted; unset: it waits for the line that ends it, or the end of the stream.', validate: (n: number) => (n > 0 ? undefined : 'must be > 0') }),
  max_lines: opt.number({ default: 500, min: 0, description: `An event is emitted once it holds more than this many lines, tagged ${MAX_LINES_TAG}` }),
  max_bytes: opt.string({ default: '10 MiB', description: `An event is emitted once its lines hold this many bytes, tagged ${MAX_BYTES_TAG}; a number of bytes or a size such as "512 KiB" or "2 mb".`, validate: (s: string) => (Number.isNaN(parseBytes(s)) ? `cannot read '${s}' as a size (e.g. 1048576, "10 MiB", "512 kb")` : undefined) }),
  multiline_tag: opt.string({ default: 'multiline', description: 'Tag added to events made of more than one line ("" adds none).' }),
  charset: opt.charset(),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'v1, v8: also copy the joined text to [event][original].' }),
};

type Options = Resolved<typeof options>;

/** What every instance of one codec configuration shares, compiled once. */
interface Compiled {
  readonly matcher: LineMatcher;
  readonly negate: boolean;
  readonly previous: boolean;
  readonly maxLines: number;
  readonly maxBytes: number;
  readonly tag: string;
  readonly ecs: boolean;
  readonly autoFlushMs: number;
  readonly charset: Charset;
}

const compiledByOptions = new WeakMap<object, Compiled>();

function compile(o: Options, resolvePath: (p: string) => string): Compiled {
  let c = compiledByOptions.get(o);
  if (c === undefined) {
    c = {
      matcher: compilePattern(o.pattern, o.patterns_dir, resolvePath),
      negate: o.negate,
      previous: o.what === 'previous',
      maxLines: o.max_lines,
      maxBytes: parseBytes(o.max_bytes),
      tag: o.multiline_tag,
      ecs: o.ecs_compatibility !== 'disabled',
      autoFlushMs: o.auto_flush_interval === undefined ? 0 : o.auto_flush_interval * 1000,
      charset: charset(o.charset),
    };
    compiledByOptions.set(o, c);
  }
  return c;
}

/**
 * Instances whose auto-flush timer is armed, per pipeline: when the pipeline stops their timers are
 * cancelled (the inputs flush what the instances hold as their streams end). One abort listener per
 * pipeline, not one per connection.
 */
const armed = new WeakMap<AbortSignal, Set<Multiline>>();

function armedSet(signal: AbortSignal): Set<Multiline> {
  let set = armed.get(signal);
  if (set === undefined) {
    const s = (set = new Set());
    armed.set(signal, s);
    signal.addEventListener(
      'abort',
      () => {
        for (const m of s) m.cancelTimer();
        s.clear();
      },
      { once: true },
    );
  }
  return set;
}

/** One stream's state: the lines of the event being built. */
class Multiline implements CodecImplementation {
  /** The event being built: its lines joined with \n so far, and how many there are. */
  private joined = '';
  private count = 0;
  private bytes = 0;
  /** When the event's first line arrived: its @timestamp. */
  private firstAt = 0;
  /** When the latest line arrived (auto flush only). */
  private lastAt = 0;
  /** 1 while a line handed in is not yet part of the event being built (what => previous emits before adding it). */
  private inHand = 0;
  /** A partial last line of `decode`. */
  private partial = '';
  private readonly text: TextReader;
  /** The `emit` of the latest call: where an auto flush sends its event. */
  private target: ((e: Event) => void) | undefined;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly c: Compiled,
    private readonly ctx: PluginContext,
  ) {
    this.text = c.charset.reader();
  }

  /** Lines handed in that are in no emitted event yet (a partial line of `decode` not counted). */
  get heldLines(): number {
    return this.count + this.inHand;
  }

  decode(data: Buffer | string, emit: (e: Event) => void): void {
    this.target = emit;
    const chunk = typeof data === 'string' ? data : this.text.write(data);
    let start = 0;
    let carried = this.partial;
    for (;;) {
      const at = chunk.indexOf('\n', start);
      if (at < 0) break;
      this.line(carried.length > 0 ? carried + chunk.slice(start, at) : chunk.slice(start, at), emit, this.c.matcher.single);
      carried = '';
      start = at + 1;
    }
    this.partial = start === 0 ? carried + chunk : chunk.slice(start);
  }

  decodeLine(data: Buffer | string, emit: (e: Event) => void): void {
    this.target = emit;
    const line = typeof data === 'string' ? data : this.c.charset.decode(data);
    // an input's own framing (a delimiter other than \n) may leave newlines in a line
    const m = this.c.matcher;
    this.line(line, emit, line.indexOf('\n') === -1 ? m.single : m.regex);
  }

  decodeMessage(data: Buffer | string, emit: (e: Event) => void): void {
    // whole: every \n-terminated part is a line, and the rest when there is one; then the event is complete
    this.target = emit;
    let chunk: string;
    if (typeof data === 'string') chunk = data;
    else chunk = this.c.charset.decode(data);
    let start = 0;
    for (;;) {
      const at = chunk.indexOf('\n', start);
      if (at < 0) break;
      this.line(chunk.slice(start, at), emit, this.c.matcher.single);
      start = at + 1;
    }
    if (start < chunk.length) this.line(start === 0 ? chunk : chunk.slice(start), emit, this.c.matcher.single);
    this.emitEvent(emit);
  }

  flush(emit: (e: Event) => void): void {
    this.target = emit;
    const rest = this.partial + this.text.end();
    this.partial = '';
    if (rest.length > 0) this.line(rest, emit, this.c.matcher.single);
    this.emitEvent(emit);
    this.cancelTimer();
    armed.get(this.ctx.signal)?.delete(this);
  }

  encode(event: Event): string {
    return event.toString();
  }

  cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One line; `re` is the matcher's regex for it (`single` when the line holds no newline). */
  private line(text: string, emit: (e: Event) => void, re: RegExp): void {
    const c = this.c;
    const literal = c.matcher.literal;
    let matched = (literal === undefined || text.indexOf(literal) !== -1) && re.test(text);
    if (c.negate) matched = !matched;
    if (c.previous) {
      if (!matched || this.overLimits()) {
        this.inHand = 1;
        this.emitEvent(emit);
        this.inHand = 0;
      }
      this.buffer(text);
    } else {
      this.buffer(text);
      if (!matched || this.overLimits()) this.emitEvent(emit);
    }
  }

  /** Logstash's limits: more than max_lines lines, or at least max_bytes bytes. */
  private overLimits(): boolean {
    return this.count > this.c.maxLines || this.bytes >= this.c.maxBytes;
  }

  private buffer(text: string): void {
    const c = this.c;
    if (c.autoFlushMs > 0) {
      const now = this.ctx.clock.now();
      if (this.count === 0) this.firstAt = now;
      this.lastAt = now;
      if (this.timer === undefined) this.arm(c.autoFlushMs);
    } else if (this.count === 0) this.firstAt = this.ctx.clock.now();
    // appending makes a rope: no copy per line, the text is flattened once when it is read
    this.joined = this.count === 0 ? text : this.joined + '\n' + text;
    this.count++;
    this.bytes += Buffer.byteLength(text);
  }

  private arm(ms: number): void {
    if (this.ctx.signal.aborted) return;
    this.timer = this.ctx.clock.setTimeout(this.onTimer, ms);
    armedSet(this.ctx.signal).add(this);
  }

  /** The auto-flush timer: emits the event once no line came for auto_flush_interval, else waits the rest. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.count === 0) {
      armed.get(this.ctx.signal)?.delete(this);
      return;
    }
    const idle = this.ctx.clock.now() - this.lastAt;
    if (idle < this.c.autoFlushMs) {
      this.arm(this.c.autoFlushMs - idle);
      return;
    }
    armed.get(this.ctx.signal)?.delete(this);
    const emit = this.target;
    if (emit === undefined) return;
    try {
      this.emitEvent(emit);
    } catch (err) {
      this.ctx.logger.error({ err }, 'multiline: auto flush failed');
    }
  };

  /** The buffered lines as one event (nothing when there are none); the buffer is empty before `emit` runs. */
  private emitEvent(emit: (e: Event) => void): void {
    const n = this.count;
    if (n === 0) return;
    const c = this.c;
    const message = this.joined;
    const overBytes = this.bytes >= c.maxBytes;
    const overLines = n > c.maxLines;
    this.joined = '';
    this.count = 0;
    this.bytes = 0;
    const e = new Event(c.ecs ? { message, event: { original: message } } : { message }, new Timestamp(this.firstAt));
    if (n > 1 && c.tag !== '') e.tag(c.tag);
    if (overBytes) e.tag(MAX_BYTES_TAG);
    if (overLines) e.tag(MAX_LINES_TAG);
    emit(e);
  }
}

export default definePlugin({
  kind: 'codec',
  name: 'multiline',
  description: 'Joins lines into one event by a pattern (stack traces, continuation lines).',
  options,
  check(o, env) {
    if (Number.isNaN(parseBytes(o.max_bytes))) throw ConfigError.forOption('max_bytes', `codec multiline: option 'max_bytes': cannot read '${o.max_bytes}' as a size`);
    compile(o, env.resolvePath);
  },
  create(o, ctx) {
    return new Multiline(compile(o, (p) => ctx.resolvePath(p)), ctx);
  },
});
