/**
 * The plugin compliance suite: the same checks for every input and output plugin, run against a
 * real `pipeline start` process (the command users run, through compliance-runner.ts) with the
 * plugin's own package on `--path.plugins`. A plugin's test file gives its definition and a small
 * driver (how to feed the input, or how to read what the output wrote) and gets, as node:test
 * tests:
 *
 * - codec: an input that takes a codec decodes with plain, plain { charset }, line { delimiter },
 *   json and json_lines; an output that takes one encodes with plain { format },
 *   line { format delimiter }, json and json_lines, byte for byte; a plugin that takes none refuses
 *   `codec => ...` at `-t`, an input that takes one refuses an encode-only codec at `-t`;
 * - common options: input id, type, tags, add_field; output id;
 * - metrics: `promtool check metrics` accepts /metrics after a run, and the plugin's series follow
 *   the one naming rule of core/src/monitoring/prometheus.ts (pipeline_plugin_*, kind and
 *   plugin_id labels, nothing from data or ids in a name);
 * - shutdown: with events held on their way to the outputs, SIGTERM delivers every event the input
 *   produced, once (an output that spools passes if its next start on the same data sends the rest);
 * - close: once the pipeline has stopped, nothing the plugin opened (socket, server, timer,
 *   watcher, file) is left;
 * - reload: a SIGHUP with the block unchanged keeps the instance (and it keeps working); a changed
 *   option replaces it (and the new one works, with nothing lost or repeated).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { PluginDefinition } from '../plugin/define.js';
import type { LeftOpen } from './compliance-runner.js';
import { checkOnly, freePort, PipelineProcess, until, type LogRecord } from './pipeline-process.js';

export { freePort, until, PipelineProcess, type LogRecord } from './pipeline-process.js';
export { sendTcp, sendUdp } from './compliance-send.js';

/** Ids the suite gives the plugin under test and the plugins around it. */
export const COMPLIANCE_IDS = { input: 'cmplx_in', output: 'cmplx_out', capture: 'cmplx_capture', feed: 'cmplx_feed', idle: 'cmplx_idle' } as const;

/**
 * How long the suite waits for events to arrive before it stops the pipeline and says what is
 * missing; PIPELINE_COMPLIANCE_WAIT_MS overrides it (the suite's self-test, where the events that
 * a broken plugin loses never come, waits less).
 */
const WAIT_MS = Number(process.env.PIPELINE_COMPLIANCE_WAIT_MS) || 20_000;
/** node:test timeout of one check (several starts of the pipeline at most). */
const TEST_TIMEOUT_MS = 180_000;
const TOKEN = /cmplx-[a-z]+-\d+/g;

/** What a driver sees of one run of the pipeline. */
export interface ComplianceRun {
  /** A fresh directory for this run; the pipeline's working directory. */
  readonly dir: string;
  /** A port that was free: an input listens on it, an output's peer may. */
  readonly port: number;
  /** The id of the plugin under test. */
  readonly id: string;
  /**
   * For inputs that produce their events from their options (generator): the messages this part
   * of the run must produce, one per message; drivers of other inputs ignore it.
   */
  readonly messages: readonly string[];
  /** The pipeline process: its standard input and output, logs, API. */
  readonly pipeline: PipelineProcess;
}

export interface InputDriver {
  /** A path or file URL inside the plugin's package (the test's `import.meta.url`). */
  package: string | URL;
  /**
   * The options of the input's block, without `id`, `codec` or common options; e.g.
   * `port => ${run.port} host => "127.0.0.1"`.
   */
  options(run: ComplianceRun): string;
  /** The same with one option changed: the reload check expects the instance to be replaced. */
  changed(run: ComplianceRun): string;
  /**
   * Resolves once the input can take data (e.g. its "listening" log line: `run.pipeline.waitForLog`);
   * called after the start and after a replacing reload. Default: at once.
   */
  ready?(run: ComplianceRun): Promise<void>;
  /**
   * Hands data to the running input. A `codecInput: 'message'` input gets each message (a
   * datagram, a line of a file, a frame, a list item); a `'stream'` input gets one Buffer, the
   * bytes of one stream (a connection, standard input). Absent for inputs that produce their data
   * from their options (`run.messages`).
   */
  send?(run: ComplianceRun, data: readonly Buffer[]): Promise<void>;
  /**
   * A record as the input's senders frame it (a syslog header before it); the event's `message`
   * must come back as the record itself. Default: the record.
   */
  wrap?(record: string): string;
  /** Extra `pipeline start` arguments. */
  settings?: string[];
  /**
   * Checks this input is known to fail, with why: they still run and report, as `todo` (the run
   * stays green); an entry is a defect on record, to be removed when the plugin is fixed.
   * `charset`: the codec's `charset` option.
   */
  knownFailures?: { charset?: string };
}

export interface OutputDriver {
  /** A path or file URL inside the plugin's package (the test's `import.meta.url`). */
  package: string | URL;
  /** The options of the output's block, without `id` or `codec`. */
  options(run: ComplianceRun): string;
  /**
   * The same with one option changed (for an output with no option of its own, a codec option
   * or `workers`): the reload check expects the instance to be replaced.
   */
  changed(run: ComplianceRun): string;
  /** Called after each start of the pipeline, before events come: readies the destination (a peer on `run.port`). */
  ready?(run: ComplianceRun): Promise<void>;
  /**
   * What the output has written so far in this run. For an output that takes a codec: the text of
   * its stream (a file, standard output) or one string per message it sent (a list item, a
   * datagram), as encoded. For one that takes none: one string per event it delivered that holds
   * the event's `message` (configure it to send `%{message}` somewhere: a subject, a resource).
   * Leave it out only for an output that has nothing to observe (null): the checks then rest on
   * the events the pipeline handed it.
   */
  written?(run: ComplianceRun): Promise<string | string[]> | string | string[];
  /**
   * The output cuts trailing blanks and line ends from what its codec encoded before sending it
   * (syslog: a message carries no line end of its own). The codec checks then expect each message
   * cut the same way (json_lines without its final newline).
   */
  trimsEncoded?: boolean;
  settings?: string[];
}

