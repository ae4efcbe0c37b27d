/**
 * Context expressions, parsed and evaluated exactly as SEC 2.9 does — including its odd
 * precedence. The parser splits on the LAST `||`, then the last `&&` (rindex), into a postfix
 * list; the evaluator keeps the first operand as `left` and collects everything else into
 * `right` until an operator arrives, then evaluates `right` recursively, which only looks at
 * its own first operand. The result: `A || B && C` evaluates as `A && B`, just like the real sec.
 * Perl operands (`->`, `:>`, `=`) are refused at load.
 */
import { replaceSubexpr, EXPRSYMBOL } from './actions.js';

export type CtxToken =
  | { t: 'op'; v: string }
  | { t: 'expr'; v: CtxToken[] }
  | { t: 'varset'; v: string }
  | { t: 'not' }
  | { t: 'and' }
  | { t: 'or' };

export class ContextExprError extends Error {}

function unescapeParens(s: string): string {
  return s.replace(/\\([()])/g, '$1');
}

function analyzeExpr(context: string, out: CtxToken[]): void {
  let pos = context.lastIndexOf('||');
  if (pos >= 0) {
    analyzeExpr(context.slice(0, pos), out);
    analyzeExpr(context.slice(pos + 2), out);
    out.push({ t: 'or' });
    return;
  }
  pos = context.lastIndexOf('&&');
  if (pos >= 0) {
    analyzeExpr(context.slice(0, pos), out);
    analyzeExpr(context.slice(pos + 2), out);
    out.push({ t: 'and' });
    return;
  }
  let m = /^\s*!(.*)$/s.exec(context);
  if (m) {
    analyzeExpr(m[1]!, out);
    out.push({ t: 'not' });
    return;
  }
  if (/^\s*(.*?)\s*(->|:>)\s*(.*\S)/s.test(context)) throw new ContextExprError(`Perl function operands ('->', ':>') are not supported in context expressions`);
  if (/^\s*=\s*(.*\S)/s.test(context)) throw new ContextExprError(`Perl miniprogram operands ('=') are not supported in context expressions`);
  m = /^\s*varset\s+(\S+)\s*$/.exec(context);
  if (m) {
    out.push({ t: 'varset', v: m[1] === EXPRSYMBOL ? m[1] : unescapeParens(m[1]!) });
    return;
  }
  m = /^\s*(\S+)\s*$/.exec(context);
  if (m) {
    out.push({ t: 'op', v: m[1] === EXPRSYMBOL ? m[1] : unescapeParens(m[1]!) });
    return;
  }
  throw new ContextExprError(`invalid context expression '${context}'`);
}

export function parseContextExpr(context: string): CtxToken[] {
  const subs: string[] = [];
  const masked = replaceSubexpr(context, subs);
  if (masked === null) throw new ContextExprError(`unbalanced parentheses in context expression '${context}'`);
  const result: CtxToken[] = [];
  analyzeExpr(masked, result);
  if (masked === context) return result;
  for (let i = 0; i < result.length; i++) {
    const tok = result[i]!;
    if (tok.t === 'op' && tok.v === EXPRSYMBOL) {
      const sub = subs.shift()!;
      result[i] = { t: 'expr', v: parseContextExpr(sub) };
    } else if (tok.t === 'varset' && tok.v === EXPRSYMBOL) {
      tok.v = unescapeParens(subs.shift()!);
    }
  }
  if (subs.length) throw new ContextExprError(`parenthesised part '${subs[0]}' in an invalid place in context expression '${context}'`);
  return result;
}

export interface CtxEnv {
  /** valid_context(): true when the context exists and has not expired (may expire it). */
  valid(name: string): boolean;
  /** Does the pattern match cache have this entry? */
  cached(name: string): boolean;
}

/** SEC's tval_context_expr, faithfully (undefined for an empty expression). */
export function evalContext(ref: readonly CtxToken[], env: CtxEnv): boolean | undefined {
  let left: boolean | undefined = undefined;
  let right: CtxToken[] = [];
  for (const tok of ref) {
    switch (tok.t) {
      case 'op':
        if (left !== undefined) right.push(tok);
        else left = env.valid(tok.v);
        break;
      case 'not':
        if (right.length) right.push(tok);
        else left = !left;
        break;
      case 'and':
        left = left ? evalContext(right, env) : left;
        right = [];
        break;
      case 'or':
        left = left ? left : evalContext(right, env);
        right = [];
        break;
      case 'expr':
        if (left !== undefined) right.push(tok);
        else left = evalContext(tok.v, env);
        break;
      case 'varset':
        if (left !== undefined) right.push(tok);
        else left = env.cached(tok.v);
        break;
    }
  }
  return left;
}

/** Copy with $-variables substituted into operands (SEC's copy_context + subst_context). */
export function substContext(ref: readonly CtxToken[], subst: (s: string) => string): CtxToken[] {
  return ref.map((tok) => {
    if (tok.t === 'op' || tok.t === 'varset') return { t: tok.t, v: subst(tok.v) };
    if (tok.t === 'expr') return { t: 'expr', v: substContext(tok.v, subst) };
    return tok;
  });
}

export function contextHasVars(ref: readonly CtxToken[], has: (s: string) => boolean): boolean {
  return ref.some((tok) => ((tok.t === 'op' || tok.t === 'varset') && has(tok.v)) || (tok.t === 'expr' && contextHasVars(tok.v, has)));
}
