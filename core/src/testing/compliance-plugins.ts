/**
 * The plugins the compliance suite puts around the plugin under test (compliance.ts). They are
 * loaded by the pipeline it runs through `--path.plugins` (a package written at run time that
 * re-exports this module), so the suite needs no other built-in input or output:
 *
 * - `compliance_capture` (output): appends each event it receives as one JSON line to `path`
 *   before its `receive` resolves; while the file `hold` exists it waits before taking a batch,
 *   which keeps events in the queue for the shutdown check;
 * - `compliance_feed` (input): one event per JSON line of standard input (the output checks);
 * - `compliance_idle` (input): produces nothing and runs until stopped, so that a pipeline whose
 *   input under test ends by itself (generator) keeps running for the reload check.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { Event } from '../event/event.js';
import { definePlugin, type InputSink } from '../plugin/define.js';
import { opt } from '../plugin/options.js';

/** How often a held capture looks for its hold file again. */
const HOLD_POLL_MS = 10;

export const captureOutput = definePlugin({
  kind: 'output',
  name: 'compliance_capture',
  description: 'Compliance suite: appends every event as a JSON line to a file.',
  options: {
    path: opt.string({ required: true, description: 'JSON lines file the events are appended to.' }),
    hold: opt.string({ description: 'While this file exists, batches wait.' }),
  },
  create(o) {
    const held = () => o.hold !== undefined && existsSync(o.hold);
    return {
      async receive(events) {
        while (held()) await new Promise((r) => setTimeout(r, HOLD_POLL_MS));
        let text = '';
        for (const e of events) text += e.json() + '\n';
        appendFileSync(o.path, text);
      },
    };
  },
});

export const feedInput = definePlugin({
  kind: 'input',
  name: 'compliance_feed',
  description: 'Compliance suite: one event per JSON line of standard input.',
  options: {},
  create() {
    let finish: (() => void) | undefined;
    return {
      run(sink: InputSink) {
        const input = process.stdin;
        let pending = '';
        return new Promise<void>((resolve) => {
          const onData = (chunk: Buffer) => {
            const text = pending + chunk.toString('utf8');
            const lines = text.split('\n');
            pending = lines.pop()!;
            for (const line of lines) if (line.trim() !== '') sink.push(new Event(JSON.parse(line) as Record<string, unknown>));
            if (!sink.writable) {
              input.pause();
              void sink.whenWritable().then(() => input.resume());
            }
          };
          const end = () => {
            input.off('data', onData);
            input.pause();
            resolve();
          };
          finish = end;
          input.on('data', onData);
          input.once('end', end);
        });
      },
      stop() {
        finish?.();
      },
    };
  },
});

export const idleInput = definePlugin({
  kind: 'input',
  name: 'compliance_idle',
  description: 'Compliance suite: produces nothing until stopped.',
  options: {},
  create() {
    let stopped: () => void;
    const done = new Promise<void>((r) => (stopped = r));
    // a handle, as any real input has one (a socket, a timer): a process with only pending
    // promises left would end on its own, the pipeline still "running"
    let alive: NodeJS.Timeout | undefined;
    return {
      run() {
        alive = setInterval(() => {}, 3_600_000);
        return done;
      },
      stop() {
        clearInterval(alive);
        stopped();
      },
    };
  },
});
