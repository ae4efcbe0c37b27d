import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * systemd's readiness protocol (sd_notify(3)) for `Type=notify`: "READY=1" sent as one datagram
 * to the AF_UNIX socket named by $NOTIFY_SOCKET. Node has no unix datagram sockets (node:dgram
 * is UDP only), so the datagram is sent by `systemd-notify`, which ships with systemd itself
 * (wherever $NOTIFY_SOCKET is set by a service manager, systemd-notify is there too). The child
 * is not the service's main process, so the unit needs `NotifyAccess=all`. systemd-notify (since
 * systemd 246) waits on a BARRIER=1 after its message, until PID 1 has read it: it cannot exit
 * before PID 1 has attributed the message to the service's cgroup (the race older versions had).
 *
 * Outside systemd (no $NOTIFY_SOCKET) nothing is run and nothing is logged.
 */
const socket = process.env.NOTIFY_SOCKET;
// child processes (npm, plugins' helpers) must not talk to systemd on our behalf (sd_notify's unset_environment)
delete process.env.NOTIFY_SOCKET;

/** The socket systemd gave this process, if any. */
export function notifySocket(): string | undefined {
  return socket;
}

/**
 * Sends `VAR=value` assignments (READY=1, STATUS=..., STOPPING=1, RELOADING=1) to the service
 * manager. Resolves true when systemd-notify delivered them, false when there is no socket or
 * it failed (logged: without READY=1, `systemctl start` of a Type=notify unit times out).
 */
export function sdNotify(assignments: string[], logger?: Logger, command = 'systemd-notify'): Promise<boolean> {
  if (!socket) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(command, assignments, { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve(true);
      const code = (err as NodeJS.ErrnoException).code;
      logger?.warn(
        { notify_socket: socket, err: code === 'ENOENT' ? `${command} not found` : (stderr || err.message).trim() },
        `could not tell systemd ${assignments.join(' ')} (sd_notify through ${command}); a Type=notify unit waits for READY=1 until TimeoutStartSec`,
      );
      resolve(false);
    });
  });
}

/** Resource names (process.getActiveResourcesInfo()) of listeners and of what may precede one. */
const LISTENERS = new Set(['TCPServerWrap', 'UDPWrap', 'PipeServerWrap']);
const PENDING = new Set(['GetAddrInfoReqWrap']);

/**
 * Resolves once the inputs started by `pipeline.start()` have bound their sockets, as far as the
 * process can see it without help from the plugin API (which has no "listening" signal): an input's
 * `listen()`/`bind()` to an address binds synchronously, or after a DNS lookup of a host name.
 * So: event-loop turns until no lookup is pending and the number of listening handles has stayed
 * the same for three turns (a few milliseconds), at most `maxMs`.
 */
export async function inputsSettled(maxMs = 5000): Promise<void> {
  const until = Date.now() + maxMs;
  let last = -1;
  let stable = 0;
  while (stable < 3 && Date.now() < until) {
    await new Promise<void>((r) => setImmediate(r));
    let listeners = 0;
    let pending = false;
    for (const name of process.getActiveResourcesInfo()) {
      if (LISTENERS.has(name)) listeners++;
      else if (PENDING.has(name)) pending = true;
    }
    if (!pending && listeners === last) stable++;
    else stable = 0;
    last = listeners;
  }
}

/**
 * For `pipeline start`: READY=1 (with a STATUS line) once the inputs listen. A no-op outside
 * systemd. Never throws.
 */
export async function notifyReady(logger: Logger, pipelineId: string): Promise<boolean> {
  if (!socket) return false;
  await inputsSettled();
  const ok = await sdNotify(['READY=1', `STATUS=pipeline ${pipelineId} running`, `MAINPID=${process.pid}`], logger);
  if (ok) logger.debug({ notify_socket: socket }, 'told systemd READY=1');
  return ok;
}
