import { definePlugin, fieldRef, opt } from '@pipeline/core';
import { compileWriter, type Layout } from './fields.js';
import { parseAlert } from './parse.js';

export { parseAlert, type SnortAlert } from './parse.js';

const options = {
  source: opt.field({ default: 'message', description: 'field holding the alert line' }),
  target: opt.field({ default: 'snort', description: 'field the parsed parts go under (nested layout)' }),
  layout: opt.string({
    default: 'nested',
    values: ['nested', 'reference'],
    description: "nested: typed fields under target; reference: the flat snort_* string fields of the reference setup's grok",
  }),
  tag_on_failure: opt.strings({ default: [], description: 'tags added when the source field is not a Snort/Suricata alert' }),
};

export default definePlugin({
  kind: 'filter',
  name: 'snort',
  parallel: true,
  description: 'Parses Snort and Suricata fast-alert lines (with or without a syslog header) into fields; tags them snort.',
  options,
  create(o) {
    const source = fieldRef(o.source);
    const write = compileWriter(o.layout as Layout, o.target);
    const failureTags = o.tag_on_failure;
    return {
      filter(event) {
        const line = event.get(source);
        const alert = typeof line === 'string' ? parseAlert(line) : undefined;
        if (alert === undefined) {
          for (const t of failureTags) event.tag(t);
          return false;
        }
        write(event, alert);
        event.tag('snort');
        return true;
      },
    };
  },
});
