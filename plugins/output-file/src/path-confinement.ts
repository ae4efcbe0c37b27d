import { join, resolve, sep } from 'node:path';
import type { Template } from '@pipeline/core';

/** Where a rendered path leads: a file inside the root, or the failure file (with the reason). */
export type Target = { readonly file: string; readonly failure?: 'outside-root' | 'nul-byte' };
// 'outside-root' also covers a rendered path that names the root itself or a directory (ends in `/`).

/**
 * Confines rendered paths to the static directory of `path`, as Logstash does: the directory part
 * before the first `%{` is the root (relative to the working directory; with no static directory,
 * e.g. `%{x}.log`, the working directory itself). The dynamic rest is joined under the root and
 * normalised, so a `/` in a value makes subdirectories, a leading `/` stays under the root, and
 * any `..` that climbs out of the root, or a NUL byte, sends the event to `<root>/<filename_failure>`.
 */
export class PathConfinement {
  /** Absolute root directory (no trailing separator). */
  readonly root: string;
  readonly failureFile: string;
  private readonly staticDirLength: number;
  private readonly rootWithSep: string;
  private readonly cache = new Map<string, Target>();

  constructor(
    private readonly template: Template,
    workingDir: string,
    filenameFailure: string,
  ) {
    const prefix = template.dynamic ? template.staticPrefix : template.source;
    const slash = prefix.lastIndexOf('/');
    // `/srv/logs/x-%{a}` -> root `/srv/logs`, dynamic rest `x-%{a}`; `%{a}.log` -> root = working dir
    this.staticDirLength = template.dynamic ? slash + 1 : 0;
    this.root = resolve(workingDir, slash < 0 ? '.' : prefix.slice(0, slash + 1) || '/');
    this.rootWithSep = this.root.endsWith(sep) ? this.root : this.root + sep;
    this.failureFile = join(this.root, filenameFailure);
    this.staticFile = template.dynamic ? undefined : { file: resolve(workingDir, template.source) };
  }

  private readonly staticFile: Target | undefined;

  /** The target for a rendered path; results are cached, since few distinct paths recur. */
  targetOf(rendered: string): Target {
    if (this.staticFile) return this.staticFile;
    let t = this.cache.get(rendered);
    if (t !== undefined) return t;
    t = this.compute(rendered);
    if (this.cache.size >= 4096) this.cache.clear();
    this.cache.set(rendered, t);
    return t;
  }

  private compute(rendered: string): Target {
    if (rendered.includes('\0')) return { file: this.failureFile, failure: 'nul-byte' };
    // join (not resolve): a value starting with `/` stays under the root instead of replacing it
    const file = join(this.root, rendered.slice(this.staticDirLength));
    if (!file.startsWith(this.rootWithSep) || file.length === this.rootWithSep.length || file.endsWith(sep)) return { file: this.failureFile, failure: 'outside-root' };
    return { file };
  }

  render(fields: Parameters<Template['render']>[0]): string {
    return this.template.render(fields);
  }
}
