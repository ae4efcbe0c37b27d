import { charset, compileTemplate, definePlugin, Event, opt, Timestamp } from '@pipeline/core';

/**
 * Plain text with no delimiting: each chunk an input hands over is one event's message (a UDP
 * datagram, a line of a file, or on a stream input such as tcp, each read from the socket, as in Logstash). Encoding writes `format`, or the event's text form.
 */
export default definePlugin({
  kind: 'codec',
  name: 'plain',
  description: 'One event per chunk of text.',
  options: {
    format: opt.string({ description: 'sprintf format used when encoding; default: the event as text.' }),
    charset: opt.charset(),
  },
  create(options, ctx) {
    const format = options.format === undefined ? undefined : compileTemplate(options.format);
    const cs = charset(options.charset);
    const text = cs.reader();
    return {
      decode(data, emit) {
        const message = typeof data === 'string' ? data : text.write(data);
        if (message.length > 0) emit(new Event({ message }, new Timestamp(ctx.clock.now())));
      },
      decodeMessage(data, emit) {
        // whole: no state, so a message never shares a multi-byte character with the next
        // an empty message is an event too (an empty line of a file, an empty datagram), as in Logstash
        emit(new Event({ message: typeof data === 'string' ? data : cs.decode(data) }, new Timestamp(ctx.clock.now())));
      },
      flush(emit) {
        const rest = text.end();
        if (rest.length > 0) emit(new Event({ message: rest }, new Timestamp(ctx.clock.now())));
      },
      encode(event) {
        return format ? format.render(event.fields) : event.toString();
      },
    };
  },
});
