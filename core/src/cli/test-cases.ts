import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import pino from 'pino';
import type { Settings } from '../runtime/settings.js';
import { runCaseFile, type CaseResult, type FileResult } from '../testcases/run.js';
import { show } from '../testcases/match.js';

/**
 * `pipeline test FILE...`: runs test-case files (testcases/format.ts) against their configs'
 * filter and correlate sections, on event time, and reports as a test runner does: a line per
 * case, the first mismatching field of a failing case, a count; exit 0 when every case passed,
 * 1 otherwise. `--json` prints one JSON object instead. A directory stands for the .yml/.yaml
 * files under it.
 */
export function caseFiles(args: string[], workingDir: string): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) files.push(p);
    }
  };
  for (const a of args) {
    const p = resolve(workingDir, a);
    if (!existsSync(p)) missing.push(a);
    else if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, missing };
}

export interface TestReport {
  ok: boolean;
  passed: number;
  failed: number;
  files: FileResult[];
}

export async function runTests(args: string[], settings: Settings, workingDir = process.cwd()): Promise<TestReport> {
  const { files, missing } = caseFiles(args, workingDir);
  const level = String(settings['log.level'] ?? 'error');
  // plugins' warnings go to stderr; the report is stdout's
  const logger = pino({ level: level === 'info' ? 'error' : level }, pino.destination(2));
  const results: FileResult[] = missing.map((m) => ({ file: m, error: `${m}: no such file or directory`, cases: [] }));
  for (const f of files) results.push(await runCaseFile(f, { settings, workingDir, logger }));
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    if (r.error) failed++;
    for (const c of r.cases) c.ok ? passed++ : failed++;
  }
  if (files.length === 0 && missing.length === 0) failed++;
  return { ok: failed === 0, passed, failed, files: results };
}

function caseLines(c: CaseResult, file: string): string[] {
  if (c.ok) return [`ok    ${c.name}`];
  const out = [`FAIL  ${c.name}  (${file}:${c.line})`];
  if (c.error) out.push(`      error: ${c.error}`);
  const m = c.mismatch;
  if (m) {
    out.push(`      ${m.message}`);
    if (m.event) out.push(`      ${m.list}[${m.index}] was ${show(m.event, 600).replace(/ \(map\)$/, '')}`);
  }
  return out;
}

export function formatReport(r: TestReport, workingDir = process.cwd()): string {
  const lines: string[] = [];
  for (const f of r.files) {
    const name = relative(workingDir, f.file) || f.file;
    lines.push(`${name}${f.config ? `  (config ${relative(workingDir, f.config) || f.config})` : ''}`);
    if (f.error) lines.push(...f.error.split('\n').map((l) => `  ${l}`));
    for (const c of f.cases) lines.push(...caseLines(c, name).map((l) => `  ${l}`));
  }
  if (r.files.length === 0) lines.push('no test-case files given');
  lines.push(`${r.passed} passed, ${r.failed} failed`);
  return lines.join('\n') + '\n';
}

export async function testCommand(args: string[], settings: Settings, json: boolean): Promise<number> {
  const report = await runTests(args, settings);
  process.stdout.write(json ? JSON.stringify(report) + '\n' : formatReport(report));
  return report.ok ? 0 : 1;
}
