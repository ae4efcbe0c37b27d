/**
 * SEC action lists, parsed as SEC 2.9's analyze_actionlist/analyze_action do: top-level
 * parenthesised parts are masked, the list is split on `;`, each action is recognised by its
 * keyword regex, and `process_action_parens` strips one outer pair of parentheses and the
 * backslashes before masked parentheses. Two native actions beyond SEC, `alert` and `heartbeat`,
 * are parsed here into key/value templates (see native.ts).
 */
import { parseNativeAction, ruleLabel, type NativeSpec } from './native.js';

export const EXPRSYMBOL = '\u0000';

export type Op =
  | 'none' | 'logonly' | 'write' | 'writen' | 'owritecl' | 'closef'
  | 'udgram' | 'closeudgr' | 'ustream' | 'closeustr' | 'udpsock' | 'closeudp' | 'tcpsock' | 'closetcp'
  | 'shellcmd' | 'cmdexec' | 'spawn' | 'spawnexec' | 'cspawn' | 'cspawnexec' | 'pipe' | 'pipeexec'
  | 'create' | 'delete' | 'obsolete' | 'set' | 'alias' | 'unalias' | 'add' | 'prepend' | 'fill'
  | 'report' | 'reportexec' | 'copy' | 'empty' | 'pop' | 'shift'
  | 'exists' | 'getsize' | 'getaliases' | 'getltime' | 'setltime' | 'getctime' | 'setctime'
  | 'event' | 'tevent' | 'cevent' | 'reset' | 'getwpos' | 'setwpos'
  | 'assign' | 'assignsq' | 'free' | 'rewrite' | 'addinput' | 'dropinput' | 'sigemul' | 'varset'
  | 'if' | 'while' | 'break' | 'continue' | 'alert' | 'heartbeat';

export interface Action {
  readonly op: Op;
  /** String parameters; which of them take variables is given by SUBST_ARGS. */
  a: string[];
  /** Nested action lists (create/set expiry list, if/else, while). */
  l?: Action[][];
  /** reset/getwpos/setwpos: the rule number ('' = every rule of the file) and rule file. */
  rule?: number | '';
  conf?: string;
  /** event: delay in seconds (a constant). */
  after?: number;
  native?: NativeSpec;
}

/** Indexes into `a` that go through $-substitution at match time and %-substitution at run time. */
export const SUBST_ARGS: Record<Op, readonly number[]> = {
  none: [], logonly: [0], write: [0, 1], writen: [0, 1], owritecl: [0, 1], closef: [0],
  udgram: [0, 1], closeudgr: [0], ustream: [0, 1], closeustr: [0], udpsock: [0, 1], closeudp: [0],
  tcpsock: [0, 1], closetcp: [0], shellcmd: [0], cmdexec: [], spawn: [0], spawnexec: [], cspawn: [0, 1],
  cspawnexec: [], pipe: [0, 1], pipeexec: [], create: [0, 1], delete: [0], obsolete: [0], set: [0, 1],
  alias: [0, 1], unalias: [0], add: [0, 1], prepend: [0, 1], fill: [0, 1], report: [0, 1], reportexec: [],
  copy: [0], empty: [0], pop: [0], shift: [0], exists: [1], getsize: [1], getaliases: [1], getltime: [1],
  setltime: [0, 1], getctime: [1], setctime: [0, 1], event: [1], tevent: [0, 1], cevent: [0, 1, 2],
  reset: [0], getwpos: [1], setwpos: [0, 1], assign: [1], assignsq: [1], free: [], rewrite: [0, 1],
  addinput: [0, 1, 2], dropinput: [0], sigemul: [0], varset: [1], if: [], while: [], break: [],
  continue: [], alert: [], heartbeat: [],
};

/** Ops whose every `a` element is substituted (exec-style argument vectors). */
const ALL_ARGS = new Set<Op>(['cmdexec', 'spawnexec', 'cspawnexec', 'pipeexec', 'reportexec', 'alert', 'heartbeat']);

