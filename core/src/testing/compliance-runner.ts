/**
 * `pipeline` as the compliance suite runs it: the command's own entry (cli/main.js, after the
 * same V8 regex flags as bin/pipeline.js), and, once the pipeline has stopped and before the
 * process exits, a report of what is still open: active handles (sockets, servers, timers,
 * watchers, child processes) and file descriptors. The command exits with process.exit, which
 * would hide a plugin that never closed what it opened; this report shows it.
 *
 * Run as `node compliance-runner.js start ...` with PIPELINE_COMPLIANCE_REPORT naming the JSON
 * file to write.
 */
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
setFlagsFromString('--regexp-tier-up-ticks=100');

/** Closing handles finish in a later turn of the event loop: give them this long to go. */
const SETTLE_MS = 2000;

export interface LeftOpen {
  /** Exit code of the command. */
  code: number;
  /** Active resources left (process.getActiveResourcesInfo), standard streams apart. */
  resources: string[];
  /** File descriptors left that are files or sockets, with what they point at. */
  fds: string[];
}

function openFds(): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return out; // not Linux: no descriptor check
  }
  for (const fd of names) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the descriptor readdir itself used
    }
  }
  return out;
}

/** What the command's own machinery keeps to the end: the standard streams (pipes, TTYs). */
const STANDARD = new Set(['PipeWrap', 'TTYWrap', 'CloseReq']);

function leftOpen(before: Map<string, string>): { resources: string[]; fds: string[] } {
  const resources = process.getActiveResourcesInfo().filter((r) => !STANDARD.has(r));
  const fds: string[] = [];
  for (const [fd, target] of openFds()) {
    if (Number(fd) <= 2 || before.get(fd) === target) continue;
    // files and sockets; event loop internals (pipes, eventfd, epoll) and devices are not a plugin's
    if (target.startsWith('socket:') || (target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/proc/'))) fds.push(`${fd} -> ${target}`);
  }
  return { resources, fds };
}

const before = openFds();
const { main } = (await import('../cli/main.js')) as { main: () => Promise<number> };
let code: number;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  code = 1;
}
let left = leftOpen(before);
for (const t0 = Date.now(); (left.resources.length > 0 || left.fds.length > 0) && Date.now() - t0 < SETTLE_MS; left = leftOpen(before)) {
  // the timer has fired by the time resources are listed again, so it is not among them
  await new Promise((r) => setTimeout(r, 20));
}
const report = process.env.PIPELINE_COMPLIANCE_REPORT;
if (report) writeFileSync(report, JSON.stringify({ code, ...left } satisfies LeftOpen));
process.stdout.write('', () => process.exit(code));
