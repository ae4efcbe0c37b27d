/**
 * Child processes of shell actions and SingleWithScript, only with allow_shell: a command line
 * through /bin/sh or an argument vector, optional text on standard input, and standard output
 * read back as synthetic events in a context (spawn, cspawn and the *exec forms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fromBytes } from './bytes.js';

export interface ChildHooks {
  cwd: string;
  allowShell: boolean;
  /** Messages are byte strings. */
  log(level: 'warn' | 'error', msg: string): void;
  /** A line a child wrote, for the event queue under `context`. */
  line(text: string, context: string): void;
}

export class Children {
  private readonly live = new Set<ChildProcess>();

  constructor(private readonly hooks: ChildHooks) {}

  get allowed(): boolean {
    return this.hooks.allowShell;
  }

  /** A command line (byte string) through /bin/sh; refused with an error without allow_shell. */
  shell(cmd: string, stdin?: string, context?: string, onExit?: (code: number | null) => void): void {
    if (!this.hooks.allowShell) {
      this.hooks.log('error', `refusing to run shell command '${cmd}' without allow_shell`);
      return;
    }
    this.run('/bin/sh', ['-c', fromBytes(cmd)], stdin, context, onExit);
  }

  /** An argument vector (UTF-8 strings), started as is; nothing happens without allow_shell. */
  exec(argv: string[], stdin?: string, context?: string): void {
    if (this.hooks.allowShell) this.run(argv[0]!, argv.slice(1), stdin, context);
  }

  /** Shutdown: the children still running get SIGTERM. */
  killAll(): void {
    for (const c of this.live) c.kill('SIGTERM');
    this.live.clear();
  }

  private run(cmd: string, args: string[], stdin?: string, context?: string, onExit?: (code: number | null) => void): void {
    const child = spawn(cmd, args, { cwd: this.hooks.cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', context === undefined ? 'ignore' : 'pipe', 'inherit'] });
    this.live.add(child);
    child.on('error', (e) => this.hooks.log('error', `can't run '${cmd}': ${e.message}`));
    child.on('exit', (code) => {
      this.live.delete(child);
      onExit?.(code);
    });
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(Buffer.from(stdin, 'latin1'));
    }
    if (context !== undefined) {
      let rest = '';
      child.stdout!.on('data', (d: Buffer) => {
        const parts = (rest + d.toString('latin1')).split('\n');
        rest = parts.pop()!;
        for (const p of parts) this.hooks.line(p, context);
      });
    }
  }
}
