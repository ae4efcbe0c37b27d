/**
 * Rule file patterns, expanded like Perl's glob() that sec uses for --conf: `*`, `?`, `[...]`
 * and `{a,b}` per path segment, results sorted, a pattern without wildcards kept as is (so a
 * missing file is reported when it is opened).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += '[' + seg.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '{') {
      const end = seg.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += '(?:' + seg.slice(i + 1, end).split(',').map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*/g, '[^/]*')).join('|') + ')';
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  // like the shell, a leading dot is matched only explicitly
  return new RegExp(`^${seg.startsWith('.') ? '' : '(?!\\.)'}${re}$`);
}

const MAGIC = /[*?[{]/;

export function expandGlob(pattern: string): string[] {
  if (!MAGIC.test(pattern)) return [pattern];
  const abs = pattern.startsWith('/');
  const segs = pattern.split('/').filter((s, i) => s.length || i === 0);
  let paths = [abs ? '/' : '.'];
  let first = true;
  for (const seg of segs) {
    if (seg === '' && abs && first) {
      first = false;
      continue;
    }
    first = false;
    const next: string[] = [];
    if (!MAGIC.test(seg)) {
      for (const p of paths) next.push(p === '.' && !abs ? seg : join(p, seg));
    } else {
      const re = segmentRegex(seg);
      for (const p of paths) {
        let names: string[];
        try {
          names = readdirSync(p);
        } catch {
          continue;
        }
        for (const n of names.sort()) if (re.test(n)) next.push(p === '.' && !abs ? n : join(p, n));
      }
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  }).sort();
}
