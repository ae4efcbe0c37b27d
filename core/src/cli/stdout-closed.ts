/**
 * What the CLI does when its standard output fails. EPIPE means the reader went away
 * (`pipeline ... | head -1`): like other Unix tools, stop quietly — no stack trace. By default the
 * command exits at once (0: the reader chose to stop reading); `pipeline start` replaces this
 * with a clean shutdown for the time it runs. Any other error on stdout is reported in one line.
 * stderr (the program's log) that fails has nowhere left to report to, so it is ignored.
 */
type Handler = (err: NodeJS.ErrnoException) => void;

const exitQuietly: Handler = (err) => {
  if (err.code !== 'EPIPE') process.stderr.write(`standard output failed: ${err.message}\n`);
  process.exit(err.code === 'EPIPE' ? 0 : 1);
};
let handler: Handler = exitQuietly;
let watching = false;

export function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => handler(err));
  process.stderr.on('error', () => {});
}

/** Handles stdout errors with `fn` until the returned function is called. */
export function onStdoutError(fn: Handler): () => void {
  const prev = handler;
  handler = fn;
  return () => {
    handler = prev;
  };
}
