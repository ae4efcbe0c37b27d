import type { Attribute, BoolOp, BranchNode, CompareOp, ConfigAst, Expr, HashEntry, Loc, PluginNode, RValue, Section, SectionKind, Statement, Value } from './ast.js';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/**
 * A hand-written parser for Logstash's config language (LSCL), one method per production, reading
 * characters directly: the language is context sensitive (`[a][b]` is a field reference in a
 * condition, an array after `=>`), so it has no separate token stream.
 *
 * Strings are raw, as Logstash reads them by default: a backslash stays in the value and `\"` only
 * keeps the string open. With `supportEscapes` (config.support_escapes) the usual escapes apply.
 * `${VAR}` and `${VAR:default}` are substituted from `env` inside strings, barewords and numbers.
 */
export interface ParseOptions {
  supportEscapes?: boolean;
  env?: Record<string, string | undefined>;
}

const SECTIONS = new Set<SectionKind>(['input', 'filter', 'correlate', 'output']);
const BOOL_PRECEDENCE: Record<BoolOp, number> = { or: 1, xor: 2, and: 3, nand: 3 };

export function parseConfig(text: string, file: string, options: ParseOptions = {}): ConfigAst {
  try {
    return new Parser(text, file, options).parseConfig();
  } catch (e) {
    throw e instanceof ConfigError ? e.withSource(text) : e;
  }
}

/**
 * How deep blocks, parentheses, arrays and hashes may nest, and how many operands one condition
 * may chain. Parsing, compiling and evaluating each recurse once per level; real configs stay in
 * single digits, and a generated one with thousands of levels would overflow the stack instead of
 * getting an error with its location.
 */
export const MAX_NESTING = 100;
export const MAX_CONDITION_OPERANDS = 1000;

