import { charset, compileTemplate, definePlugin, Event, opt, Timestamp } from '@pipeline/core';

/**
 * Line-oriented text: decoding splits on `delimiter` and keeps a partial last line until more
 * data or the end of the stream; encoding writes `format` (or the event's text form) plus the delimiter.
 */
export default definePlugin({
  kind: 'codec',
  name: 'line',
  description: 'Reads and writes newline-delimited text.',
  options: {
    delimiter: opt.string({ default: '\n', description: 'Line separator.' }),
    format: opt.string({ description: 'sprintf format used when encoding; default: the event as text.' }),
    charset: opt.charset(),
  },
  create(options, ctx) {
    const delimiter = options.delimiter.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    const format = options.format === undefined ? undefined : compileTemplate(options.format);
    const cs = charset(options.charset);
    const text = cs.reader();
    let pending = '';
    const make = (message: string) => new Event({ message }, new Timestamp(ctx.clock.now()));
    return {
      decode(data, emit) {
        const chunk = typeof data === 'string' ? data : text.write(data);
        let start = 0;
        let buffered = pending;
        for (;;) {
          const at = chunk.indexOf(delimiter, start);
          if (at < 0) break;
          emit(make(buffered + chunk.slice(start, at)));
          buffered = '';
          start = at + delimiter.length;
        }
        pending = buffered + chunk.slice(start);
      },
      decodeMessage(data, emit) {
        // a whole message: every part is a line, the last one too; nothing carried over
        const chunk = typeof data === 'string' ? data : cs.decode(data);
        let start = 0;
        for (;;) {
          const at = chunk.indexOf(delimiter, start);
          if (at < 0) break;
          emit(make(chunk.slice(start, at)));
          start = at + delimiter.length;
        }
        if (start < chunk.length) emit(make(start === 0 ? chunk : chunk.slice(start)));
      },
      ...(delimiter === '\n' ? { decodeLine: (line: Buffer | string, emit: (e: Event) => void) => emit(make(typeof line === 'string' ? line : cs.decode(line))) } : {}),
      flush(emit) {
        const rest = pending + text.end();
        pending = '';
        if (rest.length > 0) emit(make(rest));
      },
      encode(event) {
        return (format ? format.render(event.fields) : event.toString()) + delimiter;
      },
    };
  },
});
