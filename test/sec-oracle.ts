/**
 * The real sec 2.9.1 on a virtual clock (shared/sec-oracle), for the root tests that use it as an
 * oracle (plugins-sdk/sec-rules, e2e/replay). correlate-sec's own differential tests have the same
 * helper in plugins/correlate-sec/test/oracle-util.ts (a package's tests cannot import these).
 *
 * Why a patched copy: vclock-run.mjs rewrites its clock file in place (truncate, then write), and
 * sec-vclock.pl reads the REAL clock when it finds the file empty. sec calls time() in its main loop,
 * so on a loaded machine it now and then runs a timer pass at today's date, which expires every
 * window (CI saw openvpn.sec lose its 3-in-300 s alert that way). The copy writes the clock to a
 * temporary file and renames it over the old one, which a reader never sees half done.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'); // runs from test/dist

/** The oracle's folder: shared/ beside the working tree, /work/shared, or $SEC_ORACLE. A missing one is a failure. */
export function oracleDir(): string {
  const candidates = [...(process.env.SEC_ORACLE ? [process.env.SEC_ORACLE] : []), resolve(REPO, '../shared/sec-oracle'), '/work/shared/sec-oracle'];
  const found = candidates.find((d) => existsSync(join(d, 'vclock-run.mjs')));
  assert.ok(found, `the SEC oracle (shared/sec-oracle) is missing; looked in:\n  ${candidates.join('\n  ')}`);
  return found;
}

/** Copies the oracle into `dir` with the clock written atomically; returns the runner's path. */
export function atomicOracle(dir: string): string {
  const src = oracleDir();
  copyFileSync(join(src, 'sec-vclock.pl'), join(dir, 'sec-vclock.pl'));
  let runner = readFileSync(join(src, 'vclock-run.mjs'), 'utf8');
  runner = runner.replace('import { readFileSync, writeFileSync,', 'import { renameSync, readFileSync, writeFileSync,');
  let swaps = 0;
  runner = runner.replace(/^( *)writeFileSync\(clockFile, `\$\{now\}\\n`\);/gm, (_m, indent: string) => {
    swaps++;
    return `${indent}writeFileSync(clockFile + '.tmp', \`\${now}\\n\`); renameSync(clockFile + '.tmp', clockFile);`;
  });
  assert.equal(swaps, 2, 'the oracle runner changed: the atomic clock patch no longer applies');
  assert.match(runner, /import \{ renameSync,/);
  writeFileSync(join(dir, 'vclock-run.mjs'), runner);
  return join(dir, 'vclock-run.mjs');
}
