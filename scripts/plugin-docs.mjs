#!/usr/bin/env node
// Writes each plugin package's options table into its README.md, from the plugin's own schema
// (between <!-- options:start --> and <!-- options:end -->; a README is created if missing, and one
// written without the markers is left alone).
//   node scripts/plugin-docs.mjs          update READMEs
//   node scripts/plugin-docs.mjs --check  exit 1 if any README is out of date
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPluginDefinition, optionsTable } from '@pipeline/core';

const check = process.argv.includes('--check');
const START = '<!-- options:start -->';
const END = '<!-- options:end -->';
let stale = 0;
for (const dir of readdirSync('plugins').sort()) {
  const root = join('plugins', dir);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const main = join(root, pkg.main ?? 'index.js');
  if (!existsSync(main)) continue;
  const mod = await import(pathToFileURL(main).href);
  const defs = [...new Set(Object.values(mod).filter(isPluginDefinition))];
  if (defs.length === 0) continue;
  const tables = defs
    .map((d) => `${defs.length > 1 ? `### ${d.kind} \`${d.name}\`\n\n` : ''}${Object.keys(d.options).length ? optionsTable(d.options) : 'This plugin has no options of its own.'}`)
    .join('\n\n');
  const block = `${START}\n${tables}\n\nCommon options of every ${defs[0].kind} plugin (id, add_field, ...) apply too; see the main README.\n${END}`;
  const readme = join(root, 'README.md');
  const current = existsSync(readme) ? readFileSync(readme, 'utf8') : `# ${pkg.name}\n\n${defs[0].description ?? pkg.description ?? ''}\n\n## Options\n\n${START}\n${END}\n`;
  // A README its author wrote without the markers keeps its own table: never append a second one.
  if (!current.includes(START)) continue;
  const next = current.replace(new RegExp(`${START}[\\s\\S]*?${END}`), block);
  if (next !== current) {
    stale++;
    if (check) console.error(`${readme} is out of date: run node scripts/plugin-docs.mjs`);
    else writeFileSync(readme, next);
  }
}
if (check && stale) process.exit(1);
console.log(check ? 'plugin READMEs are up to date' : `updated ${stale} README(s)`);
