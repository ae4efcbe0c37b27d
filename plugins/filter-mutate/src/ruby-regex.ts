/**
 * Translates a Ruby (Onigmo) regular expression, as written in a mutate `gsub`, into a JavaScript
 * RegExp with the same meaning. Ruby's `^` and `$` are line anchors, so the result always carries
 * the `m` flag. Constructs JavaScript cannot express (atomic groups, possessive quantifiers,
 * conditionals, \G) are refused with an error naming them, rather than silently changing meaning.
 */
const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
  ascii: '\\x00-\\x7f',
};

export class RubyRegexError extends Error {}

export function translateRubyRegex(source: string, extraFlags = ''): RegExp {
  let flags = 'm' + extraFlags;
  let out = '';
  let i = 0;
  let inClass = 0;
  // A leading (?i) / (?m) / (?x) group applies to the whole pattern: move it to the flags.
  const lead = /^\(\?([imx]+)\)/.exec(source);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' && !flags.includes('i')) flags += 'i';
      // Ruby's m is JavaScript's s (dot matches newline).
      if (f === 'm' && !flags.includes('s')) flags += 's';
      if (f === 'x') throw new RubyRegexError(`extended mode (?x) is not supported in '${source}'`);
    }
    i = lead[0].length;
  }
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined) throw new RubyRegexError(`trailing backslash in '${source}'`);
      if (inClass) {
        if (n === 'h') out += '0-9a-fA-F';
        else out += c + n;
      } else if (n === 'A') out += '(?<![\\s\\S])';
      else if (n === 'z') out += '(?![\\s\\S])';
      else if (n === 'Z') out += '(?=\\n?(?![\\s\\S]))';
      else if (n === 'h') out += '[0-9a-fA-F]';
      else if (n === 'H') out += '[^0-9a-fA-F]';
      else if (n === 'G') throw new RubyRegexError(`\\G is not supported in '${source}'`);
      else out += c + n;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && source[i + 1] === ':') {
        const end = source.indexOf(':]', i + 2);
        if (end > 0) {
          let name = source.slice(i + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const body = POSIX[name];
          if (body === undefined) throw new RubyRegexError(`unknown POSIX class [:${name}:] in '${source}'`);
          if (neg) throw new RubyRegexError(`negated POSIX class [:^${name}:] is not supported in '${source}'`);
          out += body;
          i = end + 2;
          continue;
        }
      }
      if (c === '[') throw new RubyRegexError(`nested character classes are not supported in '${source}'`);
      if (c === '&' && source[i + 1] === '&') throw new RubyRegexError(`class intersection && is not supported in '${source}'`);
      if (c === ']') inClass = 0;
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = 1;
      out += c;
      i++;
      // A ']' right after '[' or '[^' is a literal in Ruby; JavaScript needs it escaped.
      if (source[i] === '^') {
        out += '^';
        i++;
      }
      if (source[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const n = source[i + 2];
      if (n === '>') throw new RubyRegexError(`atomic groups (?>...) are not supported in '${source}'`);
      if (n === '(') throw new RubyRegexError(`conditional groups are not supported in '${source}'`);
      if (n === '~') throw new RubyRegexError(`absence operator (?~...) is not supported in '${source}'`);
      if (n !== undefined && /[imx-]/.test(n)) throw new RubyRegexError(`inline flags inside the pattern are not supported in '${source}'`);
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && source[i + 1] === '+') {
      throw new RubyRegexError(`possessive quantifiers are not supported in '${source}'`);
    }
    out += c;
    i++;
  }
  try {
    return new RegExp(out, flags.includes('g') ? flags : flags + 'g');
  } catch (e) {
    throw new RubyRegexError(`invalid regular expression '${source}': ${(e as Error).message}`);
  }
}
