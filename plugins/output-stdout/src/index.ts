import { definePlugin } from '@pipeline/core';

/**
 * Writes events to standard output with its codec (rubydebug by default, as Logstash).
 *
 * A batch is acknowledged once its text has left Node's buffer for the OS (the write callback):
 * `receive` hands back a pending write so the next batch can follow at once, and waits only while
 * the stream is over its high-water mark (back-pressure from a slow reader). Once standard output
 * has failed (EPIPE: the reader went away, as with `| head -1`), batches are left unacknowledged and
 * nothing more is written; the CLI stops the pipeline cleanly.
 */
export default definePlugin({
  kind: 'output',
  name: 'stdout',
  description: 'Prints events to standard output.',
  defaultCodec: 'rubydebug',
  options: {},
  create(_options, ctx) {
    const encoder = ctx.codec.create();
    const out = process.stdout;
    let failed: Error | undefined;
    // Without a listener an EPIPE is an uncaught 'error' event that kills the process with a stack trace.
    const onError = (err: Error) => {
      if (failed === undefined) ctx.logger.debug({ err: (err as NodeJS.ErrnoException).code ?? err.message }, 'stdout output: standard output failed; batches stay unacknowledged');
      failed ??= err;
    };
    out.on('error', onError);
    const rejected = (err: Error) => {
      const written = Promise.reject(err);
      written.catch(() => {}); // the pipeline observes it; nobody else must see it as unhandled
      return { written };
    };
    return {
      receive(events) {
        if (failed !== undefined || out.destroyed) return rejected(failed ?? new Error('standard output is closed'));
        let text = '';
        for (const e of events) text += encoder.encode(e);
        const written = new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
        written.catch(() => {});
        if (!out.writableNeedDrain) return { written };
        return drained(out).then(() => ({ written }));
      },
      close() {
        out.off('error', onError);
      },
    };
  },
});

/** Resolves when `s` drains, or closes or fails (then no 'drain' will come). */
function drained(s: NodeJS.WriteStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      s.off('error', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
    s.on('error', done);
  });
}
