/**
 * Lets a long wait on the guard notice SIGTERM and SIGINT. While the pipeline thread sleeps in
 * `Atomics.wait` (a runaway line can take timeout_millis, 30 s by default), its event loop cannot
 * run the process's signal handlers; Node delivers signals to no worker either. So a small worker
 * thread listens for them itself (through libuv's signal handle, which every event loop of the
 * process receives) and raises a flag in shared memory; the wait reads it between slices and gives
 * up at once, and the pipeline's own handler then runs as soon as its event loop turns.
 *
 * The watcher is armed only while a wait has already lasted one slice, and only for the signals the
 * process has handlers for (so it never swallows a signal that would have ended the process).
 * If the runtime lacks the handle (a Node without `process.binding('signal_wrap')`), nothing is
 * armed and a signal is seen when the wait ends, as before.
 */
import { Worker } from 'node:worker_threads';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const flag = new Int32Array(new SharedArrayBuffer(4));
let watcher: Worker | undefined;
let unavailable = false;
let armed = '';

// CommonJS source of the watcher (eval'd: no file to resolve). It exits when the process does.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData);
let Signal;
try {
  process.noDeprecation = true;
  Signal = process.binding('signal_wrap').Signal;
} catch {}
const { constants } = require('node:os');
const handles = new Map();
parentPort.postMessage(Signal !== undefined);
parentPort.on('message', (names) => {
  for (const [name, h] of handles) if (!names.includes(name)) { h.close(); handles.delete(name); }
  for (const name of names) {
    if (handles.has(name) || Signal === undefined) continue;
    const h = new Signal();
    h.onsignal = (n) => { Atomics.store(flag, 0, n); };
    h.start(constants.signals[name]);
    handles.set(name, h);
  }
});
`;

/** True once SIGTERM or SIGINT reached the watcher (the process is shutting down). */
export function signalSeen(): boolean {
  return flag[0] !== 0;
}

/** Listens for the handled shutdown signals from now on (called when a wait turns out long). */
export function armSignalWatch(): void {
  if (unavailable) return;
  const names = SIGNALS.filter((s) => process.listenerCount(s) > 0).join(',');
  if (names === armed) return;
  armed = names;
  if (watcher === undefined) {
    try {
      watcher = new Worker(SOURCE, { eval: true, workerData: flag.buffer, stdout: false, stderr: false });
    } catch {
      unavailable = true;
      return;
    }
    watcher.unref();
    watcher.once('message', (ok: boolean) => {
      if (!ok) unavailable = true;
    });
    watcher.on('error', () => {
      unavailable = true;
    });
  }
  watcher.postMessage(names === '' ? [] : names.split(','));
}

/** Stops listening (the long wait is over); the process's own handlers see every signal anyway. */
export function disarmSignalWatch(): void {
  if (watcher === undefined || armed === '') return;
  armed = '';
  watcher.postMessage([]);
}
