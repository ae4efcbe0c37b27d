import { definePlugin, opt, Timestamp } from '@pipeline/core';

/**
 * Human-readable event dumps in the layout of Logstash's rubydebug codec: one `key => value` per
 * line, keys right-aligned, nested hashes indented, timestamps bare. Encoding only.
 */
export default definePlugin({
  kind: 'codec',
  name: 'rubydebug',
  // Logstash's rubydebug cannot decode either; inputs refuse it at -t
  encodeOnly: true,
  description: 'Prints events for humans, as Logstash rubydebug does.',
  options: {
    metadata: opt.bool({ default: false, description: 'Also print @metadata.' }),
  },
  create(options) {
    return {
      decode() {
        throw new Error('the rubydebug codec only encodes');
      },
      decodeMessage() {
        throw new Error('the rubydebug codec only encodes');
      },
      flush() {},
      encode(event) {
        return render(options.metadata ? event.fields : event.toJSON(), 0) + '\n';
      },
    };
  },
});

function render(v: unknown, indent: number): string {
  if (v instanceof Timestamp) return v.toISOString();
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const pad = ' '.repeat(indent + 4);
    const width = String(v.length - 1).length;
    return `[\n${v.map((x, i) => `${pad}[${String(i).padStart(width)}] ${render(x, indent + 4)}`).join(',\n')}\n${' '.repeat(indent)}]`;
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    if (keys.length === 0) return '{}';
    const width = Math.max(...keys.map((k) => JSON.stringify(k).length));
    const pad = ' '.repeat(indent + 4);
    const lines = keys.map((k) => `${pad}${JSON.stringify(k).padStart(width)} => ${render((v as Record<string, unknown>)[k], indent + 4)}`);
    return `{\n${lines.join(',\n')}\n${' '.repeat(indent)}}`;
  }
  return String(v);
}