// ---- records and codecs ----

interface CodecCase {
  title: string;
  /** The codec as the config writes it. */
  spec: string;
  name: 'plain' | 'line' | 'json' | 'json_lines';
  delimiter?: string;
  charset?: 'latin1';
}

const INPUT_CODECS: CodecCase[] = [
  { title: 'plain', spec: 'plain', name: 'plain' },
  { title: 'plain { charset => "ISO-8859-1" }', spec: 'plain { charset => "ISO-8859-1" }', name: 'plain', charset: 'latin1' },
  { title: 'line { delimiter => "|" }', spec: 'line { delimiter => "|" }', name: 'line', delimiter: '|' },
  { title: 'json', spec: 'json', name: 'json' },
  { title: 'json_lines', spec: 'json_lines', name: 'json_lines', delimiter: '\n' },
];

const records = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `cmplx-${tag}-${i}`);
const LATIN = ' caf\u00e9';
const timestampOf = (i: number) => new Date(Date.UTC(2024, 4, 6, 7, 8, 9, i)).toISOString();
const jsonRecord = (message: string, i: number) => ({ message, cmplx_seq: i, cmplx_obj: { n: i, list: [i, 'x'] } });

/** What an input is handed for `recs` under a codec: messages, or one stream. */
interface InputData {
  /** 'message' inputs: one Buffer per message; 'stream' inputs: one Buffer. */
  data: Buffer[];
  /** The same as text, for inputs that take their messages from their options. */
  messages: string[];
  /** The records the events' messages must be, in order (a plain stream: see `text`). */
  expect: string[];
  /** A plain stream: the text the events' messages must add up to. */
  text?: string;
}

function inputData(c: CodecCase | undefined, recs: string[], mode: 'stream' | 'message', wrap: (r: string) => string): InputData {
  const name = c?.name ?? 'plain';
  const enc = c?.charset ?? 'utf8';
  const text = (s: string) => Buffer.from(s, enc);
  if (name === 'plain') {
    const expect = c?.charset ? recs.map((r) => r + LATIN) : recs;
    const parts = expect.map(wrap);
    if (mode === 'message') return { data: parts.map(text), messages: parts, expect };
    // a stream with plain: each read is an event; together they are the text sent
    const all = parts.join('\n');
    return { data: [text(all)], messages: [all], expect, text: all };
  }
  if (name === 'line') {
    const d = c?.delimiter ?? '\n';
    if (mode === 'stream') {
      const all = recs.map(wrap).join(d) + d;
      return { data: [text(all)], messages: [all], expect: recs };
    }
    // messages of two lines each: the codec splits them
    const msgs: string[] = [];
    for (let i = 0; i < recs.length; i += 2) msgs.push(recs.slice(i, i + 2).map(wrap).join(d));
    return { data: msgs.map(text), messages: msgs, expect: recs };
  }
  const docs = recs.map((r, i) => JSON.stringify(jsonRecord(wrap(r), i)));
  if (name === 'json') {
    if (mode === 'message') return { data: docs.map(text), messages: docs, expect: recs };
    // a stream with json: one document per read; one array sent in one write is one document
    const all = `[${docs.join(',')}]`;
    return { data: [text(all)], messages: [all], expect: recs };
  }
  if (mode === 'message') return { data: docs.map(text), messages: docs, expect: recs };
  const all = docs.join('\n') + '\n';
  return { data: [text(all)], messages: [all], expect: recs };
}

/** Output codecs, with what each must write for an event. */
interface OutputCodecCase {
  title: string;
  spec: string;
  /** What the codec writes for one event; json codecs are parsed and compared field by field instead. */
  unit?(message: string, seq: number): string;
}

const OUTPUT_CODECS: OutputCodecCase[] = [
  { title: 'plain { format }', spec: 'plain { format => "<%{message}|%{cmplx_seq}>" }', unit: (m, s) => `<${m}|${s}>` },
  { title: 'line { format delimiter }', spec: 'line { format => "%{message}:%{cmplx_seq}" delimiter => "|" }', unit: (m, s) => `${m}:${s}|` },
  { title: 'json', spec: 'json' },
  { title: 'json_lines', spec: 'json_lines' },
];

/** Consecutive JSON documents in one text (the json codec writes them without a separator). */
export function splitJsonDocuments(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' || ch === ']') {
      if (--depth === 0) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}

const tokensOf = (written: string | string[]) => (Array.isArray(written) ? written.join('\n') : written).match(TOKEN) ?? [];

/** Every record of `want` is in `got` (repeats are found by `exactlyOnce` once the run is over). */
function allThere(got: readonly string[], want: readonly string[]): boolean {
  const have = new Set(got);
  return want.every((w) => have.has(w));
}

