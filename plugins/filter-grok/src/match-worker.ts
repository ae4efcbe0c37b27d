/**
 * The worker side of the timeout guard. It holds the same compiled regexes as the filter and runs
 * one field's pattern list per request, writing which patterns matched into shared memory. The
 * filter thread waits on it with a deadline and terminates it when the deadline passes, so a
 * runaway regex costs one event `timeout_millis`, never the pipeline. Protocol: see worker-guard.ts.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { CTL } from './worker-protocol.js';

interface Init {
  entries: { source: string; flags: string; literal?: string }[][];
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  port: MessagePort;
  spin: number;
}

const init = workerData as Init;
const ctl = new Int32Array(init.ctl);
let data = new Uint16Array(init.data);
const entries = init.entries.map((list) => list.map((p) => ({ re: new RegExp(p.source, p.flags), literal: p.literal })));
const CHUNK = 4096;

function readInput(len: number): string {
  if (len <= CHUNK) return String.fromCharCode.apply(null, data.subarray(0, len) as unknown as number[]);
  let s = '';
  for (let i = 0; i < len; i += CHUNK) s += String.fromCharCode.apply(null, data.subarray(i, Math.min(len, i + CHUNK)) as unknown as number[]);
  return s;
}

Atomics.store(ctl, CTL.ready, 1);
Atomics.notify(ctl, CTL.ready);
void parentPort;

for (;;) {
  let spins = 0;
  let state: number;
  while ((state = Atomics.load(ctl, CTL.state)) !== CTL.REQUEST && state !== CTL.RESIZE) {
    if (++spins > init.spin) {
      Atomics.wait(ctl, CTL.state, state, 1000);
      spins = 0;
    }
  }
  if (state === CTL.RESIZE) {
    const msg = receiveMessageOnPort(init.port);
    if (msg) data = new Uint16Array(msg.message as SharedArrayBuffer);
    Atomics.store(ctl, CTL.state, CTL.DONE);
    Atomics.notify(ctl, CTL.state);
    continue;
  }
  const list = entries[ctl[CTL.entry]!]!;
  const input = readInput(ctl[CTL.length]!);
  const breakOnMatch = ctl[CTL.breakOnMatch] === 1;
  for (let i = 0; i < list.length; i++) ctl[CTL.results + i] = 0;
  for (let i = 0; i < list.length; i++) {
    Atomics.add(ctl, CTL.progress, 1);
    const p = list[i]!;
    const ok = (p.literal === undefined || input.indexOf(p.literal) !== -1) && p.re.test(input);
    ctl[CTL.results + i] = ok ? 1 : 0;
    if (ok && breakOnMatch) break;
  }
  Atomics.store(ctl, CTL.state, CTL.DONE);
  Atomics.notify(ctl, CTL.state);
}
