#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

main().then(
  (code) => {
    // Let stdout drain before leaving: the stdout output may have written a lot.
    process.stdout.write('', () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