class Parser {
  private pos = 0;
  private line = 1;
  private col = 1;
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly opts: ParseOptions,
  ) {}

  // ---- low level ----

  private loc(): Loc {
    return { file: this.file, line: this.line, column: this.col };
  }

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.src[this.pos] === '\n') {
        this.line++;
        this.col = 1;
      } else this.col++;
      this.pos++;
    }
  }

  private eof(): boolean {
    return this.pos >= this.src.length;
  }

  /** Skips whitespace and `#` comments. */
  private ws(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') this.advance();
      else if (c === '#') while (!this.eof() && this.peek() !== '\n') this.advance();
      else return;
    }
  }

  /** Runs one nested construct, refusing it past MAX_NESTING levels. */
  private nested<T>(what: string, at: Loc, parse: () => T): T {
    if (this.depth >= MAX_NESTING) this.fail(`${what} nested more than ${MAX_NESTING} deep`, 'flatten the config: split deep conditions into several branches', at);
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private fail(message: string, hint?: string, at: Loc = this.loc()): never {
    throw new ConfigError(message, at, hint);
  }

  private found(): string {
    if (this.eof()) return 'end of file';
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos, this.pos + 40));
    return m ? `'${m[0]}'` : `'${this.peek()}'`;
  }

  private expect(s: string, hint?: string): void {
    this.ws();
    if (!this.src.startsWith(s, this.pos)) this.fail(`expected '${s}', found ${this.found()}`, hint);
    this.advance(s.length);
  }

  private tryConsume(s: string): boolean {
    if (this.src.startsWith(s, this.pos)) {
      this.advance(s.length);
      return true;
    }
    return false;
  }

  /** A keyword followed by a non-identifier character. */
  private atKeyword(word: string): boolean {
    if (!this.src.startsWith(word, this.pos)) return false;
    const next = this.src[this.pos + word.length] ?? '';
    return !/[A-Za-z0-9_-]/.test(next);
  }

  private bareword(): string | undefined {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos, this.pos + 256));
    if (!m) return undefined;
    this.advance(m[0].length);
    return m[0];
  }

  // ---- productions ----

  parseConfig(): ConfigAst {
    const sections: Section[] = [];
    this.ws();
    while (!this.eof()) {
      const at = this.loc();
      const word = this.bareword();
      if (!word || !SECTIONS.has(word as SectionKind))
        this.fail(`expected a section (input, filter, correlate or output), found ${word ? `'${word}'` : this.found()}`, 'a pipeline.conf is made of input { }, filter { }, correlate { } and output { } sections', at);
      this.expect('{', `open the ${word} section with '{'`);
      const body = this.statements(word as SectionKind);
      this.expect('}');
      sections.push({ kind: word as SectionKind, loc: at, body });
      this.ws();
    }
    return { sections };
  }

  private statements(section: SectionKind): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      this.ws();
      if (this.eof()) this.fail(`unexpected end of file inside the ${section} section`, "close the section with '}'");
      if (this.peek() === '}') return out;
      if (this.atKeyword('if')) out.push(this.branch(section));
      else if (this.atKeyword('else') || this.atKeyword('elseif')) this.fail(`'${this.atKeyword('else') ? 'else' : 'elseif'}' without a preceding 'if'`);
      else out.push(this.plugin());
    }
  }

  private branch(section: SectionKind): BranchNode {
    const at = this.loc();
    const arms: BranchNode['arms'] = [];
    this.advance(2);
    arms.push({ condition: this.condition(), body: this.block(section) });
    let otherwise: Statement[] | undefined;
    for (;;) {
      this.ws();
      // Logstash's grammar reads `"else" cs "if"` with optional space and comments between, so
      // `elseif` is an else-if there too; `elsewhere { }` after a branch stays a plugin
      if (!this.atKeyword('else') && !this.atKeyword('elseif')) break;
      this.advance(4);
      this.ws();
      if (this.atKeyword('if')) {
        this.advance(2);
        arms.push({ condition: this.condition(), body: this.block(section) });
      } else {
        otherwise = this.block(section);
        break;
      }
    }
    return { type: 'branch', loc: at, arms, otherwise };
  }

  private block(section: SectionKind): Statement[] {
    const at = this.loc();
    this.expect('{', "a condition is followed by a block in '{ }'");
    const body = this.nested('blocks', at, () => this.statements(section));
    this.expect('}');
    return body;
  }

  private name(): { name: string; loc: Loc } {
    this.ws();
    const at = this.loc();
    const c = this.peek();
    if (c === '"' || c === "'") return { name: this.string().value, loc: at };
    const word = this.bareword();
    if (!word) this.fail(`expected a plugin name, found ${this.found()}`);
    return { name: word, loc: at };
  }

  private plugin(): PluginNode {
    const { name, loc } = this.name();
    this.ws();
    if (this.peek() !== '{') this.fail(`expected '{' after plugin name '${name}', found ${this.found()}`, `write ${name} { ... }`);
    return this.pluginBody(name, loc);
  }

  /** `{ name => value ... }` after a plugin's name (a section's plugin, or a codec given as a block). */
  private pluginBody(name: string, loc: Loc): PluginNode {
    this.advance(); // '{'
    const attributes: Attribute[] = [];
    for (;;) {
      this.ws();
      if (this.peek() === '}') {
        this.advance();
        return { type: 'plugin', name, loc, attributes };
      }
      if (this.eof()) this.fail(`unexpected end of file inside plugin '${name}'`, "close the plugin block with '}'");
      const attr = this.name();
      this.ws();
      if (!this.tryConsume('=>')) this.fail(`expected '=>' after option '${attr.name}', found ${this.found()}`, `write ${attr.name} => value`);
      attributes.push({ name: attr.name, loc: attr.loc, value: this.value() });
    }
  }

  private value(): Value {
    this.ws();
    const at = this.loc();
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === '[') return this.array();
    if (c === '{') return this.hash();
    if (c === '-' || (c >= '0' && c <= '9')) {
      const n = this.number();
      if (n) return n;
    }
    const word = this.bareword();
    if (word) {
      this.ws();
      if (this.peek() === '{') {
        // A bareword followed by a block is a plugin (codec => json { ... }).
        const p = this.pluginBody(word, at);
        return { kind: 'plugin', plugin: p, loc: at };
      }
      return { kind: 'bareword', value: this.substitute(word, at), loc: at };
    }
    if (c === '$' && this.peek(1) === '{') {
      const start = this.pos;
      while (!this.eof() && this.peek() !== '}') this.advance();
      this.advance();
      return { kind: 'bareword', value: this.substitute(this.src.slice(start, this.pos), at), loc: at };
    }
    this.fail(`expected a value (string, number, bareword, array or hash), found ${this.found()}`);
  }

  private number(): Value | undefined {
    const at = this.loc();
    const m = /^-?[0-9]+(\.[0-9]*)?/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m) return undefined;
    const next = this.src[this.pos + m[0].length] ?? '';
    if (/[A-Za-z_]/.test(next)) return undefined;
    this.advance(m[0].length);
    return { kind: 'number', value: Number(m[0]), loc: at };
  }

  private string(): { kind: 'string'; value: string; loc: Loc } {
    const at = this.loc();
    const quote = this.peek();
    this.advance();
    let raw = '';
    for (;;) {
      if (this.eof()) this.fail(`unterminated string (opened with ${quote})`, `close it with ${quote}`, at);
      const c = this.peek();
      if (c === '\\' && this.pos + 1 < this.src.length) {
        raw += c + this.peek(1);
        this.advance(2);
        continue;
      }
      if (c === quote) {
        this.advance();
        break;
      }
      raw += c;
      this.advance();
    }
    const value = this.opts.supportEscapes ? unescape(raw) : raw;
    return { kind: 'string', value: this.substitute(value, at), loc: at };
  }

  /**
   * `${VAR}` / `${VAR:default}` from the environment; an unset variable without default is an
   * error. A secret can also come from a file: when VAR is unset and VAR_FILE names a file, its
   * content (without the final newline) is the value, so passwords need not sit in the
   * environment of every process either.
   */
  private substitute(s: string, at: Loc): string {
    if (!s.includes('${')) return s;
    const env = this.opts.env ?? process.env;
    return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_.]*)(?::([^}]*))?\}/g, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined) return v;
      const file = env[`${name}_FILE`];
      if (file !== undefined) {
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (e) {
          throw new ConfigError(`cannot read \${${name}} from ${name}_FILE=${file}: ${(e as Error).message}`, at, `make ${file} readable by this user`);
        }
      }
      if (def !== undefined) return def;
      throw new ConfigError(`cannot evaluate \${${name}}: the environment variable ${name} is not set`, at, `set ${name}, or give a default: \${${name}:value}`);
    });
  }

  private array(): Value {
    const at = this.loc();
    this.advance(); // [
    const items: Value[] = [];
    this.ws();
    if (this.tryConsume(']')) return { kind: 'array', items, loc: at };
    for (;;) {
      items.push(this.nested('arrays', at, () => this.value()));
      this.ws();
      if (this.tryConsume(',')) {
        this.ws();
        if (this.tryConsume(']')) break; // tolerate a trailing comma
        continue;
      }
      if (this.tryConsume(']')) break;
      this.fail(`expected ',' or ']' in array, found ${this.found()}`, 'separate array items with commas');
    }
    return { kind: 'array', items, loc: at };
  }

  private hash(): Value {
    const at = this.loc();
    this.advance(); // {
    const entries: HashEntry[] = [];
    const seen = new Map<string, Loc>();
    for (;;) {
      this.ws();
      if (this.tryConsume('}')) return { kind: 'hash', entries, loc: at };
      if (this.eof()) this.fail('unterminated hash', "close it with '}'", at);
      const keyLoc = this.loc();
      let key: string;
      const c = this.peek();
      if (c === '"' || c === "'") key = this.string().value;
      else {
        const n = this.number();
        if (n) key = String((n as { value: number }).value);
        else {
          const w = this.bareword();
          if (!w) this.fail(`expected a hash key, found ${this.found()}`);
          key = w;
        }
      }
      // Logstash refuses a key given twice rather than keep one of the values silently
      const first = seen.get(key);
      if (first)
        throw new ConfigError(`duplicate key '${key}' in a hash`, keyLoc, `give each key once; for several values write '${key}' => [...]`, undefined, {
          related: [{ loc: first, note: `'${key}' is first given here` }],
        });
      seen.set(key, keyLoc);
      this.ws();
      if (!this.tryConsume('=>')) this.fail(`expected '=>' after hash key '${key}', found ${this.found()}`);
      entries.push({ key, keyLoc, value: this.nested('hashes', at, () => this.value()) });
      this.ws();
      this.tryConsume(','); // Logstash allows hash entries separated by whitespace; a comma is tolerated
    }
  }

  // ---- conditions ----

  /** condition: expression (boolop expression)*, with and/nand over xor over or. */
  private condition(): Expr {
    const operands: Expr[] = [this.expression()];
    const ops: { op: BoolOp; loc: Loc }[] = [];
    for (;;) {
      this.ws();
      const at = this.loc();
      const op = (['and', 'or', 'xor', 'nand'] as const).find((k) => this.atKeyword(k));
      if (!op) break;
      if (ops.length + 1 >= MAX_CONDITION_OPERANDS) this.fail(`a condition chains more than ${MAX_CONDITION_OPERANDS} operands with and/or/xor/nand`, 'split it into several branches', at);
      this.advance(op.length);
      ops.push({ op, loc: at });
      operands.push(this.expression());
    }
    // precedence climbing over the flat list
    const build = (lo: number, hi: number, minPrec: number): Expr => {
      if (lo === hi) return operands[lo]!;
      let split = -1;
      let prec = Infinity;
      for (let i = lo; i < hi; i++) {
        const p = BOOL_PRECEDENCE[ops[i]!.op];
        if (p <= prec) {
          prec = p;
          split = i;
        }
      }
      void minPrec;
      const o = ops[split]!;
      return { type: 'bool', op: o.op, left: build(lo, split, prec), right: build(split + 1, hi, prec), loc: o.loc };
    };
    return build(0, operands.length - 1, 0);
  }

  private expression(): Expr {
    this.ws();
    const at = this.loc();
    if (this.peek() === '(') {
      this.advance();
      const inner = this.nested('parentheses', at, () => this.condition());
      this.expect(')', "close the parenthesis with ')'");
      return inner;
    }
    if (this.peek() === '!' && this.peek(1) !== '=' && this.peek(1) !== '~') {
      this.advance();
      this.ws();
      if (this.peek() === '(') {
        this.advance();
        const inner = this.nested('parentheses', at, () => this.condition());
        this.expect(')');
        return { type: 'not', expr: inner, loc: at };
      }
      if (this.peek() !== '[') this.fail(`'!' must be followed by a field reference or '(', found ${this.found()}`);
      return { type: 'not', expr: { type: 'truthy', value: this.selector(), loc: at }, loc: at };
    }
    const left = this.rvalue();
    this.ws();
    const opAt = this.loc();
    for (const op of ['==', '!=', '<=', '>=', '<', '>'] as CompareOp[]) {
      if (this.src.startsWith(op, this.pos) && !(op.length === 1 && this.peek(1) === '=')) {
        this.advance(op.length);
        return { type: 'compare', op, left, right: this.rvalue(), loc: opAt };
      }
    }
    if (this.tryConsume('=~')) return { type: 'regex', negate: false, left, right: this.rvalue(), loc: opAt };
    if (this.tryConsume('!~')) return { type: 'regex', negate: true, left, right: this.rvalue(), loc: opAt };
    if (this.atKeyword('in')) {
      this.advance(2);
      return { type: 'in', negate: false, left, right: this.rvalue(), loc: opAt };
    }
    if (this.atKeyword('not')) {
      this.advance(3);
      this.ws();
      if (!this.atKeyword('in')) this.fail(`expected 'in' after 'not', found ${this.found()}`);
      this.advance(2);
      return { type: 'in', negate: true, left, right: this.rvalue(), loc: opAt };
    }
    return { type: 'truthy', value: left, loc: at };
  }

  private rvalue(): RValue {
    this.ws();
    const at = this.loc();
    const c = this.peek();
    if (c === '"' || c === "'") return { type: 'string', value: this.string().value, loc: at };
    if (c === '/') return this.regexp();
    if (c === '[') {
      // a selector [a][b] or an array literal ["a", "b"]
      const m = /^\[\s*(["'\d-]|\])/.exec(this.src.slice(this.pos, this.pos + 8));
      if (m) return this.rarray();
      return this.selector();
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const n = this.number();
      if (n) return { type: 'number', value: (n as { value: number }).value, loc: at };
    }
    this.fail(`expected a value in the condition (field reference, string, number, regex or array), found ${this.found()}`, 'field references are written [field] or [a][b]');
  }

  private selector(): RValue {
    const at = this.loc();
    let text = '';
    while (this.peek() === '[') {
      const end = this.src.indexOf(']', this.pos);
      if (end < 0) this.fail("unterminated field reference: missing ']'");
      const key = this.src.slice(this.pos + 1, end);
      if (key.length === 0 || /[[,]/.test(key)) this.fail(`malformed field reference '[${key}]'`);
      text += `[${key}]`;
      this.advance(end + 1 - this.pos);
    }
    return { type: 'field', ref: text, loc: at };
  }

  private rarray(): RValue {
    const at = this.loc();
    this.advance();
    const items: RValue[] = [];
    this.ws();
    if (this.tryConsume(']')) return { type: 'array', items, loc: at };
    for (;;) {
      items.push(this.rvalue());
      this.ws();
      if (this.tryConsume(',')) continue;
      if (this.tryConsume(']')) break;
      this.fail(`expected ',' or ']' in array, found ${this.found()}`);
    }
    return { type: 'array', items, loc: at };
  }

  private regexp(): RValue {
    const at = this.loc();
    this.advance();
    let source = '';
    for (;;) {
      if (this.eof() || this.peek() === '\n') this.fail('unterminated regular expression', "close it with '/'", at);
      const c = this.peek();
      if (c === '\\' && this.peek(1) === '/') {
        source += '/';
        this.advance(2);
        continue;
      }
      if (c === '\\') {
        source += c + this.peek(1);
        this.advance(2);
        continue;
      }
      if (c === '/') {
        this.advance();
        break;
      }
      source += c;
      this.advance();
    }
    return { type: 'regexp', source, loc: at };
  }
}

function unescape(raw: string): string {
  return raw.replace(/\\(.)/gs, (_m, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '0':
        return '\0';
      case '\\':
      case '"':
      case "'":
        return c;
      default:
        return '\\' + c;
    }
  });
}
