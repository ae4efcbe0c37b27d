/**
 * Shared memory between the filter thread and its match worker.
 *
 * The filter queues *items* (one field value of one event, for one `match` entry) and the worker
 * runs them in order. Items belong to a *generation* (one per prepared batch, or per event on the
 * per-event path); counters pack generation and item index into one Int32 so that a single atomic
 * load tells both: `(gen << 16) | index`.
 *
 * - REQ     (filter writes) gen | number of items queued; the worker runs items below it.
 * - DONE    gen | number of items finished. The worker advances it with compareExchange, so a
 *           replaced worker that outlives its termination cannot move it.
 * - STARTED gen | index of the item the worker is running (-1: none since the last restart).
 *           STARTED === DONE means that item is in progress.
 * - OWNER   id of the live worker; a worker that finds another id stops.
 * - WAITER  1 while the filter sleeps on DONE (the worker then wakes it).
 * - IDLE    1 while the worker sleeps on REQ (the filter then wakes it).
 *
 * Times (Float64, ms since the epoch with sub-ms precision, written before STARTED/PROGRESS):
 * per worker parity (OWNER & 1) a block of TIME_BLOCK cells: item start, pattern start, event start.
 * Item table (Int32, META_STRIDE per item): start and length in the text buffer (UTF-16 units),
 * entry, event id. Results (Int32, a fixed stride per item): one flag per pattern (1 matched),
 * then per pattern its capture offsets (start, end; -1 when the group took no part).
 */
export const CTL = {
  // read by the worker, written by the filter now and then (one cache line)
  REQ: 0,
  OWNER: 1,
  WAITER: 2,
  // written by the worker, each on its own 64-byte line: the filter spins on DONE, and a worker
  // write to a line the other core is polling costs a cache miss
  DONE: 16,
  STARTED: 32,
  PROGRESS: 33,
  READY: 48,
  IDLE: 49,
  SIZE: 64,
} as const;

export const TIME = { ITEM: 0, PATTERN: 1, EVENT: 2 } as const;
export const TIME_BLOCK = 4;

export const META = { START: 0, LENGTH: 1, ENTRY: 2, EVENT: 3 } as const;
export const META_STRIDE = 4;

/** Items per generation (the index has 16 bits). */
export const MAX_ITEMS = 0xffff;

export function pack(gen: number, index: number): number {
  return (gen << 16) | index;
}

/** The epoch clock both threads share (performance.now alone has a per-thread origin). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

import type { RepeatLoop } from './onig/repeat.js';

/** What the worker needs to know about one pattern. */
export interface WorkerPattern {
  source: string;
  flags: string;
  /** Required literal pre-check (see CompiledGrok.literal). */
  literal?: string;
  /** Group numbers whose offsets go back, in applyCaptureOffsets order. */
  groups: number[];
  /** Repeated groups whose captures the worker fixes before sending them (onig/repeat.ts). */
  repeats?: RepeatLoop[];
}

export interface WorkerInit {
  entries: WorkerPattern[][];
  /** Int32 cells per item in the results buffer. */
  stride: number;
  breakOnMatch: boolean;
  /** timeout_scope => pattern: stamp the time before every pattern, not only every item. */
  patternScope: boolean;
  spin: number;
  owner: number;
  /** Where the worker starts: generation and item index. */
  gen: number;
  index: number;
  ctl: SharedArrayBuffer;
  times: SharedArrayBuffer;
  meta: SharedArrayBuffer;
  text: SharedArrayBuffer;
  results: SharedArrayBuffer;
}
