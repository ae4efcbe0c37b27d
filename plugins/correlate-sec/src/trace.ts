/**
 * The rule trace (`--log.level debug`): each rule match, context operation and action as a debug
 * line, in the words `sec --debug=6` uses for the same step ("Creating context 'X'", "Writing
 * event 'E' to file 'F'", "Terminating event correlation operation 'K'", ...), each line led by
 * the rule's file:line. sec logs no line for a rule match; ours is "Input 'L' matched rule N
 * (Type)". The engine builds its trace hooks only when it is given a Trace (the logger is at
 * debug when the plugin starts): without one, matching and actions run the code they run now.
 *
 * At most TRACE_LIMIT lines a second are written; the rest are counted and the count is logged
 * once the second is over ("rule trace: N lines suppressed").
 */
import type { Action } from './actions.js';
import { fromBytes } from './bytes.js';
import { ruleLabel } from './native.js';
import type { Rule } from './rules.js';
import { opKey, type Runtime } from './runtime.js';

/** Trace lines written per second of the pipeline clock; the rest are counted. */
export const TRACE_LIMIT = 200;

export class Trace {
  /** The rule whose matching or action list runs now (undefined: a context's expiry list, or between rules). */
  rule: Rule | undefined;
  private windowStart = -Infinity;
  private written = 0;
  /** Lines left out in the current second. */
  private dropped = 0;
  /** Lines left out since the start. */
  suppressedTotal = 0;

  constructor(
    /** Where a line goes (a UTF-8 string). */
    private readonly out: (msg: string) => void,
    /** Milliseconds, for the rate limit. */
    private readonly clockMs: () => number,
    readonly limit = TRACE_LIMIT,
  ) {}

  /** One trace line; `msg` is a byte string. */
  line(msg: string): void {
    const t = this.clockMs();
    if (t - this.windowStart >= 1000) this.roll(t);
    if (this.written >= this.limit) {
      this.dropped++;
      this.suppressedTotal++;
      return;
    }
    this.written++;
    const r = this.rule;
    this.out(r ? `${ruleLabel(r.file, r.line)}: ${fromBytes(msg)}` : fromBytes(msg));
  }

  /** The count of the lines left out goes out once their second is over (called at each flush). */
  tick(): void {
    if (this.dropped) {
      const t = this.clockMs();
      if (t - this.windowStart >= 1000) this.roll(t);
    }
  }

  private roll(t: number): void {
    if (this.dropped) this.out(`rule trace: ${this.dropped} line${this.dropped === 1 ? '' : 's'} suppressed (at most ${this.limit} a second)`);
    this.dropped = 0;
    this.written = 0;
    this.windowStart = t;
  }

  /** A rule matched the current line (a byte string). */
  matched(r: Rule, line: string, synthetic: boolean): void {
    if (r.type === 'Calendar') return; // counted after its actions; calendar() said it
    this.rule = r;
    this.line(`${synthetic ? 'Event' : 'Input'} '${line}' matched rule ${r.id + 1} (${r.type})`);
  }

  /** A Calendar rule's time came (minute/hour/day/month/year); its action list runs next. */
  calendar(r: Rule, stamp: string): void {
    this.rule = r;
    this.line(`Rule ${r.id + 1} (Calendar) runs at ${stamp}`);
  }

  /** A context's lifetime ended (its expiry list, if any, runs next). */
  stale(name: string): void {
    this.rule = undefined;
    this.line(`Deleting stale context '${name}'`);
  }

  /** Action `a` of a list run with `desc` as %s, about to run: what sec would log for it. */
  action(rt: Runtime, a: Action, desc: string): void {
    const msg = describe(rt, a, desc);
    if (msg !== undefined) this.line(msg);
  }
}

