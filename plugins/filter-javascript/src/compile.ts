import { builtinModules, createRequire } from 'node:module';
import vm from 'node:vm';
import { ConfigError } from '@pipeline/core';

/**
 * Operator code is compiled with `vm.compileFunction` in the pipeline's own context, once, at start:
 * - it parses a text as a function body on its own, so `code` cannot close the function around it
 *   and run something at load (`}); ...; (function () {` is a syntax error, as with `new Function`);
 * - it takes a file name and a line offset, so a syntax error is reported at the line and column
 *   inside `code`, `init` or the script file, and run-time stack frames point there too;
 * - the function lives in the pipeline's realm (no new vm context): arrays are Arrays, a Timestamp
 *   is a Timestamp, calls cost what any call costs and V8 optimises the code like the rest. A
 *   separate context would not be a sandbox anyway (Node says so of node:vm).
 * The text is prefixed with `'use strict';` on a line of its own (taken back by `lineOffset: -1`):
 * an assignment to an undeclared name throws instead of creating a global shared by every filter.
 */
const STRICT = "'use strict';\n";

export const INIT_PARAMS = ['params', 'logger', 'require'] as const;
export const FILTER_PARAMS = ['event', 'emit', 'new_event_block'] as const;
export const FILE_PARAMS = ['module', 'exports', 'require', 'logger'] as const;

/** Line terminators as JavaScript counts lines. */
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/;

export interface SyntaxProblem {
  message: string;
  line?: number;
  column?: number;
}

/** Where a SyntaxError is: Node puts `file:line`, the source line and a caret before the message. */
function syntaxProblem(e: SyntaxError, filename: string): SyntaxProblem {
  const lines = (e.stack ?? '').split('\n');
  const head = lines[0] ?? '';
  if (!head.startsWith(filename + ':')) return { message: e.message };
  const line = Number(head.slice(filename.length + 1));
  const caret = (lines[2] ?? '').indexOf('^');
  return { message: e.message, ...(Number.isInteger(line) ? { line } : {}), ...(caret >= 0 ? { column: caret + 1 } : {}) };
}

/** Compiles a function body, or returns where its syntax error is. */
export function syntaxOf(body: string, params: readonly string[], filename: string): SyntaxProblem | undefined {
  try {
    vm.compileFunction(STRICT + body, [...params], { filename, lineOffset: -1 });
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxError) return syntaxProblem(e, filename);
    throw e;
  }
}

function at(p: SyntaxProblem): string {
  return p.line === undefined ? '' : p.column === undefined ? ` at line ${p.line}` : ` at line ${p.line}, column ${p.column}`;
}

export type Emit = (e: unknown) => void;
export type FilterFn = (event: unknown, emit: Emit, newEventBlock: Emit) => unknown;
export type Outer = (...args: unknown[]) => unknown;

/** A place in the operator's code, from a stack frame. */
export type Where = (line: number, column: number) => string | undefined;

export interface Inline {
  /** Runs `init` with (params, logger, require); returns the per-event function. */
  outer: Outer;
  filename: string;
  where: Where;
}

/**
 * `init` and `code` as one closure: init's body, then `return function (event, emit,
 * new_event_block) { code }`, so what init declares (`const re = /.../; let seen = 0`) is in scope
 * for code, as Logstash's init and code share instance variables. Each is first compiled alone, so
 * a syntax error is placed in the option it is in, and neither can reach into the other.
 */
export function compileInline(code: string, init: string | undefined, filename: string): Inline {
  for (const [option, body, params] of [
    ['init', init, INIT_PARAMS],
    ['code', code, FILTER_PARAMS],
  ] as const) {
    if (body === undefined) continue;
    const p = syntaxOf(body, params, option);
    if (p) throw ConfigError.forOption(option, `javascript: syntax error in '${option}'${at(p)}: ${p.message}`);
  }
  const initText = init ?? '';
  const initLines = initText.split(LINE_BREAK).length;
  const body = `${initText}\nreturn function (${FILTER_PARAMS.join(', ')}) {\n${code}\n};`;
  const outer = vm.compileFunction(STRICT + body, [...INIT_PARAMS], { filename, lineOffset: -1 }) as Outer;
  const where: Where = (line, column) =>
    line <= initLines ? `init line ${line}, column ${column}` : line > initLines + 1 ? `code line ${line - initLines - 1}, column ${column}` : undefined;
  return { outer, filename, where };
}