/** Records missing from `got`, or there more than once, or not expected at all. */
function exactlyOnce(got: readonly string[], want: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
  const missing = want.filter((w) => !counts.has(w));
  const repeated = [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
  const extra = [...counts.keys()].filter((k) => !want.includes(k));
  if (!missing.length && !repeated.length && !extra.length) return undefined;
  const show = (xs: string[]) => (xs.length > 8 ? `${xs.slice(0, 8).join(', ')} and ${xs.length - 8} more` : xs.join(', '));
  return [missing.length && `missing ${missing.length}: ${show(missing)}`, repeated.length && `repeated: ${show(repeated)}`, extra.length && `unexpected: ${show(extra)}`].filter(Boolean).join('; ');
}

// ---- the package, the helper plugins, one run ----

function packageDirOf(from: string | URL, def: PluginDefinition): string {
  let dir = from instanceof URL || String(from).startsWith('file:') ? fileURLToPath(from) : resolve(String(from));
  if (existsSync(dir) && !statSync(dir).isDirectory()) dir = dirname(dir);
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      const declared = (JSON.parse(readFileSync(pj, 'utf8')) as { pipeline?: { plugins?: Record<string, string[]> } }).pipeline?.plugins?.[def.kind];
      if (declared?.includes(def.name)) return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json declaring ${def.kind} '${def.name}' above ${String(from)}`);
    dir = up;
  }
}

let helpersDir: string | undefined;

/** A package declaring the suite's helper plugins, re-exporting them from this core. */
function helperPackage(): string {
  if (helpersDir && existsSync(helpersDir)) return helpersDir;
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-compliance-plugins-'));
  const module = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'compliance-plugins.js')).href;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pipeline-compliance-helpers', version: '0.0.0', type: 'module', main: 'index.js', pipeline: { plugins: { input: ['compliance_feed', 'compliance_idle'], output: ['compliance_capture'] } } }),
  );
  writeFileSync(join(dir, 'index.js'), `export { captureOutput, feedInput, idleInput } from ${JSON.stringify(module)};\n`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (helpersDir = dir);
}

class Run implements ComplianceRun {
  readonly dir: string;
  readonly conf: string;
  readonly capture: string;
  readonly hold: string;
  messages: readonly string[] = [];
  private proc?: PipelineProcess;
  private starts = 0;
  private constructor(
    readonly port: number,
    readonly id: string,
    private readonly packageDir: string,
    private readonly settings: string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'pipeline-compliance-'));
    this.conf = join(this.dir, 'pipeline.conf');
    this.capture = join(this.dir, 'captured.jsonl');
    this.hold = join(this.dir, 'hold');
  }

  static async create(id: string, packageDir: string, settings: string[] = []): Promise<Run> {
    return new Run(await freePort(), id, packageDir, settings);
  }

  get pipeline(): PipelineProcess {
    if (!this.proc) throw new Error('the pipeline of this run has not started');
    return this.proc;
  }

  /** The capture output's block: every event as a JSON line; held while the hold file exists. */
  get captureBlock(): string {
    return `compliance_capture { id => "${COMPLIANCE_IDS.capture}" path => "${this.capture}" hold => "${this.hold}" }`;
  }

  args(): string[] {
    return ['-f', this.conf, '--path.data', join(this.dir, 'data'), '--api.http.host', '127.0.0.1', '--api.http.port', '0', '--path.plugins', this.packageDir, '--path.plugins', helperPackage(), ...this.settings];
  }

  async start(config: string): Promise<PipelineProcess> {
    writeFileSync(this.conf, config);
    this.proc = PipelineProcess.start(this.args(), { cwd: this.dir, report: join(this.dir, `left-open-${++this.starts}.json`) });
    await this.proc.waitForLog((r) => r.msg === 'pipeline started', 'the pipeline to start');
    return this.proc;
  }

  /** Events the capture output has written, parsed. */
  captured(): Record<string, any>[] {
    if (!existsSync(this.capture)) return [];
    return readFileSync(this.capture, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, any>);
  }

  holdOn(): void {
    writeFileSync(this.hold, '');
  }

  holdOff(): void {
    if (existsSync(this.hold)) unlinkSync(this.hold);
  }

  /** SIGTERM, then waits for the exit. */
  async stop(): Promise<number | null> {
    this.proc?.signal('SIGTERM');
    return this.proc ? this.proc.exit() : null;
  }

  /** SIGHUP after rewriting the config; the 'reloaded' record (kept, created, removed), or why not. */
  async reload(config?: string): Promise<LogRecord> {
    if (config !== undefined) writeFileSync(this.conf, config);
    const p = this.pipeline;
    p.mark();
    p.signal('SIGHUP');
    return p.waitForLog((r) => (r.msg === 'reloaded' && r.why === 'SIGHUP') || r.msg === 'reload failed, the running pipeline keeps going' || String(r.msg).startsWith('configuration refused'), 'the reload on SIGHUP');
  }

  cleanup(): void {
    if (this.proc?.running) this.proc.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `pipeline start -t` on a config, with the line and column of its first `codec =>`, where a refusal must point. */
function refusedAtCheck(packageDir: string, config: string): { status: number | null; output: string; conf: string; line: number; column: number } {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-compliance-'));
  try {
    const conf = join(dir, 'pipeline.conf');
    writeFileSync(conf, config);
    const before = config.slice(0, config.indexOf('codec =>'));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    const r = checkOnly(['-f', conf, '--path.data', join(dir, 'data'), '--path.plugins', packageDir, '--path.plugins', helperPackage()], dir);
    return { ...r, conf, line, column };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- metrics ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samplesOf(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}): install Prometheus' promtool (Debian: apt-get install prometheus; scripts/setup-debian.sh does)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Asserts the metrics rule for one plugin instance's series in a /metrics text. */
function assertMetricsRule(text: string, kind: 'input' | 'output', id: string, run: Run): void {
  const check = promtool(text);
  assert.equal(check.status, 0, `promtool check metrics refuses /metrics:\n${check.output}`);
  const samples = samplesOf(text);
  const mine = samples.filter((s) => s.labels.plugin_id === id);
  assert.ok(mine.length > 0, `no series of plugin_id="${id}" in /metrics`);
  for (const s of mine) {
    assert.equal(s.labels.kind, kind, `${s.name}: kind="${s.labels.kind}", expected "${kind}"`);
    assert.equal(s.labels.pipeline, 'main', `${s.name}: pipeline label`);
    assert.match(s.name, /^pipeline_plugin_/, `${s.name}: a plugin's series are named pipeline_plugin_*`);
  }
  // a value from data or configuration is a label, never part of a name
  for (const name of new Set(samples.map((s) => s.name))) {
    assert.doesNotMatch(name, /cmplx/, `metric name ${name} is built from an id or from event data`);
    assert.ok(!name.includes(String(run.port)), `metric name ${name} holds the port ${run.port}`);
    // the random end of the run's directory: a path from the config (a file, a socket) in a name
    const tail = run.dir.slice(-6);
    assert.ok(!name.includes(tail), `metric name ${name} holds a path of the run (${run.dir})`);
  }
}

