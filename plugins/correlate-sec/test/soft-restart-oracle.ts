/**
 * The real sec 2.9.1 (shared/sec-oracle's sec-vclock.pl, on a virtual clock) driven step by step,
 * with soft restarts: rule files rewritten, then SIGABRT sent, as an operator does. And our engine
 * fed the same steps, a soft restart being a new engine on the rewritten files adopting the old
 * one's state (what the plugin does on a reload). Both write with `write out.txt`.
 *
 * Steps: a line; `{ at: N }` sets the clock to BASE+N; `{ abrt: { file: text } }` rewrites the files
 * (with a later mtime, which is what sec looks at) and restarts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecEngine, type Handover } from '../src/engine.js';
import { readRuleFile, type RuleError } from '../src/rules.js';
import { toBytes } from '../src/bytes.js';
import { BASE, oracleDir } from './oracle-util.js';

export type Step = string | { at: number } | { abrt: Record<string, string> };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, test: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`the real sec: timed out waiting for ${what}`);
    await sleep(5);
  }
}

function rewrite(file: string, text: string): void {
  const before = existsSync(file) ? statSync(file).mtimeMs / 1000 : 0;
  writeFileSync(file, text);
  // sec reloads a file whose mtime changed: make sure it did, even within the same second
  const t = Math.max(Math.floor(before) + 2, Math.floor(Date.now() / 1000));
  utimesSync(file, t, t);
}

/** The real sec on `files` (name -> text, loaded in this order) and `steps`, in the empty directory `work`: out.txt. */
export async function realSecSteps(work: string, files: Record<string, string>, steps: Step[], secArgs: string[] = []): Promise<string> {
  mkdirSync(work, { recursive: true });
  const clock = join(work, '.vclock');
  const ack = join(work, '.ack');
  const sync = join(work, '.sync.sec');
  let now = BASE;
  const setClock = (t: number) => {
    writeFileSync(clock + '.tmp', `${t}\n`);
    renameSync(clock + '.tmp', clock);
  };
  setClock(now);
  writeFileSync(ack, '');
  writeFileSync(sync, `type=Single\nptype=RegExp\npattern=^__SYNC__ (\\d+)$\ncontinue=EndMatch\ndesc=sync $1\naction=write ${ack} $1\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
  const args = [join(oracleDir(), 'sec-vclock.pl'), `--conf=${sync}`, ...Object.keys(files).map((f) => `--conf=${join(work, f)}`), '--input=-', '--notail', '--poll-timeout=0.01', '--cleantime=1', '--log=sec.log', '--debug=6', ...secArgs];
  const env = { ...process.env, SEC_VCLOCK: clock, TZ: 'UTC', PERL_HASH_SEED: '0', PERL_PERTURB_KEYS: '0' };
  const child = spawn('perl', args, { cwd: work, env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  const log = () => (existsSync(join(work, 'sec.log')) ? readFileSync(join(work, 'sec.log'), 'utf8') : '');
  let n = 0;
  const barrier = async () => {
    const k = String(++n);
    child.stdin.write(`__SYNC__ ${k}\n`);
    await until(`barrier ${k} (${stderr})`, () => readFileSync(ack, 'utf8').split('\n').includes(k) || child.exitCode !== null);
    assert.equal(child.exitCode, null, `the real sec exited: ${stderr}`);
  };
  try {
    await barrier();
    let restarts = 0;
    for (const s of steps) {
      if (typeof s === 'string') child.stdin.write(s + '\n');
      else if ('at' in s) {
        await barrier();
        now = BASE + s.at;
        setClock(now);
        await barrier();
        await barrier();
      } else {
        await barrier();
        for (const [name, text] of Object.entries(s.abrt)) rewrite(join(work, name), text);
        const seen = log().split('SIGABRT received').length;
        child.kill('SIGABRT');
        await until('the soft restart', () => log().split('SIGABRT received').length > seen);
        restarts++;
        await barrier();
        await barrier();
      }
    }
    await barrier();
    assert.equal(log().split('SIGABRT received: soft restart of SEC').length - 1, restarts, 'every SIGABRT was a soft restart');
  } finally {
    child.stdin.end();
  }
  assert.equal(await exited, 0, stderr);
  return existsSync(join(work, 'out.txt')) ? readFileSync(join(work, 'out.txt'), 'latin1') : '';
}

/** Our engine on the same files and steps, in the empty directory `work`: out.txt and each restart's handover. */
export function ourEngineSteps(work: string, files: Record<string, string>, steps: Step[], intevents = false): { out: string; handovers: Handover[] } {
  process.env.TZ = 'UTC';
  mkdirSync(work, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
  let now = BASE;
  const load = () => {
    const errors: RuleError[] = [];
    const loaded = Object.keys(files).map((f) => readRuleFile(join(work, f), {}, errors)!);
    assert.deepEqual(errors, []);
    const e = new SecEngine(loaded, { now: () => now, workingDir: work }, { inputName: '-', intevents });
    return e;
  };
  let engine = load();
  engine.start();
  const handovers: Handover[] = [];
  for (const s of steps) {
    if (typeof s === 'string') engine.input(toBytes(s));
    else if ('at' in s) {
      now = BASE + s.at;
      engine.tick();
      engine.drain();
    } else {
      for (const [name, text] of Object.entries(s.abrt)) writeFileSync(join(work, name), text);
      const next = load();
      engine.tick();
      engine.drain();
      handovers.push(next.adopt(engine));
      engine = next;
      engine.start();
    }
  }
  engine.shutdown();
  return { out: existsSync(join(work, 'out.txt')) ? readFileSync(join(work, 'out.txt'), 'latin1') : '', handovers };
}
