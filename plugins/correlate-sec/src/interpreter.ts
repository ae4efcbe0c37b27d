/**
 * The action interpreter: one handler per action name (SEC's execute_actionlist), each with its
 * arguments' %-variables substituted as it runs. The work is done where it belongs: contexts
 * (contexts.ts), files (io.ts), processes (children.ts), the input buffer, the operations of the
 * correlation types. A handler returns nothing to go on, 0 for `continue`, -1 for `break`.
 */
import type { Action, Op } from './actions.js';
import { fromBytes, perlSplitLines } from './bytes.js';
import { TYPES } from './correlation/index.js';
import type { Ctx } from './contexts.js';
import type { Rule } from './rules.js';
import { opKey, type Runtime } from './runtime.js';
import type { Trace } from './trace.js';

export type Handler = (rt: Runtime, a: Action, desc: string) => number | void;

/** An event created by an action, in this internal context. */
export const SYNEVENT_INT_CONTEXT = '_INTERNAL_EVENT';

const NUM = /^\s*0*([0-9]+)\s*$/;
const NUM_OR_DASH = /^\s*(?:0*([0-9]+)|-)\s*$/;

/** Argument `i` of `a` with its %-variables substituted. */
function arg(rt: Runtime, a: Action, i: number, desc: string): string {
  return rt.vars.expand(a.a[i]!, desc);
}

/** Argument `i` as a whole number (leading zeros and blanks allowed), or undefined. */
function num(rt: Runtime, a: Action, i: number, desc: string): number | undefined {
  const m = NUM.exec(arg(rt, a, i, desc));
  return m ? Number(m[1]) : undefined;
}

function perlTrue(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0';
}

/** pipe, report: `text` to the command's standard input, or to standard output without a command. */
function toCommand(rt: Runtime, cmd: string, text: string): void {
  if (!cmd.length) rt.io.write('-', text, true);
  else rt.children.shell(cmd, text);
}

/** The *exec forms: every argument substituted, then decoded, for `run`; nothing without allow_shell. */
const execForm =
  (run: (rt: Runtime, args: string[], a: Action, desc: string) => void): Handler =>
  (rt, a, d) => {
    if (rt.children.allowed) run(rt, a.a.map((x) => fromBytes(rt.vars.expand(x, d))), a, d);
  };

const unsupported: Handler = (rt, a) => rt.log('warn', `action '${a.op}' is not supported and was skipped`);

const store: Handler = (rt, a, d) => rt.contexts.store(a.op as 'add' | 'prepend' | 'fill', arg(rt, a, 0, d), perlSplitLines(arg(rt, a, 1, d)));

const copy: Handler = (rt, a, d) => {
  const text = rt.contexts.copy(arg(rt, a, 0, d), a.op === 'empty');
  if (text !== undefined && a.a[1]) rt.vars.set(a.a[1], text);
};

const take: Handler = (rt, a, d) => {
  const line = rt.contexts.take(arg(rt, a, 0, d), a.op === 'pop');
  if (line !== undefined) rt.vars.set(a.a[1]!, line);
};

/** getaliases, getltime, getctime: a field of a context into a variable (left alone without the context). */
const ctxField =
  (f: (c: Ctx) => string): Handler =>
  (rt, a, d) => {
    const c = rt.contexts.get(arg(rt, a, 1, d));
    if (c) rt.vars.set(a.a[0]!, f(c));
  };

/** alert, heartbeat: the values substituted, decoded, and handed to the host as fields. */
const native: Handler = (rt, a, d) => rt.emitNative(a.native!, a.native!.values.map((v) => fromBytes(rt.vars.expand(v, d))), d);

/** reset: the operation of one rule (or of every rule of the file) for the description ends. */
const reset: Handler = (rt, a, d) => {
  const desc = arg(rt, a, 0, d);
  const f = rt.ruleFile(a.conf!);
  const drop = (r: Rule | undefined, key: string) => {
    r?.ops?.delete(key);
    rt.ops.delete(key);
  };
  if (a.rule !== '') drop(f?.rules[a.rule!], opKey(a.conf!, a.rule!, desc));
  else for (const r of f?.rules ?? []) drop(r, opKey(a.conf!, r.id, desc));
};

