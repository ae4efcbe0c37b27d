#!/usr/bin/env node
// One pipeline process of the scale-out benchmark: runs the config given as argument until its
// inputs finish (shipper) or SIGTERM (indexer), then prints its CPU time in ms as JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadPipeline } from '../../../core/dist/src/runtime/load.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../../../core/dist/src/runtime/settings.js';

const data = mkdtempSync(join(tmpdir(), 'pipeline-scaleout-'));
const settings = mergeSettings(DEFAULT_SETTINGS, { 'config.string': process.argv[2], 'path.data': data, 'pipeline.workers': 1, 'pipeline.batch.size': 500 });
const p = await loadPipeline({ settings, workingDir: process.cwd(), logger: pino({ level: process.env.BENCH_LOG ?? 'warn' }) });
process.once('SIGTERM', () => void p.stop());
p.start();
process.send?.({ started: true });
await p.done;
const u = process.cpuUsage();
process.send?.({ cpuMs: (u.user + u.system) / 1000 });
rmSync(data, { recursive: true, force: true });
process.exit(0);
