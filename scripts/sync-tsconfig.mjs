// Writes the root tsconfig.json (a solution file) with a reference to every workspace package,
// so `tsc -b` builds them all in dependency order. Run after adding a package.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
const dirs = ['core', ...['libs', 'plugins'].flatMap((top) => (existsSync(top) ? readdirSync(top).sort().map((d) => `${top}/${d}`) : [])), 'test'].filter((d) => existsSync(`${d}/tsconfig.json`));
const config = { files: [], references: dirs.map((path) => ({ path })) };
writeFileSync('tsconfig.json', JSON.stringify(config, null, 2) + '\n');
console.log(`tsconfig.json: ${dirs.length} projects`);
