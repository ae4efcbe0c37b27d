import { join, resolve, sep } from 'node:path';
import type { Event, Template } from '@pipeline/core';

/** C0 controls but NUL (refused outright), DEL and the C1 controls. */
const CONTROL = /[\x01-\x1f\x7f-\x9f]/g;

/** `s` with its control characters (NUL included) escaped as \xNN, for a log line. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Where a rendered path leads: a file inside the root, or the failure file (with the reason). */
export type Target = { readonly file: string; readonly failure?: 'outside-root' | 'nul-byte' };
// 'outside-root' also covers a rendered path that names the root itself or a directory (ends in `/`).

/**
 * Confines rendered paths to the static directory of `path`, as Logstash does: the directory part
 * before the first `%{` is the root (relative to the working directory; with no static directory,
 * e.g. `%{x}.log`, the working directory itself). The dynamic rest is joined under the root and
 * normalised, so a `/` in a value makes subdirectories, a leading `/` stays under the root, and
 * any `..` that climbs out of the root, or a NUL byte, sends the event to `<root>/<filename_failure>`;
 * other control characters in the dynamic part are replaced by `_`.
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
    // Control characters from field values (a newline, an escape sequence) would make file names
    // that break `ls`, shell loops and log lines that print them: each becomes `_`. Done here,
    // on the cached path, so it costs nothing per event.
    const rest = rendered.slice(this.staticDirLength).replace(CONTROL, '_');
    // join (not resolve): a value starting with `/` stays under the root instead of replacing it
    const file = join(this.root, rest);
    if (!file.startsWith(this.rootWithSep) || file.length === this.rootWithSep.length || file.endsWith(sep)) return { file: this.failureFile, failure: 'outside-root' };
    return { file };
  }

  /** The event's path; a static one without reading the event (whose fields may still be unparsed text). */
  render(e: Event): string {
    return this.template.dynamic ? this.template.render(e.fieldsForKeys(this.template.keys)) : this.template.source;
  }
}