export function substArgs(op: Op, a: string[]): readonly number[] {
  return ALL_ARGS.has(op) ? a.map((_, i) => i) : SUBST_ARGS[op];
}

export const SHELL_OPS = new Set<Op>(['shellcmd', 'cmdexec', 'spawn', 'spawnexec', 'cspawn', 'cspawnexec', 'pipe', 'pipeexec', 'report', 'reportexec']);

export class ActionError extends Error {}

/** SEC's replace_subexpr: masks top-level (...) with EXPRSYMBOL; null when unbalanced. */
export function replaceSubexpr(expression: string, list: string[]): string | null {
  list.length = 0;
  let i = 0;
  let depth = 0;
  let pos = -1;
  let prev = '';
  let expr = expression;
  let l = expr.length;
  while (i < l) {
    let ch = expr[i]!;
    if (prev !== '\\') {
      if (ch === '(') ++depth;
      else if (ch === ')') --depth;
    }
    if (depth === 1 && pos < 0) pos = i;
    else if (depth === 0 && pos >= 0) {
      list.push(expr.slice(pos + 1, i));
      expr = expr.slice(0, pos) + EXPRSYMBOL + expr.slice(i + 1);
      i = pos;
      l = expr.length;
      pos = -1;
      ch = '';
    } else if (depth < 0) return null;
    prev = ch;
    ++i;
  }
  return depth === 0 ? expr : null;
}

/** SEC's process_action_parens on one string. */
export function actionParens(s: string): string {
  const m = /^\s*\(\s*(.*?)\s*\)\s*$/.exec(s);
  if (m) s = m[1]!;
  return s.replace(/\\([()])/g, '$1');
}

function stripListParens(s: string): string {
  const m = /^\s*\(\s*(.*?)\s*\)\s*$/.exec(s);
  return m ? m[1]! : s;
}

/** Perl's split(' ', s). */
export function splitWords(s: string): string[] {
  return s.split(/\s+/).filter((x) => x.length > 0);
}

export interface ParseCtx {
  conffile: string;
  ruleId: number;
  /** The line the rule starts at: alert/heartbeat events name their rule as file:line. */
  ruleLine?: number;
  /** How many action lists enclose the one being parsed (if/while/create bodies). */
  depth?: number;
}

/**
 * Action lists nest through if, while, create and set. sec recurses without a limit (Perl only
 * warns); here each level costs stack, so a rule file with thousands of levels would overflow
 * it. 64 is far beyond any hand-written rule and well inside the stack.
 */
export const MAX_ACTION_DEPTH = 64;

const VAR = /^%[A-Za-z]\w*$/;

function needVar(v: string): string {
  if (!VAR.test(v)) throw new ActionError(`variable ${v} does not have the form %<letter>[<letter>|<digit>|<underscore>]...`);
  return v.slice(1);
}

function ruleOffset(sign: string, num: string, ruleId: number): number {
  const r = Number(num);
  if (sign === '+') return ruleId + r;
  if (sign === '-') return ruleId - r;
  return r === 0 ? ruleId : r - 1;
}

export function parseActionList(text: string, pc: ParseCtx): Action[] {
  const depth = pc.depth ?? 0;
  if (depth >= MAX_ACTION_DEPTH) throw new ActionError(`action lists nested more than ${MAX_ACTION_DEPTH} deep (if/while/create/set inside each other)`);
  pc.depth = depth + 1;
  try {
    return parseActionListAt(text, pc);
  } finally {
    pc.depth = depth;
  }
}

function parseActionListAt(text: string, pc: ParseCtx): Action[] {
  const m = /^\s*(.*?)\s*$/.exec(text);
  const actionlist = m ? m[1]! : text;
  const list: string[] = [];
  const masked = replaceSubexpr(actionlist, list);
  if (masked === null) throw new ActionError(`unbalanced parentheses in action list '${text}'`);
  const parts = masked.split(/\s*;\s*/);
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  const out: Action[] = [];
  for (const part0 of parts) {
    let part = part0;
    const list2: string[] = [];
    for (;;) {
      const p = part.indexOf(EXPRSYMBOL);
      if (p < 0) break;
      const expr = list.shift() ?? '';
      part = part.slice(0, p) + '(' + expr + ')' + part.slice(p + 1);
      list2.push(expr);
    }
    out.push(parseAction(part, part0, list2, pc));
  }
  return out;
}