/** What a script file defines. */
export interface ScriptParts {
  filter: FilterFn;
  register?: (params: unknown) => unknown;
  tests?: unknown;
}

export interface Script {
  path: string;
  /** Runs the file's top level afresh (its own variables) and returns what it defines. */
  load(logger: unknown): ScriptParts;
  where: Where;
}

const COLLECT = `\n;return { filter: typeof filter === 'function' ? filter : undefined, register: typeof register === 'function' ? register : undefined, tests: typeof tests === 'undefined' ? undefined : tests };`;

/**
 * A path script, compiled from its text. It is a plain script, as a Logstash `.rb` file is: the
 * top-level `function filter(event)`, `function register(params)` and `tests` it declares are
 * taken, or what it assigns to `module.exports` / `exports` (CommonJS style). ES module syntax
 * (`export`, `import`) is not: `check` has to compile the file synchronously.
 */
export function compileScript(path: string, text: string): Script {
  const p = syntaxOf(text, FILE_PARAMS, path);
  if (p) {
    const esm = /\b(?:export|import)\b/.test(p.message) || /Cannot use import statement/.test(p.message);
    throw ConfigError.forOption(
      'path',
      `javascript: syntax error in ${path}${p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`}: ${p.message}`,
      esm ? 'the script runs as a plain script: declare function filter(event) at its top level (or set module.exports = { filter }); export/import are not supported' : undefined,
    );
  }
  const outer = vm.compileFunction(STRICT + text + COLLECT, [...FILE_PARAMS], { filename: path, lineOffset: -1 }) as Outer;
  return {
    path,
    where: (line, column) => `${path}:${line}:${column}`,
    load(logger) {
      const module = { exports: {} as Record<string, unknown> };
      const top = (outer(module, module.exports, scriptRequire, logger) ?? {}) as Partial<ScriptParts>;
      const exp = (typeof module.exports === 'object' && module.exports !== null ? module.exports : {}) as Record<string, unknown>;
      const pick = <T>(name: 'filter' | 'register' | 'tests'): T | undefined => (Object.hasOwn(exp, name) ? (exp[name] as T) : (top[name] as T | undefined));
      const filter = pick<FilterFn>('filter');
      if (typeof filter !== 'function') throw new Error(`it does not define filter(event): declare function filter(event) { ... return [event]; } at its top level`);
      const register = pick<ScriptParts['register']>('register');
      if (register !== undefined && typeof register !== 'function') throw new Error("register must be a function");
      const tests = pick<unknown>('tests');
      return { filter, ...(register ? { register } : {}), ...(tests !== undefined ? { tests } : {}) };
    },
  };
}

/** The first frame of a stack that is in the operator's code, as a place in it. */
export function placeOf(err: unknown, filename: string, where: Where): string | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  if (typeof stack !== 'string') return undefined;
  const i = stack.indexOf(filename + ':');
  if (i < 0) return undefined;
  const m = /^:(\d+):(\d+)/.exec(stack.slice(i + filename.length));
  return m ? where(Number(m[1]), Number(m[2])) : undefined;
}

const nodeRequire = createRequire(import.meta.url);
const BUILTIN = new Set(builtinModules.map((m) => (m.startsWith('node:') ? m.slice(5) : m)));

/**
 * `require` in scripts: Node's built-in modules only (node:crypto for a digest, node:util...),
 * so a script depends on no package that happens to be installed beside Pipeline.
 */
export function scriptRequire(name: unknown): unknown {
  const text = String(name);
  const bare = text.startsWith('node:') ? text.slice(5) : text;
  if (!BUILTIN.has(bare)) throw new Error(`require('${text}'): a script may load Node's built-in modules only (node:crypto, node:util, ...)`);
  return nodeRequire(`node:${bare}`);
}
