/**
 * Runs the cases of a test-case file against its config's filter and correlate sections, each case
 * on a fresh set of plugin instances and its own event clock (replay/clock.ts): the clock starts at
 * the case's `start:`, else at the first input event's `@timestamp` (a map's), else at the first
 * event leaving the filter section; it follows each event's `@timestamp` after the filters and each
 * `{after: DURATION}`, never going back, and the one-second flush timers (SEC's timer pass) fire on
 * the way. A message gets the clock's time as its `@timestamp`, as an input stamps what it reads.
 * Before the clock has started, it reads DEFAULT_START (a date filter guesses a missing year from it),
 * so a case gives the same answer whatever the day it runs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { ConfigErrors } from '../config/errors.js';
import { deepCopy, Event } from '../event/event.js';
import { fieldRef, type Fields } from '../event/field-ref.js';
import { Timestamp } from '../event/timestamp.js';
import { MetricsRegistry } from '../plugin/metrics.js';
import { resolveConfigPath } from '../registry/install-root.js';
import { checkConfig } from '../runtime/load.js';
import type { PipelinePlan } from '../runtime/plan.js';
import type { Settings } from '../runtime/settings.js';
import { EventClock } from '../replay/clock.js';
import { Sections } from '../replay/sections.js';
import { CaseFileError, parseCaseFile, parseInstant, type TestCase, type TestFile } from './format.js';
import { firstMismatch, type Mismatch } from './match.js';

/** The clock's reading before a case's clock starts: 2026-01-01T00:00:00Z. */
export const DEFAULT_START = Date.UTC(2026, 0, 1);

export interface CaseResult {
  name: string;
  line: number;
  ok: boolean;
  mismatch?: Mismatch;
  /** A case that could not run (a field reference that does not parse, a plugin that threw). */
  error?: string;
  /** What the case produced, for --json and for a failing case's report. */
  filtered: number;
  alerts: number;
  late: number;
}

export interface FileResult {
  file: string;
  config?: string;
  /** The file could not be read or its config not loaded: no case ran. */
  error?: string;
  cases: CaseResult[];
}

export interface RunOptions {
  settings: Settings;
  workingDir: string;
  logger?: Logger;
}

/** The config a case file names: relative to the working directory, else to the case file, else the installation. */
function configPath(tf: TestFile, workingDir: string): string {
  const p = tf.config!;
  if (isAbsolute(p)) return p;
  const cwd = resolve(workingDir, p);
  if (existsSync(cwd)) return cwd;
  const beside = resolve(dirname(tf.file), p);
  if (existsSync(beside)) return beside;
  return resolveConfigPath(p, workingDir);
}

export async function runCaseFile(file: string, o: RunOptions): Promise<FileResult> {
  let tf: TestFile;
  try {
    tf = await parseCaseFile(file, readFileSync(file, 'utf8'));
  } catch (e) {
    return { file, error: e instanceof CaseFileError ? e.message : `${file}: ${(e as Error).message}`, cases: [] };
  }
  const settings: Settings = { ...o.settings };
  delete settings['path.config'];
  delete settings['config.string'];
  if (tf.configString !== undefined) settings['config.string'] = tf.configString;
  else settings['path.config'] = configPath(tf, o.workingDir);
  const config = tf.configString !== undefined ? '<config_string>' : String(settings['path.config']);
  const logger = o.logger ?? pino({ level: 'silent' });
  let plan: PipelinePlan;
  try {
    plan = await checkConfig(settings, o.workingDir, logger);
  } catch (e) {
    const text = e instanceof ConfigErrors ? e.format() : (e as Error).message;
    return { file, config, error: `${file}: the config ${config} is refused:\n${text}`, cases: [] };
  }
  const cases: CaseResult[] = [];
  for (const c of tf.cases) cases.push(await runCase(c, plan, settings, o.workingDir, logger));
  return { file, config, cases };
}

/** Decorates an input event with the case's fields, as an input's type/tags/add_field would: a field the event has is kept, tags are added. */
function decorate(e: Event, fields: Fields): void {
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'tags') {
      for (const t of Array.isArray(v) ? v : [v]) e.tag(String(t));
      continue;
    }
    const ref = fieldRef(k);
    if (ref.get(e.fields) === undefined) e.set(ref, deepCopy(v));
  }
}

function eventFrom(fields: Fields, clock: EventClock): Event {
  const f: Fields = {};
  for (const [k, v] of Object.entries(fields)) fieldRef(k).set(f, k === '@timestamp' ? new Timestamp(parseInstant(v)!) : deepCopy(v));
  return new Event(f, new Timestamp(clock.now()));
}

export async function runCase(c: TestCase, plan: PipelinePlan, settings: Settings, workingDir: string, logger: Logger): Promise<CaseResult> {
  const first = c.input.find((i) => i.kind !== 'after');
  const firstStamp = first?.kind === 'event' && first.fields['@timestamp'] !== undefined ? parseInstant(first.fields['@timestamp']) : undefined;
  const clock = new EventClock(c.start ?? firstStamp ?? DEFAULT_START);
  if (c.start !== undefined) clock.start(c.start);
  const filtered: Event[] = [];
  const alerts: Event[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pipeline-test-case-'));
  const result = (extra: Partial<CaseResult>, late = 0): CaseResult => ({ name: c.name, line: c.line, ok: false, filtered: filtered.length, alerts: alerts.length, late, ...extra });
  let sections: Sections | undefined;
  try {
    sections = await Sections.build({
      plan,
      settings,
      workingDir,
      dataDir,
      logger,
      metrics: new MetricsRegistry(),
      clock,
      // as they left the filter section: a filter in the correlate section may change them afterwards
      filtered: (e) => void filtered.push(new Event(deepCopy(e.fields) as Fields)),
      collected: (e) => {
        const tags = e.fields.tags;
        if (Array.isArray(tags) && (tags.includes('alert') || tags.includes('heartbeat'))) alerts.push(e);
      },
    });
    for (const item of c.input) {
      if (item.kind === 'after') {
        sections.advance(item.ms);
        continue;
      }
      const e = item.kind === 'message' ? new Event({ message: item.message }, new Timestamp(clock.now())) : eventFrom(item.fields, clock);
      decorate(e, c.fields);
      sections.run([e]);
    }
    sections.finish();
    const mismatch = (c.expect ? firstMismatch('expect', c.expect, filtered) : undefined) ?? (c.alerts ? firstMismatch('alerts', c.alerts, alerts) : undefined);
    return result({ ok: mismatch === undefined, mismatch }, sections.late);
  } catch (e) {
    return result({ error: (e as Error).message });
  } finally {
    await sections?.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}
