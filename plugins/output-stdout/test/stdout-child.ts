/**
 * A child process for the stdout output's tests: it runs the real plugin with the real line codec
 * on this process's standard output (a pipe the test controls) and reports over IPC when each
 * batch's `receive` returned and when its write was acknowledged or refused.
 */
import { Event, type PluginDefinition } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig } from '@pipeline/core/testing';
import stdoutOutput from '../src/index.js';

// the line codec by path: it is a sibling workspace package, not a dependency of this one
const lineCodec = (await import(new URL('../../../codec-line/dist/src/index.js', import.meta.url).href)).default as PluginDefinition<'codec'>;
const ctx = makeContext({ codecDef: lineCodec, codecOptions: optionsFromConfig(lineCodec, 'format => "%{message}"') });
const out = await createPlugin(stdoutOutput, '', ctx);

type Msg = { cmd: 'batch'; id: number; lines: number; bytes: number } | { cmd: 'exit' };
const send = (m: unknown) => process.send!(m);

process.on('message', (m: Msg) => {
  if (m.cmd === 'exit') {
    void Promise.resolve(out.close?.()).then(() => process.disconnect());
    return;
  }
  // each line exactly `bytes` long, newline included
  const events = Array.from({ length: m.lines }, (_, i) => {
    const head = `${m.id}-${i} `;
    return new Event({ message: head + 'x'.repeat(Math.max(0, m.bytes - head.length - 1)) });
  });
  void Promise.resolve(out.receive(events)).then((r) => {
    send({ id: m.id, event: 'received' });
    const written = (r as { written?: Promise<void> } | undefined)?.written ?? Promise.resolve();
    written.then(
      () => send({ id: m.id, event: 'written' }),
      (err: NodeJS.ErrnoException) => send({ id: m.id, event: 'refused', code: err.code ?? err.message }),
    );
  });
});
send({ event: 'ready' });