// ---- inputs ----

/**
 * Registers the compliance tests of an input plugin (node:test `describe`/`it`), to be called at
 * the top level of its test file: `inputCompliance(plugin, { package: import.meta.url, ... })`.
 */
export function inputCompliance(def: PluginDefinition<'input'>, driver: InputDriver): void {
  const pkg = packageDirOf(driver.package, def);
  const mode = def.codecInput ?? 'message';
  const wrap = driver.wrap ?? ((r: string) => r);
  const selfFed = driver.send === undefined;
  const id = COMPLIANCE_IDS.input;
  const block = (run: Run, body: string, extra = '') => `input {\n  ${def.name} {\n    id => "${id}"\n    ${body}${extra ? `\n    ${extra}` : ''}\n  }\n  compliance_idle { id => "${COMPLIANCE_IDS.idle}" }\n}\noutput {\n  ${run.captureBlock}\n}\n`;
  const newRun = () => Run.create(id, pkg, driver.settings);

  /** Starts the pipeline with `data` (self-fed inputs: in the options) and feeds it. */
  const startAndFeed = async (run: Run, d: InputData, config: (run: Run) => string) => {
    run.messages = d.messages;
    await run.start(config(run));
    await driver.ready?.(run);
    if (!selfFed) await driver.send!(run, d.data);
  };
  const messagesOf = (run: Run) => run.captured().map((e) => e.message as unknown);
  const waitCaptured = (run: Run, n: number) => until(() => run.captured().length >= n || !run.pipeline.running, WAIT_MS);
  /** The records in the messages the capture holds (a plain stream may join several in one event). */
  const tokensAt = (run: Run) => run.captured().flatMap((e) => (typeof e.message === 'string' ? (e.message.match(TOKEN) ?? []) : []));
  const waitTokens = (run: Run, want: string[]) => until(() => allThere(tokensAt(run), want) || !run.pipeline.running, WAIT_MS);
  // the runs that are not codec checks use the input's default codec, or json_lines where the
  // suite cannot write data for it (a codec of a third party)
  const main: { codec?: CodecCase; spec?: string } =
    def.defaultCodec === undefined
      ? {}
      : def.defaultCodec === 'line'
        ? { codec: { title: 'line', spec: 'line', name: 'line', delimiter: '\n' } }
        : INPUT_CODECS.some((c) => c.spec === def.defaultCodec)
          ? { codec: INPUT_CODECS.find((c) => c.spec === def.defaultCodec) }
          : { codec: INPUT_CODECS.find((c) => c.spec === 'json_lines'), spec: 'json_lines' };

  describe(`${def.name} input: compliance`, () => {
    if (def.defaultCodec === undefined) {
      it('codec: refused at -t (the input takes none)', () => {
        const r = refusedAtCheck(pkg, `input {\n  ${def.name} {\n    ${driver.options(fakeRun(pkg))}\n    codec => json_lines\n  }\n}\noutput { compliance_capture { path => "/dev/null" } }\n`);
        assert.equal(r.status, 1, r.output);
        assert.match(r.output, new RegExp(`${def.name} takes no codec`));
        assert.ok(r.output.includes(`${r.conf}:${r.line}:${r.column}`), `the error names the codec's place ${r.conf}:${r.line}:${r.column}:\n${r.output}`);
      });
    } else {
      for (const c of INPUT_CODECS) {
        const known = c.charset ? driver.knownFailures?.charset : undefined;
        it(`codec: ${c.title}`, { timeout: TEST_TIMEOUT_MS, skip: selfFed && c.charset ? 'the input takes its messages as text from its options: there are no bytes to decode' : false, todo: known ?? false }, async () => {
          const run = await newRun();
          try {
            const d = inputData(c, records(c.name.replace('_', ''), 6), mode, wrap);
            await startAndFeed(run, d, (r) => block(r, driver.options(r), `codec => ${c.spec}`));
            if (d.text !== undefined) await until(() => messagesOf(run).join('').length >= d.text!.length || !run.pipeline.running, WAIT_MS);
            else await waitCaptured(run, d.expect.length);
            const code = await run.stop();
            const events = run.captured();
            const got = events.map((e) => e.message);
            if (d.text !== undefined) {
              assert.ok(
                got.every((m) => typeof m === 'string' && m.length > 0),
                `plain on a stream: every event is a non-empty read of the stream; got ${JSON.stringify(got)}${run.pipeline.problems()}`,
              );
              assert.equal(got.join(''), d.text, `plain on a stream: the events' messages are the text sent, in order${run.pipeline.problems()}`);
            } else {
              const hint = c.charset && got.some((m) => typeof m === 'string' && m.includes('\ufffd')) ? ' (U+FFFD: the bytes were decoded as UTF-8 before the codec, whose charset then had nothing to do)' : '';
              assert.deepEqual(got, d.expect, `the events' messages${hint}${run.pipeline.problems()}`);
            }
            if (c.name === 'json' || c.name === 'json_lines')
              events.forEach((e, i) => {
                assert.equal(e.cmplx_seq, i, `event ${i}: the JSON document's fields are the event's fields`);
                assert.deepEqual(e.cmplx_obj, { n: i, list: [i, 'x'] }, `event ${i}: nested values kept`);
                assert.equal(e.tags?.includes?.('_jsonparsefailure') ?? false, false, `event ${i} tagged _jsonparsefailure`);
              });
            assert.equal(code, 0, `exit code after SIGTERM${run.pipeline.problems()}`);
          } finally {
            run.cleanup();
          }
        });
      }
      it('codec: an encode-only codec (rubydebug) is refused at -t', () => {
        const r = refusedAtCheck(pkg, `input {\n  ${def.name} {\n    ${driver.options(fakeRun(pkg))}\n    codec => rubydebug\n  }\n}\noutput { compliance_capture { path => "/dev/null" } }\n`);
        assert.equal(r.status, 1, r.output);
        assert.match(r.output, /the rubydebug codec only encodes/);
      });
    }

    describe('a run: common options, metrics, shutdown, close', () => {
      const obs: {
        run?: Run;
        first?: string[];
        drain?: string[];
        metrics?: string;
        pendingAtStop?: number;
        code?: number | null;
        stopped?: LogRecord;
        error?: unknown;
      } = {};
      before(async () => {
        const run = (obs.run = await newRun());
        try {
          const common = 'type => "cmplx_type" tags => ["cmplx_tag"] add_field => { "cmplx_added" => "added %{message}" }';
          const config = (r: Run) => block(r, driver.options(r), [common, main.spec && `codec => ${main.spec}`].filter(Boolean).join(' '));
          const codecCase = main.codec;
          const first = (obs.first = records('main', 6));
          const drain = (obs.drain = records('drain', 20));
          if (selfFed) {
            // the input produces everything at start: held in the queue from the start
            run.holdOn();
            await startAndFeed(run, inputData(codecCase, [...first, ...drain], mode, wrap), config);
          } else {
            await startAndFeed(run, inputData(codecCase, first, mode, wrap), config);
            await waitTokens(run, first);
          }
          obs.metrics = await run.pipeline.metrics();
          if (!selfFed) {
            run.holdOn();
            await driver.send!(run, inputData(codecCase, drain, mode, wrap).data);
          }
          const total = first.length + drain.length;
          await until(async () => ((await run.pipeline.stats()).events?.in ?? 0) >= total || !run.pipeline.running, WAIT_MS);
          obs.pendingAtStop = ((await run.pipeline.stats()).events?.in as number) - run.captured().length;
          run.pipeline.mark();
          run.pipeline.signal('SIGTERM');
          await run.pipeline.waitForLog((r) => r.msg === 'signal received, shutting down', 'SIGTERM to be taken');
          run.holdOff();
          obs.code = await run.pipeline.exit();
          obs.stopped = run.pipeline.logs().find((r) => r.msg === 'pipeline stopped');
        } catch (e) {
          obs.error = e;
          run.holdOff();
          await run.stop();
        }
      });
      const ready = () => {
        if (obs.error) throw obs.error;
        return obs.run!;
      };

      it('common options: id, type, tags, add_field', { timeout: TEST_TIMEOUT_MS }, async () => {
        const run = ready();
        const events = run.captured();
        assert.ok(events.length > 0, `no event reached the outputs${run.pipeline.problems()}`);
        for (const e of events) {
          assert.equal(e.type, 'cmplx_type', `type on ${e.message}`);
          assert.ok(Array.isArray(e.tags) && e.tags.includes('cmplx_tag'), `tags on ${e.message}: ${JSON.stringify(e.tags)}`);
          assert.equal(e.cmplx_added, `added ${e.message}`, `add_field on ${e.message}`);
        }
        const out = samplesOf(obs.metrics!).find((s) => s.name === 'pipeline_plugin_events_out_total' && s.labels.plugin_id === id);
        assert.ok(out, `no pipeline_plugin_events_out_total{plugin_id="${id}"}: the id is not the plugin's`);
        assert.equal(out.labels.kind, 'input');
        assert.equal(out.value, selfFed ? obs.first!.length + obs.drain!.length : obs.first!.length, 'events counted under the id');
      });

      it('metrics: promtool check metrics passes, names follow the rule', { timeout: TEST_TIMEOUT_MS }, async () => {
        const run = ready();
        assertMetricsRule(obs.metrics!, 'input', id, run);
      });

      it('shutdown: SIGTERM with events on their way delivers every event the input produced', { timeout: TEST_TIMEOUT_MS }, async () => {
        const run = ready();
        const want = [...obs.first!, ...obs.drain!];
        assert.ok((obs.pendingAtStop ?? 0) > 0, `no event was on its way to the outputs at SIGTERM (the check needs some): ${obs.pendingAtStop}`);
        assert.equal(obs.code, 0, `exit code after SIGTERM${run.pipeline.problems()}`);
        const problem = exactlyOnce(tokensAt(run), want);
        assert.equal(problem, undefined, `events at the outputs after SIGTERM: ${problem}${run.pipeline.problems()}`);
        assert.ok(obs.stopped, 'no "pipeline stopped" log record');
        assert.equal(obs.stopped.in, want.length, 'events that entered the pipeline');
        assert.equal(obs.stopped.out, want.length, 'events handed to the outputs');
      });

      it('close: nothing the plugin opened is left once the pipeline stopped', { timeout: TEST_TIMEOUT_MS }, () => {
        const run = ready();
        assertNothingLeft(run.pipeline.leftOpen(), run.pipeline.problems());
      });

      after(() => obs.run?.cleanup());
    });

    it('reload: an unchanged block keeps the instance, a changed option replaces it', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await newRun();
      try {
        const cc = main.codec;
        const body = (b: string) => (main.spec ? `${b} codec => ${main.spec}` : b);
        const [k1, k2, k3] = [records('keep', 4), records('kept', 4), records('repl', 4)];
        await startAndFeed(run, inputData(cc, k1, mode, wrap), (r) => block(r, body(driver.options(r))));
        assert.ok(await waitTokens(run, k1), `before the reload: ${exactlyOnce(tokensAt(run), k1)}${run.pipeline.problems()}`);

        const same = await run.reload();
        assert.equal(same.msg, 'reloaded', `SIGHUP with the config unchanged: ${same.msg}${run.pipeline.problems()}`);
        assert.deepEqual({ kept: same.kept, created: same.created, removed: same.removed }, { kept: 3, created: 0, removed: 0 }, 'an unchanged block keeps its instance (the input, the idle input and the capture)');
        const want = [...k1];
        if (!selfFed) {
          await driver.send!(run, inputData(cc, k2, mode, wrap).data);
          want.push(...k2);
          await waitTokens(run, want);
          assert.equal(exactlyOnce(tokensAt(run), want), undefined, `the kept input goes on receiving${run.pipeline.problems()}`);
        }

        run.messages = inputData(cc, k3, mode, wrap).messages;
        const replaced = await run.reload(block(run, body(driver.changed(run))));
        assert.equal(replaced.msg, 'reloaded', `SIGHUP with a changed option: ${replaced.msg}${run.pipeline.problems()}`);
        assert.deepEqual({ kept: replaced.kept, created: replaced.created, removed: replaced.removed }, { kept: 2, created: 1, removed: 1 }, 'a changed option replaces the instance');
        await driver.ready?.(run);
        if (!selfFed) await driver.send!(run, inputData(cc, k3, mode, wrap).data);
        want.push(...k3);
        await waitTokens(run, want);
        assert.ok(run.pipeline.running, `the pipeline ended by itself after the replacing reload${exitedHow(run)}${run.pipeline.problems()}`);
        const failed = run.pipeline.logs().find((r) => r.msg === 'input failed');
        assert.equal(failed, undefined, `the replacing input failed: ${JSON.stringify(failed)}`);
        const code = await run.stop();
        const problem = exactlyOnce(tokensAt(run), want);
        assert.equal(problem, undefined, `events across the reloads: ${problem}${run.pipeline.problems()}`);
        assert.equal(code, 0, `exit code after SIGTERM${run.pipeline.problems()}`);
      } finally {
        run.cleanup();
      }
    });
  });
}

