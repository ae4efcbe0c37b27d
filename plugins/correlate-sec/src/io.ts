/**
 * The engine's files and standard output: what write, writen, owritecl and closef do (`-` is
 * standard output), and the input files that addinput/dropinput hand to the host. No process is
 * started here (children.ts does that).
 *
 * write/writen keep the file open as sec does; their bytes are batched and written out at every
 * timer pass (once a second), when 64 KiB are pending, before closef/owritecl on the same file,
 * and at shutdown: one system call per batch instead of one per action.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fromBytes } from './bytes.js';

export interface IoHooks {
  /** Relative paths resolve here. */
  workingDir: string;
  /** Standard output (`write -`, report without a command); UTF-8 text. */
  stdout?(text: string): void;
  addInput?(file: string, offset: string, context: string): void;
  dropInput?(file: string): void;
}

const FLUSH_AT = 65536;
const processStdout = (t: string) => void process.stdout.write(t);

export class EngineIo {
  private readonly fds = new Map<string, number>();
  private readonly pending = new Map<string, string[]>();
  private pendingBytes = 0;

  /** `warn` gets byte strings. */
  constructor(
    private readonly hooks: IoHooks,
    private readonly warn: (msg: string) => void,
  ) {}

  /** Are writes waiting for the next flush? */
  get hasPending(): boolean {
    return this.pendingBytes > 0;
  }

  /** `data` (a byte string) to `file`: kept open and batched (write, writen), or opened, written and closed (owritecl). */
  write(file: string, data: string, keepOpen: boolean): void {
    if (file === '-') {
      (this.hooks.stdout ?? processStdout)(fromBytes(data));
      return;
    }
    if (!keepOpen) {
      const pend = this.pending.get(file);
      if (pend) {
        this.flushOne(file, pend);
        this.pending.delete(file);
      }
      try {
        const fd = openSync(this.path(file), 'a');
        writeSync(fd, Buffer.from(data, 'latin1'));
        closeSync(fd);
      } catch (e) {
        this.cannotWrite(file, e);
      }
      return;
    }
    let pend = this.pending.get(file);
    if (!pend) this.pending.set(file, (pend = []));
    pend.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  /** closef: what is pending goes out, then the file is closed (the next write opens it again). */
  close(file: string): void {
    this.flush();
    const fd = this.fds.get(file);
    if (fd !== undefined) {
      closeSync(fd);
      this.fds.delete(file);
    }
  }

  flush(): void {
    for (const [file, parts] of this.pending) this.flushOne(file, parts);
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /** Shutdown: everything pending written, every file closed. */
  closeAll(): void {
    this.flush();
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.fds.clear();
  }

  /** addinput: a file for the host to read from `offset` (sec's -, +N or a byte offset), its lines in `context`. */
  addInput(file: string, offset: string, context: string): void {
    if (this.hooks.addInput) this.hooks.addInput(fromBytes(file), offset, context);
    else this.warn(`addinput ${file}: no input can be added here`);
  }

  dropInput(file: string): void {
    this.hooks.dropInput?.(fromBytes(file));
  }

  private path(file: string): string {
    const f = fromBytes(file);
    return isAbsolute(f) ? f : resolve(this.hooks.workingDir, f);
  }

  private flushOne(file: string, parts: string[]): void {
    try {
      let fd = this.fds.get(file);
      if (fd === undefined) {
        fd = openSync(this.path(file), 'a');
        this.fds.set(file, fd);
      }
      writeSync(fd, Buffer.from(parts.join(''), 'latin1'));
    } catch (e) {
      this.cannotWrite(file, e);
    }
  }

  private cannotWrite(file: string, e: unknown): void {
    this.warn(`Can't write to file '${file}': ${(e as Error).message}`);
  }
}
