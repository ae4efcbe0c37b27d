import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compileTemplate, definePlugin, opt } from '@pipeline/core';

/**
 * Writes events to files whose path is a sprintf template (Logstash's `file` output).
 * Minimal first version: one append per resolved path per batch; path confinement, LRU of open
 * files, gzip and logrotate handling follow.
 */
export default definePlugin({
  kind: 'output',
  name: 'file',
  description: 'Writes events to files named by a sprintf template.',
  defaultCodec: 'json_lines',
  options: {
    path: opt.string({ required: true, description: 'File path, a sprintf template.' }),
  },
  create(options, ctx) {
    const template = compileTemplate(options.path);
    const encoder = ctx.codec.create();
    return {
      receive(events) {
        const byPath = new Map<string, string>();
        for (const e of events) {
          const p = resolve(ctx.workingDir, template.render(e.fields));
          byPath.set(p, (byPath.get(p) ?? '') + encoder.encode(e));
        }
        for (const [p, text] of byPath) {
          mkdirSync(dirname(p), { recursive: true });
          appendFileSync(p, text);
        }
      },
    };
  },
});
