/**
 * The worker side of the timeout guard: it runs queued items (one field value against one entry's
 * pattern list) in order and writes back which pattern matched and its capture offsets, so the
 * filter thread never runs the regex again. The filter thread watches the start time of the item
 * (or pattern) in progress and terminates this worker when it overruns timeout_millis; a fresh
 * worker then carries on with the next item. Protocol and layout: worker-protocol.ts.
 */
import { workerData } from 'node:worker_threads';
import { RepeatFixer } from './onig/repeat.js';
import { CTL, META, META_STRIDE, TIME, TIME_BLOCK, pack, sharedNow, type WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const ctl = new Int32Array(init.ctl);
const times = new Float64Array(init.times);
const meta = new Int32Array(init.meta);
const text = Buffer.from(init.text);
const results = new Int32Array(init.results);
const me = init.owner;
const tb = (me & 1) * TIME_BLOCK;
const { stride, breakOnMatch, patternScope, spin } = init;

interface Runner {
  re: RegExp;
  literal: string | undefined;
  groups: Int32Array;
  /** Where this pattern's offsets start within an item's results. */
  offset: number;
  /** Captures of repeated groups, fixed to Oniguruma's values before they go back. */
  repeat: RepeatFixer | undefined;
}

// `d` (hasIndices) gives each group's offsets: the filter cuts the captures from its own string.
// Compiled on first use: the shared guard holds every pattern of every grok filter, and most are
// never handed over (a worker replaced after a timeout starts at once, too).
const compiled: (Runner[] | undefined)[] = new Array(init.entries.length);
function runners(e: number): Runner[] {
  let list = compiled[e];
  if (list === undefined) {
    const src = init.entries[e]!;
    let offset = src.length;
    list = src.map((p) => {
      const repeat = p.repeats !== undefined ? new RepeatFixer(p.repeats, p.source, p.flags) : undefined;
      const r = { re: new RegExp(p.source, p.flags + 'd'), literal: p.literal, groups: Int32Array.from(p.groups), offset, repeat };
      offset += 2 * p.groups.length;
      return r;
    });
    compiled[e] = list;
  }
  return list;
}

/** Runs item j of generation g, writing its results; returns the item's event id. */
function runItem(g: number, j: number, lastEvent: number): number {
  const m = j * META_STRIDE;
  const ev = meta[m + META.EVENT]!;
  const now = sharedNow();
  times[tb + TIME.ITEM] = now;
  times[tb + TIME.PATTERN] = now;
  if (ev !== lastEvent) times[tb + TIME.EVENT] = now;
  Atomics.store(ctl, CTL.STARTED, pack(g, j));
  const start = meta[m + META.START]!;
  const input = text.toString('utf16le', start * 2, (start + meta[m + META.LENGTH]!) * 2);
  const list = runners(meta[m + META.ENTRY]!);
  const base = j * stride;
  for (let i = 0; i < list.length; i++) results[base + i] = 0;
  let ran = false;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (p.literal !== undefined && input.indexOf(p.literal) === -1) continue;
    if (patternScope && ran) {
      // each pattern's own time limit starts now (the item's start covers the first regex run)
      times[tb + TIME.PATTERN] = sharedNow();
      Atomics.add(ctl, CTL.PROGRESS, 1);
    }
    ran = true;
    const found = p.re.exec(input);
    // replaced while matching (a timeout): this item's results are no longer ours to write
    if (Atomics.load(ctl, CTL.OWNER) !== me) return ev;
    if (found === null) continue;
    results[base + i] = 1;
    const indices = found.indices!;
    if (p.repeat !== undefined) p.repeat.fixIndices(input, indices as unknown as ([number, number] | undefined)[]);
    const groups = p.groups;
    let q = base + p.offset;
    for (let k = 0; k < groups.length; k++, q += 2) {
      const span = indices[groups[k]!];
      if (span === undefined) {
        results[q] = -1;
        results[q + 1] = -1;
      } else {
        results[q] = span[0];
        results[q + 1] = span[1];
      }
    }
    if (breakOnMatch) break;
  }
  return ev;
}

Atomics.store(ctl, CTL.READY, 1);
Atomics.notify(ctl, CTL.READY);

let gen = init.gen;
let next = init.index;
let lastEvent = -1;
while (Atomics.load(ctl, CTL.OWNER) === me) {
  const req = Atomics.load(ctl, CTL.REQ);
  const g = req >>> 16;
  if (g !== gen) {
    gen = g;
    next = 0;
    lastEvent = -1;
  }
  if (next >= (req & 0xffff)) {
    // idle: spin a little (the next batch usually follows at once), then sleep until woken
    let spins = 0;
    while (Atomics.load(ctl, CTL.REQ) === req && ++spins < spin);
    if (spins >= spin) {
      Atomics.store(ctl, CTL.IDLE, 1);
      if (Atomics.load(ctl, CTL.REQ) === req) Atomics.wait(ctl, CTL.REQ, req, 1000);
      Atomics.store(ctl, CTL.IDLE, 0);
    }
    continue;
  }
  lastEvent = runItem(g, next, lastEvent);
  const before = pack(g, next);
  if (Atomics.compareExchange(ctl, CTL.DONE, before, pack(g, next + 1)) !== before) {
    // a new generation began (or this worker was replaced, or the filter marked this item timed
    // out) meanwhile: this item is no longer in progress; go on from where DONE stands
    Atomics.compareExchange(ctl, CTL.STARTED, before, -1);
    const d = Atomics.load(ctl, CTL.DONE);
    if (d >>> 16 === g && (d & 0xffff) > next) next = d & 0xffff;
    continue;
  }
  next++;
  if (Atomics.load(ctl, CTL.WAITER) === 1) Atomics.notify(ctl, CTL.DONE);
}
