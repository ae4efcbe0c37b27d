import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { definePlugin } from '@pipeline/core';

/**
 * Reads events from standard input (codec `line` by default), until end of input or stop. On
 * stop, what was already read is decoded and handed over, the partial last line included.
 */
export default definePlugin({
  kind: 'input',
  name: 'stdin',
  description: 'Reads events from standard input.',
  defaultCodec: 'line',
  codecInput: 'stream',
  options: {},
  create(_options, ctx) {
    const host = hostname();
    let finish: (() => void) | undefined;
    let stream: Readable | undefined;
    return {
      run(sink) {
        const decoder = ctx.codec.create();
        const input = (stream = process.stdin);
        const push = (e: import('@pipeline/core').Event) => {
          if (e.fields.host === undefined) e.fields.host = host;
          sink.push(e);
        };
        return new Promise<void>((resolve) => {
          let done = false;
          const end = () => {
            if (done) return;
            done = true;
            input.off('data', onData);
            // a new instance (after a reload) may be reading already: leave the stream flowing for it
            if (input.listenerCount('data') === 0) input.pause();
            decoder.flush(push);
            resolve();
          };
          finish = end;
          const onData = (chunk: Buffer) => {
            decoder.decode(chunk, push);
            if (!sink.writable) {
              input.pause();
              void sink.whenWritable().then(() => {
                if (!done) input.resume();
              });
            }
          };
          input.on('data', onData);
          // the instance before a reload paused the stream when it stopped; a paused stream stays
          // paused when a 'data' listener is added, so resume it explicitly
          if (!done && sink.writable) input.resume();
          input.once('end', end);
          input.once('error', (err) => {
            ctx.logger.error({ err }, 'stdin failed');
            end();
          });
        });
      },
      stop() {
        // Read what is already buffered in the stream, then end.
        if (stream) {
          let chunk: Buffer | null;
          while ((chunk = stream.read() as Buffer | null) !== null) stream.emit('data', chunk);
        }
        finish?.();
      },
    };
  },
});
