/**
 * `pipeline plugin generate`: writes a working third-party plugin package, `pipeline-<kind>-<name>`,
 * that builds with its own tsconfig, passes its own test, packs with `npm pack` and installs
 * with `pipeline plugin install`.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import semver from 'semver';
import { CORE_DIR, CORE_VERSION } from '../registry/install-root.js';
import { SCAFFOLD_KINDS, gitignore, indexTs, packageJson, readme, testTs, tsconfigJson, type Identity, type ScaffoldKind } from './templates.js';

export class ScaffoldError extends Error {}

export interface GenerateOptions {
  kind: string;
  name: string;
  /** Parent directory; the package goes in `<dir>/pipeline-<kind>-<name>`. Default: the working directory. */
  dir?: string;
  /** The core version the plugin targets; its peer range is `^major.minor.0`. Default: this core. */
  coreVersion?: string;
  /** The @pipeline/core directory the package builds against (a `file:` devDependency). Default: this core's. */
  coreDir?: string;
}

export interface GenerateResult {
  /** Absolute path of the package directory. */
  dir: string;
  packageName: string;
  /** Paths written, relative to `dir`. */
  files: string[];
  /** The @pipeline/core the package builds against (its `file:` devDependency). */
  coreDir: string;
}

const NAME = /^[a-z][a-z0-9_]*$/;

export function generatePlugin(opts: GenerateOptions): GenerateResult {
  if (!SCAFFOLD_KINDS.includes(opts.kind as ScaffoldKind))
    throw new ScaffoldError(`cannot generate a '${opts.kind}' plugin: the scaffold makes ${SCAFFOLD_KINDS.join(' or ')} plugins`);
  if (!NAME.test(opts.name)) throw new ScaffoldError(`plugin name '${opts.name}' must be lowercase letters, digits and _, starting with a letter`);
  const version = semver.coerce(opts.coreVersion ?? CORE_VERSION);
  if (version === null) throw new ScaffoldError(`'${opts.coreVersion}' is not a core version`);
  const id: Identity = {
    kind: opts.kind as ScaffoldKind,
    name: opts.name,
    packageName: `pipeline-${opts.kind}-${opts.name}`,
    coreRange: `^${version.major}.${version.minor}.0`,
    coreDir: resolve(opts.coreDir ?? CORE_DIR),
  };
  const dir = resolve(opts.dir ?? process.cwd(), id.packageName);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ScaffoldError(`${dir} exists and is not empty; choose another --dir or name`);
  const files: [string, string][] = [
    ['package.json', packageJson(id)],
    ['tsconfig.json', tsconfigJson()],
    ['.gitignore', gitignore()],
    ['README.md', readme(id)],
    ['src/index.ts', indexTs(id)],
    [`test/${opts.name}.test.ts`, testTs(id)],
  ];
  for (const [rel, text] of files) {
    const path = join(dir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  return { dir, packageName: id.packageName, files: files.map(([rel]) => rel), coreDir: id.coreDir };
}