/** How a pipeline that ended without being told to went: 13 is Node's "unsettled top-level await". */
function exitedHow(run: Run): string {
  const code = run.pipeline.child.exitCode;
  return code === 13 ? ' (exit 13: the event loop ran empty while the pipeline was still running, so the process ended without a word)' : ` (exit ${code})`;
}

function assertNothingLeft(left: LeftOpen | undefined, problems: string): void {
  assert.ok(left, `the pipeline wrote no report of what it left open (it did not stop by itself)${problems}`);
  assert.deepEqual({ resources: left.resources, fds: left.fds }, { resources: [], fds: [] }, `left open after the pipeline stopped (close() or stop() did not release it)`);
}

/** A stand-in run for the config text of a `-t` check (nothing runs). */
function fakeRun(pkg: string): ComplianceRun {
  return {
    dir: tmpdir(),
    port: 65000,
    id: 'cmplx_check',
    messages: ['cmplx-check-0'],
    get pipeline(): PipelineProcess {
      throw new Error(`no pipeline runs for a -t check (${pkg})`);
    },
  };
}

// ---- outputs ----

/**
 * Registers the compliance tests of an output plugin (node:test), to be called at the top level
 * of its test file: `outputCompliance(plugin, { package: import.meta.url, ... })`.
 */
