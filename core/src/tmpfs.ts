import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, small file system for full-disk tests: `mount -t tmpfs -o size=N` (root, as the test
 * machines and CI run). Exported through `@pipeline/core/testing`; a failure to mount fails the test.
 */
export interface Tmpfs {
  readonly dir: string;
  /** Writes `name` until the file system answers ENOSPC, or until only `leave` bytes are free; returns its path. */
  fill(name?: string, leave?: number): string;
  /** Deletes what `fill` wrote. */
  free(name?: string): void;
  /** Detaches the file system (lazily: open files do not stop it). */
  unmount(): void;
  /** Unmounts and removes the directory if mountTmpfs made it. */
  cleanup(): void;
}

/** Mounts a tmpfs of `size` (mount's syntax: "2m", "1m,nr_inodes=4") at `at`, or at a new temporary directory. */
export function mountTmpfs(size: string, at?: string): Tmpfs {
  const dir = at ?? mkdtempSync(join(tmpdir(), 'pipeline-tmpfs-'));
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    execFileSync('umount', ['-l', dir]);
  };
  return {
    dir,
    fill(name = 'filler', leave = 0) {
      const file = join(dir, name);
      const fd = openSync(file, 'a');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) {
          const s = statfsSync(dir);
          const avail = s.bavail * s.bsize;
          if (avail <= leave) break;
          const n = Math.min(avail - leave, 1 << 20);
          for (let w = 0; w < n; w += chunk.length) writeSync(fd, chunk);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      return file;
    },
    free(name = 'filler') {
      rmSync(join(dir, name), { force: true });
    },
    unmount,
    cleanup() {
      try {
        unmount();
      } finally {
        if (at === undefined) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
