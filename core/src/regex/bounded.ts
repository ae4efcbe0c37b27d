import { setFlagsFromString } from 'node:v8';
import { Script, createContext, type Context } from 'node:vm';

/**
 * Bounded regexes (issue 13): no regex a config or a rule file holds can freeze the pipeline
 * thread, whatever text a log line brings. Three tiers:
 * 1. V8's own limit: with --enable-experimental-regexp-engine-on-excessive-backtracks a regex its
 *    linear-time engine accepts (no lookarounds, backreferences or counted repetitions above 16)
 *    is re-run on that engine once it has backtracked 50,000 times: same result, linear time.
 * 2. A regex without a repeated group (`(…)*`, `(…)+`, `(…){n,m}`; an optional `(…)?` is fine)
 *    and without backreferences cannot backtrack exponentially: it runs as is.
 * 3. Anything else runs under V8's watchdog (`vm` with a timeout, which interrupts a running
 *    regex): past RUNAWAY_MS it counts as no match, with a warning and a count. After a runaway
 *    that regex is skipped (no match) until the event loop turns, so a batch of hostile lines
 *    costs RUNAWAY_MS once, not once per line, and SIGTERM and the API are served.
 * Conditions (`=~`, `!~`) and SEC patterns use it; grok has its own guard with `timeout_millis`.
 */

/** How long a watched regex may run on one value. */
export const RUNAWAY_MS = 250;

let flagsSet = false;

/** Turns on V8's linear-engine fallback (tier 1), once; core/bin/pipeline.js also sets it at start. */
export function enableRegexFallback(): void {
  if (flagsSet) return;
  flagsSet = true;
  setFlagsFromString('--enable-experimental-regexp-engine');
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}

/** Whether a regex needs the watchdog: neither the linear engine (tier 1) nor the syntactic check (tier 2) bounds it. */
export function needsWatchdog(source: string, flags = ''): boolean {
  try {
    new RegExp(source, flags + 'l');
    return false;
  } catch {
    // not for the linear engine: look for repeated groups and backreferences
  }
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(n) || n === 'k')) return true;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ')' && /[*+{]/.test(source[i + 1] ?? '')) return true;
  }
  return false;
}

// One script and context serve every watchdog: a run sets the regex and the text, then runs `job()`.
let script: Script | undefined;
let context: Context | undefined;
let current: RegExp | undefined;
let input = '';

/** Runs watched regexes (tier 3) for one kind of user, with its own count and warning text. */
/** Every watchdog of the process, for /metrics. */
const WATCHDOGS: RegexWatchdog[] = [];

export function regexWatchdogs(): readonly RegexWatchdog[] {
  return WATCHDOGS;
}

export class RegexWatchdog {
  private count = 0;
  private lastWarned = 0;
  /** Regexes (by key) that ran away since the event loop last turned. */
  private readonly skipping = new Set<string>();

  /** `what` names the regex in the warning, e.g. "the regex" or "the SEC pattern". */
  constructor(private readonly what: string) {
    WATCHDOGS.push(this);
  }

  /** What it guards ("regex", "SEC pattern"): the `kind` label of pipeline_regex_runaways_total. */
  get kind(): string {
    return this.what.replace(/^the /, '');
  }

  /** How many runs ran out of time since start (each counted as no match). */
  get runaways(): number {
    return this.count;
  }

  /** `re.exec(s)`, or null when it ran out of time (or its key ran away earlier in this turn). */
  exec(re: RegExp, key: string, s: string): RegExpExecArray | null {
    if (this.skipping.has(key)) return null;
    if (script === undefined) {
      context = createContext({ job: () => current!.exec(input) });
      script = new Script('job()');
    }
    current = re;
    input = s;
    try {
      return script.runInContext(context!, { timeout: RUNAWAY_MS }) as RegExpExecArray | null;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
      this.count++;
      // every user of this regex skips it until the loop turns
      if (this.skipping.size === 0) setImmediate(() => this.skipping.clear()).unref();
      this.skipping.add(key);
      const now = Date.now();
      if (now - this.lastWarned > 10_000) {
        this.lastWarned = now;
        process.emitWarning(`${this.what} /${key}/ ran longer than ${RUNAWAY_MS} ms on a ${s.length}-character value: counted as no match (${this.count} so far)`, { code: 'PIPELINE_REGEX_RUNAWAY' });
      }
      return null;
    } finally {
      current = undefined;
      input = '';
    }
  }
}
