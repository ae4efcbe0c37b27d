import { hostname } from 'node:os';
import { definePlugin, opt, type Event, type InputSink } from '@pipeline/core';

/**
 * Generates events, as Logstash's generator input: `count` times over `lines` (or `message`),
 * each with a `sequence` number and the machine's `host` name. count 0 runs until stopped.
 * Each line goes through the codec as one message, as Logstash's generator decodes each line:
 * with `codec => json` a line is a JSON document, with `line { delimiter => "|" }` it splits.
 */
export default definePlugin({
  kind: 'input',
  name: 'generator',
  description: 'Generates test events.',
  defaultCodec: 'plain',
  codecInput: 'message',
  options: {
    count: opt.number({ default: 0, description: 'How many times to emit (each line once per round); 0 = until stopped.' }),
    message: opt.string({ default: 'Hello world!', description: 'The message of each event.' }),
    lines: opt.strings({ description: 'Several messages, emitted in turn; overrides message.' }),
    threads: opt.number({ default: 1, description: 'Accepted for compatibility.' }),
  },
  create(options, ctx) {
    const lines = options.lines && options.lines.length > 0 ? options.lines : [options.message];
    const host = hostname();
    const decoder = ctx.codec.create();
    let stopped = false;
    // one emit for the run: the round and sink it needs are read from these, not bound per line
    let round = 0;
    let target: InputSink;
    const emit = (e: Event) => {
      const f = e.fields;
      if (f.sequence === undefined) f.sequence = round;
      if (f.host === undefined) f.host = host;
      target.push(e);
    };
    return {
      async run(sink) {
        target = sink;
        for (round = 0; options.count === 0 || round < options.count; round++) {
          for (const message of lines) {
            if (stopped) return;
            if (!sink.writable) await sink.whenWritable();
            decoder.decodeMessage(message, emit);
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
