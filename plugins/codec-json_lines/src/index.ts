import { charset, definePlugin, eventFromJson, opt, Timestamp, type Event } from '@pipeline/core';

/**
 * Newline-delimited JSON: each line one event (its `@timestamp` read back as the event's
 * timestamp); encoding writes the event as one JSON line.
 */
export default definePlugin({
  kind: 'codec',
  name: 'json_lines',
  description: 'Reads and writes one JSON object per line.',
  options: {
    delimiter: opt.string({ default: '\n', description: 'Line separator.' }),
    charset: opt.charset(),
  },
  create(options, ctx) {
    const delimiter = options.delimiter.replace(/\\n/g, '\n');
    const cs = charset(options.charset);
    const text = cs.reader();
    const now = () => new Timestamp(ctx.clock.now());
    let pending = '';
    return {
      decode(data, emit) {
        const chunk = pending + (typeof data === 'string' ? data : text.write(data));
        let start = 0;
        for (;;) {
          const at = chunk.indexOf(delimiter, start);
          if (at < 0) break;
          const s = chunk.slice(start, at);
          if (s.trim().length > 0) for (const e of eventFromJson(s, now)) emit(e);
          start = at + delimiter.length;
        }
        pending = chunk.slice(start);
      },
      decodeMessage(data, emit) {
        const chunk = typeof data === 'string' ? data : cs.decode(data);
        let start = 0;
        for (;;) {
          const at = chunk.indexOf(delimiter, start);
          const s = at < 0 ? chunk.slice(start) : chunk.slice(start, at);
          if (s.trim().length > 0) for (const e of eventFromJson(s, now)) emit(e);
          if (at < 0) break;
          start = at + delimiter.length;
        }
      },
      ...(delimiter === '\n'
        ? {
            decodeLine(data: Buffer | string, emit: (e: Event) => void) {
              const line = typeof data === 'string' ? data : cs.decode(data);
              if (line.trim().length > 0) for (const e of eventFromJson(line, now)) emit(e);
            },
          }
        : {}),
      flush(emit) {
        const rest = pending + text.end();
        pending = '';
        if (rest.trim().length > 0) for (const e of eventFromJson(rest, now)) emit(e);
      },
      encode(event) {
        return event.json() + delimiter;
      },
    };
  },
});
