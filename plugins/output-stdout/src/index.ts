import { definePlugin } from '@pipeline/core';

/** Writes events to standard output with its codec (rubydebug by default, as Logstash). */
export default definePlugin({
  kind: 'output',
  name: 'stdout',
  description: 'Prints events to standard output.',
  defaultCodec: 'rubydebug',
  options: {},
  create(_options, ctx) {
    const encoder = ctx.codec.create();
    return {
      receive(events) {
        let text = '';
        for (const e of events) text += encoder.encode(e);
        if (process.stdout.write(text)) return;
        return new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      },
    };
  },
});
