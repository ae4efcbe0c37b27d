import { readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import micromatch from 'micromatch';

/**
 * Expands the `path` globs to the regular files that exist now, without `exclude`d ones. Each
 * glob is split once (at load) into its literal base directory and the pattern below it; a scan
 * walks only from that base, only as deep as the pattern can reach.
 */
export interface GlobPlan {
  base: string;
  /** Directory levels below `base` a match can be at most (Infinity with `**`). */
  depth: number;
  match: (p: string) => boolean;
}

export function planGlobs(paths: string[], resolve: (p: string) => string): GlobPlan[] {
  return paths.map((raw) => {
    const p = isAbsolute(raw) ? raw : resolve(raw);
    const scan = micromatch.scan(p);
    const base = scan.isGlob ? scan.base || '/' : p;
    const rest = scan.isGlob ? scan.glob : '';
    const depth = !scan.isGlob ? 0 : rest.includes('**') ? Infinity : rest.split('/').length;
    const isMatch = micromatch.matcher(p, { dot: false });
    return { base: scan.isGlob ? base : p, depth, match: scan.isGlob ? isMatch : (q: string) => q === p };
  });
}

export function excluder(exclude: string[]): (path: string) => boolean {
  if (exclude.length === 0) return () => false;
  const ms = exclude.map((g) => micromatch.matcher(g));
  return (p) => {
    const b = basename(p);
    return ms.some((m) => m(b) || m(p));
  };
}

export function discover(plans: GlobPlan[], excluded: (p: string) => boolean): string[] {
  const found = new Set<string>();
  for (const plan of plans) {
    if (plan.depth === 0) {
      try {
        if (statSync(plan.base).isFile() && !excluded(plan.base)) found.add(plan.base);
      } catch {
        /* not there (yet) */
      }
      continue;
    }
    walk(plan.base, plan.depth, (p) => {
      if (plan.match(p) && !excluded(p)) found.add(p);
    });
  }
  return [...found];
}

function walk(dir: string, depth: number, visit: (p: string) => void): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = statSync(p);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isFile) visit(p);
    else if (isDir && depth > 1) walk(p, depth - 1, visit);
  }
}