/** sec's debug line for an action (its arguments substituted as the action will have them); undefined for none. */
function describe(rt: Runtime, a: Action, desc: string): string | undefined {
  const x = (i: number) => rt.vars.expand(a.a[i] ?? '', desc);
  const v = (i: number) => '%' + (a.a[i] ?? '');
  const key = () => opKey(a.conf!, a.rule as number, x(1));
  switch (a.op) {
    case 'write':
    case 'writen':
    case 'owritecl':
      return `Writing event '${x(1)}' to file '${x(0)}'`;
    case 'closef':
      return `Closing file '${x(0)}'`;
    case 'shellcmd':
      return `Executing shell command '${x(0)}'`;
    case 'spawn':
      return `Spawning shell command '${x(0)}'`;
    case 'cspawn':
      return `Spawning shell command '${x(1)}' with context '${x(0)}'`;
    case 'pipe':
      return x(1).length ? `Feeding event '${x(0)}' to shell command '${x(1)}'` : `Writing event '${x(0)}' to standard output`;
    case 'cmdexec':
    case 'spawnexec':
    case 'cspawnexec':
    case 'pipeexec':
    case 'reportexec':
      return `Executing command '${a.a.map((_, i) => x(i)).join(' ')}' (${a.op})`;
    case 'create':
      return `Creating context '${x(0)}'`;
    case 'delete':
      return `Deleting context '${x(0)}'`;
    case 'obsolete':
      return `Obsoleting context '${x(0)}'`;
    case 'set':
      return `Changing settings for context '${x(0)}'`;
    case 'alias':
      return `Creating alias '${x(1)}' for context '${x(0)}'`;
    case 'unalias':
      return `Removing alias '${x(0)}'`;
    case 'add':
      return `Adding event(s) '${x(1)}' to context '${x(0)}'`;
    case 'prepend':
      return `Prepending event(s) '${x(1)}' to context '${x(0)}'`;
    case 'fill':
      return `Filling context '${x(0)}' with event(s) '${x(1)}'`;
    case 'report':
      return x(1).length ? `Reporting the event store of context '${x(0)}' through shell command '${x(1)}'` : `Reporting the event store of context '${x(0)}' to standard output`;
    case 'copy':
      return `Copying context '${x(0)}' to variable '${v(1)}'`;
    case 'empty':
      return `Emptying the event store of context '${x(0)}'`;
    case 'pop':
      return `Pop the last element of context '${x(0)}' event store into variable '${v(1)}'`;
    case 'shift':
      return `Shift the first element of context '${x(0)}' event store into variable '${v(1)}'`;
    case 'exists':
      return `Checking the presence of context '${x(1)}'`;
    case 'getsize':
      return `Finding the size of context '${x(1)}' event store`;
    case 'getaliases':
      return `Assigning aliases of context '${x(1)}' to variable '${v(0)}'`;
    case 'getltime':
      return `Assigning the lifetime of context '${x(1)}' to variable '${v(0)}'`;
    case 'setltime':
      return `Setting the lifetime of context '${x(0)}' to '${x(1)}'`;
    case 'getctime':
      return `Assigning the creation time of context '${x(1)}' to variable '${v(0)}'`;
    case 'setctime':
      return `Setting the creation time of context '${x(1)}' to '${x(0)}'`;
    case 'event':
      return a.after ? `Scheduling the creation of event '${x(1)}' after ${a.after} seconds` : `Creating event '${x(1)}'`;
    case 'tevent': {
      const after = x(0).trim();
      return /^0*$/.test(after) ? `Creating event '${x(1)}'` : `Scheduling the creation of event '${x(1)}' after ${after} seconds`;
    }
    case 'cevent': {
      const after = x(1).trim();
      return /^0*$/.test(after) ? `Creating event '${x(2)}' with context '${x(0)}'` : `Scheduling the creation of event '${x(2)}' with context '${x(0)}' after ${after} seconds`;
    }
    case 'reset':
      return a.rule === ''
        ? `Terminating all event correlation operations started from ${a.conf} with operation description string '${x(0)}'`
        : `Terminating event correlation operation '${opKey(a.conf!, a.rule!, x(0))}'`;
    case 'getwpos':
      return `Getting event correlation window position for operation '${key()}'`;
    case 'setwpos':
      return `Moving event correlation window to '${x(0)}' for operation '${key()}'`;
    case 'assign':
    case 'assignsq':
      return `Assigning '${x(1)}' to variable '${v(0)}'`;
    case 'free':
      return `Freeing variable '${v(0)}'`;
    case 'varset':
      return `Checking the presence of pattern match cache entry '${x(1)}'`;
    case 'rewrite':
      return `Input buffer rewritten with '${x(1)}'`;
    case 'sigemul':
      return `Emulating the arrival of '${x(0)}' signal`;
    case 'alert': {
      const n = a.native!;
      const get = (k: string) => {
        const i = n.keys.indexOf(k);
        return i < 0 ? '' : x(i);
      };
      return `Creating alert event '${get('event')}' for resource '${get('resource')}'`;
    }
    case 'heartbeat': {
      const n = a.native!;
      const i = n.keys.indexOf('origin');
      return `Creating heartbeat event for origin '${i < 0 ? '' : x(i)}'`;
    }
    default:
      // none, logonly (logged by itself), if, while, break, continue, and the unsupported socket actions (they warn)
      return undefined;
  }
}
