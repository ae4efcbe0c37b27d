import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, small file system for disk-full tests: `mount -t tmpfs -o size=N` on a fresh directory
 * (needs root, as the test machines run). `fill()` writes a filler file until the file system
 * answers ENOSPC; `free()` deletes it. `cleanup()` unmounts.
 */
export interface Tmpfs {
  dir: string;
  fill(name?: string): void;
  free(name?: string): void;
  cleanup(): void;
}

export function mountTmpfs(size: string, prefix = 'pipeline-tmpfs-'): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    fill(name = 'filler') {
      const fd = openSync(join(dir, name), 'a');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    free(name = 'filler') {
      rmSync(join(dir, name), { force: true });
    },
    cleanup() {
      try {
        execFileSync('umount', ['-l', dir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
