import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory of @pipeline/core's own package (where its package.json is). */
export const CORE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const CORE_VERSION: string = (JSON.parse(readFileSync(join(CORE_DIR, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The installation root: the nearest ancestor of core whose node_modules holds @pipeline/core
 * (the repository root in a checkout, the application folder when installed). `pipelines/`,
 * `config/` and built-in plugins are found there.
 */
export const INSTALL_ROOT: string = (() => {
  let dir = dirname(CORE_DIR);
  for (;;) {
    if (existsSync(join(dir, 'node_modules', '@pipeline', 'core'))) return dir;
    const up = dirname(dir);
    if (up === dir) return dirname(CORE_DIR);
    dir = up;
  }
})();

/** Resolves a path named in a config: the working directory first, then the installation. */
export function resolveConfigPath(p: string, workingDir: string = process.cwd()): string {
  const fromCwd = resolve(workingDir, p);
  if (existsSync(fromCwd)) return fromCwd;
  const fromInstall = resolve(INSTALL_ROOT, p);
  return existsSync(fromInstall) ? fromInstall : fromCwd;
}