function parseAction(action: string, masked: string, list: string[], pc: ParseCtx): Action {
  let m: RegExpExecArray | null;
  const opt = (s: string | undefined) => (s === undefined ? '' : s);

  if (/^none$/i.test(action)) return { op: 'none', a: [] };

  if ((m = /^logonly(?:\s+(.*\S))?$/i.exec(action))) {
    let ev = actionParens(opt(m[1]));
    if (!ev.length) ev = '%s';
    return { op: 'logonly', a: [ev] };
  }

  if ((m = /^(write|writen|owritecl|udgram|ustream)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const file = actionParens(m[2]!);
    let ev = actionParens(opt(m[3]));
    if (!file.length) throw new ActionError(`empty filename given for ${op} action`);
    if (!ev.length) ev = '%s';
    return { op, a: [file, ev] };
  }

  if ((m = /^(closef|closeudgr|closeustr|dropinput)\s+(\S+)$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const file = actionParens(m[2]!);
    if (!file.length) throw new ActionError(`empty filename given for ${op} action`);
    return { op, a: [file] };
  }

  if ((m = /^(udpsock|tcpsock)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const peer = actionParens(m[2]!);
    let ev = actionParens(opt(m[3]));
    if (!peer.length) throw new ActionError(`empty peername given for ${op} action`);
    if (!ev.length) ev = '%s';
    return { op, a: [peer, ev] };
  }

  if ((m = /^(closeudp|closetcp)\s+(\S+)$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const peer = actionParens(m[2]!);
    if (!peer.length) throw new ActionError(`empty peername given for ${op} action`);
    return { op, a: [peer] };
  }

  if ((m = /^(shellcmd|cmdexec|spawn|spawnexec)\s+(.*\S)$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const cmd = actionParens(m[2]!);
    if (!cmd.length) throw new ActionError(`empty commandline given for ${op} action`);
    return { op, a: op === 'cmdexec' || op === 'spawnexec' ? splitWords(cmd) : [cmd] };
  }

  if ((m = /^(cspawn|cspawnexec)\s+(\S+)\s+(.*\S)$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const ctx = actionParens(m[2]!);
    const cmd = actionParens(m[3]!);
    if (!ctx.length) throw new ActionError(`empty context name given for ${op} action`);
    if (!cmd.length) throw new ActionError(`empty commandline given for ${op} action`);
    return { op, a: op === 'cspawn' ? [ctx, cmd] : [ctx, ...splitWords(cmd)] };
  }

  if ((m = /^(pipe|pipeexec)\s+'([^']*)'(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    let ev = actionParens(m[2]!);
    const cmd = actionParens(opt(m[3]));
    if (!ev.length) ev = '%s';
    return { op, a: op === 'pipe' ? [ev, cmd] : [ev, ...splitWords(cmd)] };
  }

  if ((m = /^create(?:\s+(\S+)(?:\s+(\S+)(?:\s+(.*\S))?)?)?$/i.exec(action))) {
    let ctx = actionParens(opt(m[1]));
    let life = actionParens(opt(m[2]));
    const al = stripListParens(opt(m[3]));
    if (!ctx.length) ctx = '%s';
    if (!life.length) life = '0';
    return { op: 'create', a: [ctx, life], l: [al.length ? parseActionList(al, pc) : []] };
  }

  if ((m = /^(delete|obsolete|unalias)(?:\s+(\S+))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    let ctx = actionParens(opt(m[2]));
    if (!ctx.length) ctx = '%s';
    return { op, a: [ctx] };
  }

  if ((m = /^set\s+(\S+)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const ctx = actionParens(m[1]!);
    const life = actionParens(m[2]!);
    const al = stripListParens(opt(m[3]));
    if (!ctx.length) throw new ActionError('empty context name given for set action');
    if (!life.length) throw new ActionError('empty lifetime given for set action');
    return { op: 'set', a: [ctx, life], l: [al.length ? parseActionList(al, pc) : []] };
  }

  if ((m = /^alias\s+(\S+)(?:\s+(\S+))?$/i.exec(action))) {
    const ctx = actionParens(m[1]!);
    let alias = actionParens(opt(m[2]));
    if (!ctx.length) throw new ActionError('empty context name given for alias action');
    if (!alias.length) alias = '%s';
    return { op: 'alias', a: [ctx, alias] };
  }

  if ((m = /^(add|prepend|fill)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const ctx = actionParens(m[2]!);
    let ev = actionParens(opt(m[3]));
    if (!ctx.length) throw new ActionError(`empty context name given for ${op} action`);
    if (!ev.length) ev = '%s';
    return { op, a: [ctx, ev] };
  }

  if ((m = /^(report|reportexec)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const ctx = actionParens(m[2]!);
    const cmd = actionParens(opt(m[3]));
    if (!ctx.length) throw new ActionError(`empty context name given for ${op} action`);
    return { op, a: op === 'report' ? [ctx, cmd] : [ctx, ...splitWords(cmd)] };
  }

  if ((m = /^(copy|pop|shift)\s+(\S+)\s+(\S+)$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const ctx = actionParens(m[2]!);
    if (!ctx.length) throw new ActionError(`empty context name given for ${op} action`);
    return { op, a: [ctx, needVar(m[3]!)] };
  }

  if ((m = /^empty\s+(\S+)(?:\s+(\S+))?$/i.exec(action))) {
    const ctx = actionParens(m[1]!);
    const v = opt(m[2]);
    if (!ctx.length) throw new ActionError('empty context name given for empty action');
    return { op: 'empty', a: [ctx, v.length ? needVar(v) : ''] };
  }

  if ((m = /^(exists|getsize|getaliases|getltime|getctime)\s+(\S+)\s+(\S+)$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    const v = needVar(m[2]!);
    const ctx = actionParens(m[3]!);
    if (!ctx.length) throw new ActionError(`empty context name given for ${op} action`);
    return { op, a: [v, ctx] };
  }

  if ((m = /^setltime\s+(\S+)(?:\s+(\S+))?$/i.exec(action))) {
    const ctx = actionParens(m[1]!);
    let life = actionParens(opt(m[2]));
    if (!ctx.length) throw new ActionError('empty context name given for setltime action');
    if (!life.length) life = '0';
    return { op: 'setltime', a: [ctx, life] };
  }

  if ((m = /^setctime\s+(\S+)\s+(\S+)$/i.exec(action))) {
    const ts = actionParens(m[1]!);
    const ctx = actionParens(m[2]!);
    if (!ts.length) throw new ActionError('empty timestamp given for setctime action');
    if (!ctx.length) throw new ActionError('empty context name given for setctime action');
    return { op: 'setctime', a: [ts, ctx] };
  }

  if ((m = /^event(?:\s+0*([0-9]+))?(?:\s+(.*\S))?$/i.exec(action))) {
    const after = m[1] === undefined ? 0 : Number(m[1]);
    let ev = actionParens(opt(m[2]));
    if (!ev.length) ev = '%s';
    return { op: 'event', a: [String(after), ev], after };
  }

  if ((m = /^tevent\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const after = actionParens(m[1]!);
    let ev = actionParens(opt(m[2]));
    if (!after.length) throw new ActionError('empty time given for tevent action');
    if (!ev.length) ev = '%s';
    return { op: 'tevent', a: [after, ev] };
  }

  if ((m = /^cevent\s+(\S+)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const ctx = actionParens(m[1]!);
    const after = actionParens(m[2]!);
    let ev = actionParens(opt(m[3]));
    if (!ctx.length) throw new ActionError('empty context name given for cevent action');
    if (!after.length) throw new ActionError('empty time given for cevent action');
    if (!ev.length) ev = '%s';
    return { op: 'cevent', a: [ctx, after, ev] };
  }

  if ((m = /^reset(?:\s+([+-]?)0*([0-9]+))?(?:\s+(.*\S))?$/i.exec(action))) {
    const rule = m[2] === undefined ? '' : ruleOffset(m[1]!, m[2], pc.ruleId);
    let ev = actionParens(opt(m[3]));
    if (!ev.length) ev = '%s';
    return { op: 'reset', a: [ev], rule, conf: pc.conffile };
  }

  if ((m = /^getwpos\s+(\S+)\s+([+-]?)0*([0-9]+)(?:\s+(.*\S))?$/i.exec(action))) {
    const v = needVar(m[1]!);
    let ev = actionParens(opt(m[4]));
    if (!ev.length) ev = '%s';
    return { op: 'getwpos', a: [v, ev], rule: ruleOffset(m[2]!, m[3]!, pc.ruleId), conf: pc.conffile };
  }

  if ((m = /^setwpos\s+(\S+)\s+([+-]?)0*([0-9]+)(?:\s+(.*\S))?$/i.exec(action))) {
    const ts = actionParens(m[1]!);
    let ev = actionParens(opt(m[4]));
    if (!ts.length) throw new ActionError('empty timestamp given for setwpos action');
    if (!ev.length) ev = '%s';
    return { op: 'setwpos', a: [ts, ev], rule: ruleOffset(m[2]!, m[3]!, pc.ruleId), conf: pc.conffile };
  }

  if ((m = /^(assign|assignsq)\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as Op;
    let val = actionParens(opt(m[3]));
    const v = needVar(m[2]!);
    if (!val.length) val = '%s';
    return { op, a: [v, val] };
  }

  if ((m = /^free\s+(\S+)$/i.exec(action))) return { op: 'free', a: [needVar(m[1]!)] };

  if (/^(eval|call|lcall)\s/i.test(action)) {
    const kw = /^(\w+)/.exec(action)![1]!.toLowerCase();
    throw new ActionError(`'${kw}' runs Perl code, which this engine does not execute; rewrite the logic with if/while/assign or a native action`);
  }

  if ((m = /^rewrite\s+(\S+)(?:\s+(.*\S))?$/i.exec(action))) {
    const count = actionParens(m[1]!);
    let ev = actionParens(opt(m[2]));
    if (!count.length) throw new ActionError('empty line count given for rewrite action');
    if (!ev.length) ev = '%s';
    return { op: 'rewrite', a: [count, ev] };
  }

  if ((m = /^addinput\s+(\S+)(?:\s+(\S+)(?:\s+(\S+))?)?$/i.exec(action))) {
    const file = actionParens(m[1]!);
    let fpos = actionParens(opt(m[2]));
    let ctx = actionParens(opt(m[3]));
    if (!file.length) throw new ActionError('empty filename given for addinput action');
    if (!fpos.length) fpos = '-';
    if (!ctx.length) ctx = '_FILE_EVENT_' + file;
    return { op: 'addinput', a: [file, fpos, ctx] };
  }

  if ((m = /^sigemul\s+(\S+)$/i.exec(action))) {
    const sig = actionParens(m[1]!);
    if (!sig.length) throw new ActionError('empty signal given for sigemul action');
    return { op: 'sigemul', a: [sig] };
  }

  if ((m = /^varset\s+(\S+)\s+(\S+)$/i.exec(action))) {
    const v = needVar(m[1]!);
    const entry = actionParens(m[2]!);
    if (!entry.length) throw new ActionError('empty entry name given for varset action');
    return { op: 'varset', a: [v, entry] };
  }

  if (/^if\s/i.test(action)) {
    let variable: string;
    let l1: string;
    let l2: string;
    if ((m = /^if\s+(\S+)\s+\u0000\s+else\s+\u0000$/i.exec(masked))) {
      variable = m[1]!;
      l1 = list[0]!;
      l2 = list[1]!;
    } else if ((m = /^if\s+(\S+)\s+\u0000$/i.exec(masked))) {
      variable = m[1]!;
      l1 = list[0]!;
      l2 = '';
    } else throw new ActionError(`invalid if action '${action}'`);
    const v = needVar(variable);
    const a1 = /^\s*$/.test(l1) ? [] : parseActionList(l1, pc);
    const a2 = /^\s*$/.test(l2) ? [] : parseActionList(l2, pc);
    if (!a1.length && !a2.length) throw new ActionError(`empty action lists in if action '${action}'`);
    return { op: 'if', a: [v], l: [a1, a2] };
  }

  if (/^while\s/i.test(action)) {
    m = /^while\s+(\S+)\s+\u0000$/i.exec(masked);
    if (!m) throw new ActionError(`invalid while action '${action}'`);
    const v = needVar(m[1]!);
    if (/^\s*$/.test(list[0]!)) throw new ActionError(`empty action list in while action '${action}'`);
    return { op: 'while', a: [v], l: [parseActionList(list[0]!, pc)] };
  }

  if (/^break$/i.test(action)) return { op: 'break', a: [] };
  if (/^continue$/i.test(action)) return { op: 'continue', a: [] };

  if ((m = /^(alert|heartbeat)(?:\s+(.*\S))?$/i.exec(action))) {
    const op = m[1]!.toLowerCase() as 'alert' | 'heartbeat';
    const native = parseNativeAction(op, opt(m[2]));
    native.rule = ruleLabel(pc.conffile, pc.ruleLine ?? 0);
    return { op, a: native.values, native };
  }

  throw new ActionError(`invalid action '${action}'`);
}

/** Does the text contain match variables for these tokens (SEC's contains_matchvars)? */
export function containsMatchVars(s: string, tokens: string[]): boolean {
  for (const t of tokens) if (matchVarRe(t).test(s)) return true;
  return false;
}

const reCache = new Map<string, RegExp>();
export function matchVarRe(token: string): RegExp {
  let r = reCache.get(token);
  if (!r) {
    const t = token === '$' ? '\\$' : token;
    r = new RegExp(`${t}(?:${t}|([0-9]+)|\\{([0-9]+)\\}|\\+\\{([A-Za-z_][\\w!]*|[0-9]+)\\}|:\\{([A-Za-z]\\w*):([A-Za-z_][\\w!]*|[0-9]+)\\})`, 'g');
    reCache.set(token, r);
  }
  r.lastIndex = 0;
  return r;
}

/** The argument of each shell-run action that /bin/sh parses: a command line, not an argv. */
const SHELL_COMMAND_ARG: Partial<Record<Op, number>> = { shellcmd: 0, spawn: 0, cspawn: 1, pipe: 1, report: 1 };

/**
 * Shell actions whose command line holds match variables: a log line's text then reaches
 * /bin/sh, and `$(...)`, backticks or `|` in it run whatever quoting the rule author wrapped
 * around the variable (the real sec behaves the same). The *exec forms take an argv and are not listed.
 */
export function shellActionsWithMatchVars(list: Action[], out: Action[] = []): Action[] {
  for (const a of list) {
    const i = SHELL_COMMAND_ARG[a.op];
    const cmd = i === undefined ? undefined : a.a[i];
    if (typeof cmd === 'string' && containsMatchVars(cmd, ['$'])) out.push(a);
    for (const sub of a.l ?? []) shellActionsWithMatchVars(sub, out);
  }
  return out;
}

export function actionListUsesShell(list: Action[]): Action | undefined {
  for (const a of list) {
    if (SHELL_OPS.has(a.op) && !((a.op === 'report' && a.a[1] === '') || (a.op === 'pipe' && a.a[1] === '') || (a.op === 'reportexec' && a.a.length === 1) || (a.op === 'pipeexec' && a.a.length === 1))) return a;
    for (const sub of a.l ?? []) {
      const f = actionListUsesShell(sub);
      if (f) return f;
    }
  }
  return undefined;
}