export function outputCompliance(def: PluginDefinition<'output'>, driver: OutputDriver): void {
  const pkg = packageDirOf(driver.package, def);
  if (def.defaultCodec !== undefined && driver.written === undefined) throw new Error(`outputCompliance(${def.name}): an output that takes a codec needs written() for the codec checks`);
  const id = COMPLIANCE_IDS.output;
  const config = (run: Run, body: string, codec?: string) =>
    `input {\n  compliance_feed { id => "${COMPLIANCE_IDS.feed}" }\n}\noutput {\n  ${def.name} {\n    id => "${id}"\n    ${body}${codec ? `\n    codec => ${codec}` : ''}\n  }\n  ${run.captureBlock}\n}\n`;
  const newRun = () => Run.create(id, pkg, driver.settings);
  const feed = (run: Run, recs: string[]) => {
    run.pipeline.stdin.write(recs.map((m) => JSON.stringify({ message: m, cmplx_seq: Number(m.slice(m.lastIndexOf('-') + 1)), '@timestamp': timestampOf(Number(m.slice(m.lastIndexOf('-') + 1))), host: 'cmplx-host' }) + '\n').join(''));
  };
  const start = async (run: Run, body: string, codec?: string) => {
    await run.start(config(run, body, codec));
    await driver.ready?.(run);
  };
  const writtenTokens = async (run: Run) => tokensOf(await driver.written!(run));
  /** Events the pipeline handed the output (outputs with nothing to observe: null). */
  const handed = async (run: Run): Promise<number> => {
    if (!run.pipeline.running) return Number(run.pipeline.logs(true).find((r) => r.msg === 'pipeline stopped')?.out ?? -1);
    const outs = ((await run.pipeline.stats()).pipelines?.main?.plugins?.outputs ?? []) as { id: string; events?: { in?: number } }[];
    return outs.find((o) => o.id === id)?.events?.in ?? 0;
  };
  /** Why what reached the output is not `want`, each once; undefined when it is. */
  const delivered = async (run: Run, want: string[]): Promise<string | undefined> => {
    if (driver.written) return exactlyOnce(await writtenTokens(run), want);
    const n = await handed(run);
    return n === want.length ? undefined : `the pipeline handed the output ${n} events, ${want.length} expected`;
  };
  const waitWritten = (run: Run, want: string[]) =>
    until(async () => !run.pipeline.running || (driver.written ? allThere(await writtenTokens(run), want) : (await handed(run)) >= want.length), WAIT_MS);

  describe(`${def.name} output: compliance`, () => {
    if (def.defaultCodec === undefined) {
      it('codec: refused at -t (the output takes none)', () => {
        const r = refusedAtCheck(pkg, `input { compliance_idle { } }\noutput {\n  ${def.name} {\n    ${driver.options(fakeRun(pkg))}\n    codec => json_lines\n  }\n}\n`);
        assert.equal(r.status, 1, r.output);
        assert.match(r.output, new RegExp(`${def.name} takes no codec`));
        assert.ok(r.output.includes(`${r.conf}:${r.line}:${r.column}`), `the error names the codec's place ${r.conf}:${r.line}:${r.column}:\n${r.output}`);
      });
    } else {
      for (const c of OUTPUT_CODECS) {
        it(`codec: ${c.title}`, { timeout: TEST_TIMEOUT_MS }, async () => {
          const run = await newRun();
          try {
            const recs = records(c.title.replace(/[^a-z]/g, '').slice(0, 10), 5);
            await start(run, driver.options(run), c.spec);
            feed(run, recs);
            await until(() => run.captured().length >= recs.length || !run.pipeline.running, WAIT_MS);
            const code = await run.stop();
            const written = await driver.written!(run);
            const units = Array.isArray(written) ? written : undefined;
            if (!c.unit) {
              const docs = units ?? (c.spec === 'json_lines' ? written.toString().split('\n').filter((l) => l !== '') : splitJsonDocuments(String(written)));
              if (c.spec === 'json_lines' && !driver.trimsEncoded) {
                if (units) units.forEach((u) => assert.ok(u.endsWith('\n'), `json_lines: a message ends with its delimiter: ${JSON.stringify(u)}`));
                else assert.ok(String(written).endsWith('\n'), `json_lines: the text ends with the delimiter: ${JSON.stringify(String(written).slice(-40))}`);
              }
              assert.equal(docs.length, recs.length, `documents written: ${JSON.stringify(written)}${run.pipeline.problems()}`);
              docs.forEach((d, i) => {
                const doc = JSON.parse(d) as Record<string, unknown>;
                assert.equal(doc.message, recs[i], `document ${i}: message`);
                assert.equal(doc.cmplx_seq, i, `document ${i}: the event's own fields`);
                assert.equal(doc['@timestamp'], timestampOf(i), `document ${i}: the event's @timestamp`);
              });
            } else {
              const want = recs.map((m, i) => (driver.trimsEncoded ? c.unit!(m, i).trimEnd() : c.unit!(m, i)));
              if (units) assert.deepEqual(units, want, `one message per event, as encoded${run.pipeline.problems()}`);
              else assert.equal(written, want.join(''), `the text written is the events as encoded, in order${run.pipeline.problems()}`);
            }
            assert.equal(code, 0, `exit code after SIGTERM${run.pipeline.problems()}`);
          } finally {
            run.cleanup();
          }
        });
      }
    }

    describe('a run: common options, metrics, shutdown, close', () => {
      const obs: {
        run?: Run;
        first?: string[];
        drain?: string[];
        metrics?: string;
        pendingAtStop?: number;
        code?: number | null;
        stopped?: LogRecord;
        /** What was not delivered when the pipeline had exited, and after a start with the same data. */
        atExit?: string;
        restarted?: boolean;
        afterRestart?: string;
        left?: LeftOpen;
        problems?: string;
        error?: unknown;
      } = {};
      before(async () => {
        const run = (obs.run = await newRun());
        try {
          const first = (obs.first = records('main', 6));
          const drain = (obs.drain = records('drain', 20));
          await start(run, driver.options(run));
          feed(run, first);
          await waitWritten(run, first);
          obs.metrics = await run.pipeline.metrics();
          run.holdOn();
          feed(run, drain);
          await until(async () => ((await run.pipeline.stats()).events?.in ?? 0) >= first.length + drain.length || !run.pipeline.running, WAIT_MS);
          obs.pendingAtStop = ((await run.pipeline.stats()).events?.in as number) - run.captured().length;
          run.pipeline.mark();
          run.pipeline.signal('SIGTERM');
          await run.pipeline.waitForLog((r) => r.msg === 'signal received, shutting down', 'SIGTERM to be taken');
          run.holdOff();
          obs.code = await run.pipeline.exit();
          obs.stopped = run.pipeline.logs().find((r) => r.msg === 'pipeline stopped');
          obs.left = run.pipeline.leftOpen();
          obs.problems = run.pipeline.problems();
          const want = [...first, ...drain];
          obs.atExit = await delivered(run, want);
          if (obs.atExit !== undefined && driver.written) {
            // an output that keeps what it could not send for its next start (a spool): start
            // again on the same data, feed nothing, and see whether the rest arrives
            obs.restarted = true;
            await start(run, driver.options(run));
            await waitWritten(run, want);
            await run.stop();
            obs.afterRestart = await delivered(run, want);
            obs.problems += run.pipeline.problems();
          }
        } catch (e) {
          obs.error = e;
          run.holdOff();
          await run.stop();
        }
      });
      const ready = () => {
        if (obs.error) throw obs.error;
        return obs.run!;
      };

      it('common options: id', { timeout: TEST_TIMEOUT_MS }, async () => {
        ready();
        const mine = samplesOf(obs.metrics!).filter((s) => s.labels.kind === 'output' && s.labels.plugin_id !== COMPLIANCE_IDS.capture);
        assert.deepEqual([...new Set(mine.map((s) => s.labels.plugin_id))], [id], 'every output series carries the id of the block');
        const got = mine.find((s) => s.name === 'pipeline_plugin_events_in_total');
        assert.equal(got?.value, obs.first!.length, `pipeline_plugin_events_in_total{plugin_id="${id}"}`);
      });

      it('metrics: promtool check metrics passes, names follow the rule', { timeout: TEST_TIMEOUT_MS }, async () => {
        const run = ready();
        assertMetricsRule(obs.metrics!, 'output', id, run);
      });

      it('shutdown: SIGTERM with events on their way delivers every event to the output', { timeout: TEST_TIMEOUT_MS }, (t) => {
        ready();
        const want = [...obs.first!, ...obs.drain!];
        assert.ok((obs.pendingAtStop ?? 0) > 0, `no event was on its way to the outputs at SIGTERM (the check needs some): ${obs.pendingAtStop}`);
        assert.equal(obs.code, 0, `exit code after SIGTERM${obs.problems}`);
        assert.equal(obs.stopped?.in, want.length, 'events that entered the pipeline');
        if (obs.restarted && obs.afterRestart === undefined) {
          t.diagnostic(`not all sent before the exit (${obs.atExit}); the output kept them and sent them at the next start`);
          return;
        }
        assert.equal(obs.atExit, undefined, `what the output wrote after SIGTERM: ${obs.atExit}${obs.restarted ? `; after a start with the same path.data: ${obs.afterRestart}` : ''}${obs.problems}`);
      });

      it('close: nothing the plugin opened is left once the pipeline stopped', { timeout: TEST_TIMEOUT_MS }, () => {
        ready();
        assertNothingLeft(obs.left, obs.problems!);
      });

      after(() => obs.run?.cleanup());
    });

    it('reload: an unchanged block keeps the instance, a changed option replaces it', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await newRun();
      try {
        const [k1, k2, k3] = [records('keep', 4), records('kept', 4), records('repl', 4)];
        await start(run, driver.options(run));
        feed(run, k1);
        assert.ok(await waitWritten(run, k1), `before the reload: ${await delivered(run, k1)}${run.pipeline.problems()}`);

        const same = await run.reload();
        assert.equal(same.msg, 'reloaded', `SIGHUP with the config unchanged: ${same.msg}${run.pipeline.problems()}`);
        assert.deepEqual({ kept: same.kept, created: same.created, removed: same.removed }, { kept: 3, created: 0, removed: 0 }, 'an unchanged block keeps its instance (the output, the feed input and the capture)');
        feed(run, k2);
        await waitWritten(run, [...k1, ...k2]);
        assert.equal(await delivered(run, [...k1, ...k2]), undefined, `the kept output goes on writing${run.pipeline.problems()}`);

        const replaced = await run.reload(config(run, driver.changed(run)));
        assert.equal(replaced.msg, 'reloaded', `SIGHUP with a changed option: ${replaced.msg}${run.pipeline.problems()}`);
        assert.deepEqual({ kept: replaced.kept, created: replaced.created, removed: replaced.removed }, { kept: 2, created: 1, removed: 1 }, 'a changed option replaces the instance');
        feed(run, k3);
        const want = [...k1, ...k2, ...k3];
        await waitWritten(run, want);
        assert.ok(run.pipeline.running, `the pipeline ended by itself after the replacing reload${exitedHow(run)}${run.pipeline.problems()}`);
        const code = await run.stop();
        const problem = await delivered(run, want);
        assert.equal(problem, undefined, `what the outputs wrote across the reloads: ${problem}${run.pipeline.problems()}`);
        assert.equal(code, 0, `exit code after SIGTERM${run.pipeline.problems()}`);
      } finally {
        run.cleanup();
      }
    });
  });
}

