/**
 * Ruby's gsub replacement strings: `\1`..`\9` insert groups, `\0` and `\&` the whole match,
 * `\k<name>` a named group, `` \` `` and `\'` the text before and after, `\\` one backslash.
 * Anything else, `$` included, is literal (JavaScript's `$1` forms mean nothing in Ruby).
 * A replacement compiles once into a function usable with String.prototype.replace.
 */
type Part = string | ((m: string, groups: (string | undefined)[], named: Record<string, string> | undefined, pre: string, post: string) => string);

export type Replacer = (match: string, ...args: unknown[]) => string;

export function compileRubyReplacement(text: string): Replacer | string {
  if (!text.includes('\\')) return text; // used through a function below, so `$` stays literal
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const n = text[i + 1];
    if (c !== '\\' || n === undefined) {
      lit += c;
      continue;
    }
    if (n >= '0' && n <= '9') {
      const g = Number(n);
      if (lit) parts.push(lit), (lit = '');
      parts.push(g === 0 ? (m) => m : (_m, groups) => groups[g - 1] ?? '');
      i++;
    } else if (n === '&') {
      if (lit) parts.push(lit), (lit = '');
      parts.push((m) => m);
      i++;
    } else if (n === '`') {
      if (lit) parts.push(lit), (lit = '');
      parts.push((_m, _g, _n, pre) => pre);
      i++;
    } else if (n === "'") {
      if (lit) parts.push(lit), (lit = '');
      parts.push((_m, _g, _n, _pre, post) => post);
      i++;
    } else if (n === 'k' && text[i + 2] === '<') {
      const end = text.indexOf('>', i + 3);
      if (end < 0) {
        lit += c;
        continue;
      }
      const name = text.slice(i + 3, end);
      if (lit) parts.push(lit), (lit = '');
      parts.push((_m, _g, named) => named?.[name] ?? '');
      i = end;
    } else if (n === '\\') {
      lit += '\\';
      i++;
    } else {
      lit += c;
    }
  }
  if (lit) parts.push(lit);
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  return (match: string, ...args: unknown[]) => {
    // replace() passes: match, p1..pn, offset, whole string, [named groups]
    let named: Record<string, string> | undefined;
    let end = args.length;
    if (typeof args[end - 1] === 'object' && args[end - 1] !== null) {
      named = args[end - 1] as Record<string, string>;
      end--;
    }
    const whole = args[end - 1] as string;
    const offset = args[end - 2] as number;
    const groups = args.slice(0, end - 2) as (string | undefined)[];
    const pre = whole.slice(0, offset);
    const post = whole.slice(offset + match.length);
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(match, groups, named, pre, post);
    return out;
  };
}

/** Replaces every match of `re` (a global RegExp) in `s` with a compiled Ruby replacement. */
export function rubyGsub(s: string, re: RegExp, replacement: Replacer | string): string {
  re.lastIndex = 0;
  return typeof replacement === 'string' ? s.replace(re, () => replacement) : s.replace(re, replacement);
}
