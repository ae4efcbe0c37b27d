import { charset, definePlugin, eventFromJson, opt, Timestamp } from '@pipeline/core';

/**
 * JSON documents: each chunk is one JSON object (or an array of objects, one event each).
 * Invalid JSON becomes an event with the raw text as `message`, tagged `_jsonparsefailure`.
 */
export default definePlugin({
  kind: 'codec',
  name: 'json',
  description: 'Reads and writes one JSON document per chunk.',
  options: {
    charset: opt.charset(),
  },
  create(options, ctx) {
    const cs = charset(options.charset);
    const text = cs.reader();
    const now = () => new Timestamp(ctx.clock.now());
    return {
      decode(data, emit) {
        const s = typeof data === 'string' ? data : text.write(data);
        if (s.trim().length > 0) for (const e of eventFromJson(s, now)) emit(e);
      },
      decodeMessage(data, emit) {
        const s = typeof data === 'string' ? data : cs.decode(data);
        if (s.trim().length > 0) for (const e of eventFromJson(s, now)) emit(e);
      },
      flush(emit) {
        const s = text.end();
        if (s.trim().length > 0) for (const e of eventFromJson(s, now)) emit(e);
      },
      encode(event) {
        return event.json();
      },
    };
  },
});