/** setwpos: the window of an operation starts later (not before its start, not after now). */
const setwpos: Handler = (rt, a, d) => {
  const ts = num(rt, a, 0, d);
  const op = rt.ops.get(opKey(a.conf!, a.rule as number, arg(rt, a, 1, d)));
  if (ts === undefined || !op || op.initInProgress || op.deleteInProgress) return;
  if (ts < op.time || ts > rt.now() || ts === op.time) return;
  const move = TYPES[op.type].moveWindow;
  if (move) move(rt, op, ts);
  else op.time = ts;
};

export const ACTIONS: Readonly<Record<Op, Handler>> = {
  none: () => {},
  logonly: (rt, a, d) => rt.log('info', arg(rt, a, 0, d)),

  // files
  write: (rt, a, d) => rt.io.write(arg(rt, a, 0, d), arg(rt, a, 1, d) + '\n', true),
  writen: (rt, a, d) => rt.io.write(arg(rt, a, 0, d), arg(rt, a, 1, d), true),
  owritecl: (rt, a, d) => rt.io.write(arg(rt, a, 0, d), arg(rt, a, 1, d), false),
  closef: (rt, a, d) => rt.io.close(arg(rt, a, 0, d)),
  addinput: (rt, a, d) => rt.io.addInput(arg(rt, a, 0, d), arg(rt, a, 1, d), arg(rt, a, 2, d)),
  dropinput: (rt, a, d) => rt.io.dropInput(arg(rt, a, 0, d)),
  udgram: unsupported,
  closeudgr: unsupported,
  ustream: unsupported,
  closeustr: unsupported,
  udpsock: unsupported,
  closeudp: unsupported,
  tcpsock: unsupported,
  closetcp: unsupported,

  // processes
  shellcmd: (rt, a, d) => rt.children.shell(arg(rt, a, 0, d)),
  spawn: (rt, a, d) => rt.children.shell(arg(rt, a, 0, d), undefined, SYNEVENT_INT_CONTEXT),
  cspawn: (rt, a, d) => rt.children.shell(arg(rt, a, 1, d), undefined, arg(rt, a, 0, d)),
  pipe: (rt, a, d) => toCommand(rt, arg(rt, a, 1, d), arg(rt, a, 0, d) + '\n'),
  cmdexec: execForm((rt, args) => rt.children.exec(args)),
  spawnexec: execForm((rt, args) => rt.children.exec(args, undefined, SYNEVENT_INT_CONTEXT)),
  cspawnexec: execForm((rt, args) => rt.children.exec(args.slice(1), undefined, args[0])),
  pipeexec: execForm((rt, args, a, d) => {
    if (args.length === 1) rt.io.write('-', arg(rt, a, 0, d) + '\n', true);
    else rt.children.exec(args.slice(1), args[0] + '\n');
  }),
  reportexec: execForm((rt, args, a, d) => {
    const text = rt.contexts.report(arg(rt, a, 0, d));
    if (text === undefined) return;
    if (args.length === 1) rt.io.write('-', text, true);
    else rt.children.exec(args.slice(1), text);
  }),

  // contexts
  create: (rt, a, d) => {
    const name = arg(rt, a, 0, d);
    const life = num(rt, a, 1, d);
    if (life === undefined) rt.log('warn', `Invalid lifetime for context '${name}', can't create`);
    else rt.contexts.create(name, life, a.l![0]!, d);
  },
  delete: (rt, a, d) => rt.contexts.delete(arg(rt, a, 0, d)),
  obsolete: (rt, a, d) => rt.contexts.obsolete(arg(rt, a, 0, d)),
  set: (rt, a, d) => {
    const name = arg(rt, a, 0, d);
    const m = NUM_OR_DASH.exec(arg(rt, a, 1, d));
    if (m) rt.contexts.set(name, m[1] === undefined ? undefined : Number(m[1]), a.l![0]!, d);
  },
  alias: (rt, a, d) => rt.contexts.alias(arg(rt, a, 0, d), arg(rt, a, 1, d)),
  unalias: (rt, a, d) => rt.contexts.unalias(arg(rt, a, 0, d)),
  add: store,
  prepend: store,
  fill: store,
  report: (rt, a, d) => {
    const text = rt.contexts.report(arg(rt, a, 0, d));
    const cmd = arg(rt, a, 1, d);
    if (text !== undefined) toCommand(rt, cmd, text);
  },
  copy,
  empty: copy,
  pop: take,
  shift: take,
  exists: (rt, a, d) => void rt.vars.set(a.a[0]!, rt.contexts.has(arg(rt, a, 1, d)) ? '1' : '0'),
  getsize: (rt, a, d) => {
    const c = rt.contexts.get(arg(rt, a, 1, d));
    rt.vars.set(a.a[0]!, c ? String(c.buffer.length) : undefined);
  },
  getaliases: ctxField((c) => [...c.aliases].join('\n')),
  getltime: ctxField((c) => String(c.window)),
  getctime: ctxField((c) => String(c.time)),
  setltime: (rt, a, d) => {
    const name = arg(rt, a, 0, d);
    const life = num(rt, a, 1, d);
    if (life !== undefined) rt.contexts.setLifetime(name, life);
  },
  setctime: (rt, a, d) => {
    const ts = num(rt, a, 0, d);
    const name = arg(rt, a, 1, d);
    if (ts !== undefined) rt.contexts.setCreated(name, ts);
  },

  // events and operations
  event: (rt, a, d) => rt.queueEvents(a.after!, arg(rt, a, 1, d), SYNEVENT_INT_CONTEXT),
  tevent: (rt, a, d) => {
    const after = num(rt, a, 0, d);
    const text = arg(rt, a, 1, d);
    if (after !== undefined) rt.queueEvents(after, text, SYNEVENT_INT_CONTEXT);
  },
  cevent: (rt, a, d) => {
    const context = arg(rt, a, 0, d);
    const after = num(rt, a, 1, d);
    const text = arg(rt, a, 2, d);
    if (after !== undefined) rt.queueEvents(after, text, context);
  },
  rewrite: (rt, a, d) => {
    const count = num(rt, a, 0, d);
    const text = arg(rt, a, 1, d);
    if (count !== undefined) rt.lines.rewrite(count, perlSplitLines(text));
  },
  reset,
  getwpos: (rt, a, d) => {
    const op = rt.ops.get(opKey(a.conf!, a.rule as number, arg(rt, a, 1, d)));
    if (op) rt.vars.set(a.a[0]!, String(op.time));
  },
  setwpos,
  alert: native,
  heartbeat: native,
  sigemul: (rt, a, d) => rt.log('warn', `sigemul ${arg(rt, a, 0, d)} is not supported`),

  // variables and control
  assign: (rt, a, d) => void rt.vars.set(a.a[0]!, arg(rt, a, 1, d)),
  assignsq: (rt, a, d) => void rt.vars.set(a.a[0]!, "'" + arg(rt, a, 1, d).replace(/'/g, "'\\''") + "'"),
  free: (rt, a) => void rt.vars.delete(a.a[0]!),
  varset: (rt, a, d) => void rt.vars.set(a.a[0]!, rt.pmatch.has(arg(rt, a, 1, d)) ? '1' : '0'),
  if: (rt, a, d) => {
    const list = a.l![perlTrue(rt.vars.get(a.a[0]!)) ? 0 : 1]!;
    return list.length ? rt.execList(list, d) : 1;
  },
  while: (rt, a, d) => {
    while (perlTrue(rt.vars.get(a.a[0]!))) if (rt.execList(a.l![0]!, d) === -1) break;
  },
  break: () => -1,
  continue: () => 0,
};

/** execList with each action told to the rule trace before it runs (the engine uses it only at debug level). */
export function execListTraced(rt: Runtime, list: Action[], desc: string, trace: Trace): number {
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    trace.action(rt, a, desc);
    const k = (ACTIONS[a.op] ?? unsupported)(rt, a, desc);
    if (k !== undefined && k <= 0) return k;
  }
  return 1;
}

/** Runs an action list, `desc` as %s: 1 done, 0 `continue`, -1 `break`. */
export function execList(rt: Runtime, list: Action[], desc: string): number {
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    const k = (ACTIONS[a.op] ?? unsupported)(rt, a, desc);
    if (k !== undefined && k <= 0) return k;
  }
  return 1;
}
