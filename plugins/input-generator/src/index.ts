import { hostname } from 'node:os';
import { definePlugin, Event, opt, Timestamp } from '@pipeline/core';

/**
 * Generates events, as Logstash's generator input: `count` times over `lines` (or `message`),
 * each with a `sequence` number and the machine's `host` name. count 0 runs until stopped.
 */
export default definePlugin({
  kind: 'input',
  name: 'generator',
  description: 'Generates test events.',
  defaultCodec: 'plain',
  options: {
    count: opt.number({ default: 0, description: 'How many times to emit (each line once per round); 0 = until stopped.' }),
    message: opt.string({ default: 'Hello world!', description: 'The message of each event.' }),
    lines: opt.strings({ description: 'Several messages, emitted in turn; overrides message.' }),
    threads: opt.number({ default: 1, description: 'Accepted for compatibility.' }),
  },
  create(options, ctx) {
    const lines = options.lines && options.lines.length > 0 ? options.lines : [options.message];
    const host = hostname();
    let stopped = false;
    return {
      async run(sink) {
        for (let round = 0; options.count === 0 || round < options.count; round++) {
          for (const message of lines) {
            if (stopped) return;
            if (!sink.writable) await sink.whenWritable();
            sink.push(new Event({ message, sequence: round, host }, new Timestamp(ctx.clock.now())));
          }
          // let timers and I/O run now and then when unbounded
          if ((round & 0x3fff) === 0x3fff) await new Promise((r) => setImmediate(r));
        }
      },
      stop() {
        stopped = true;
      },
    };
  },
});
