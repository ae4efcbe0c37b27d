import { definePlugin, fieldRef, opt, Timestamp, type Event } from '@pipeline/core';
import { parseEventTimestamp } from './timestamp.js';

const options = {
  source: opt.field({ required: true, description: 'field holding the JSON text' }),
  target: opt.field({ description: 'field to put the parsed value in; default: merge a JSON object into the event root' }),
  tag_on_failure: opt.strings({ default: ['_jsonparsefailure'], description: 'tags added when the text is not JSON (or not an object without target)' }),
  skip_on_invalid_json: opt.bool({ default: false, description: 'do not log a warning for invalid JSON' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'accepted for compatibility; no effect on this filter' }),
};

/** Logstash's names for a root `@timestamp` it cannot read. */
const TIMESTAMP_FAILURE_TAG = '_timestampparsefailure';
const TIMESTAMP_FAILURE_FIELD = '_@timestamp';

export default definePlugin({
  kind: 'filter',
  name: 'json',
  parallel: true,
  description: 'Parses JSON text from a field into the event or a target field.',
  options,
  create(o, ctx) {
    // both are checked by the schema (opt.field): compiling cannot fail here
    const source = fieldRef(o.source);
    const target = o.target === undefined ? undefined : fieldRef(o.target);
    const tags = o.tag_on_failure;
    const fail = (event: Event): false => {
      for (const t of tags) event.tag(t);
      return false;
    };
    return {
      filter(event) {
        const text = source.get(event.fields);
        // Ruby truthiness: a missing, null or false source is not an error.
        if (text === undefined || text === null || text === false) return false;
        let parsed: unknown;
        try {
          if (typeof text !== 'string') throw new TypeError(`source is a ${Array.isArray(text) ? 'array' : typeof text}, not JSON text`);
          parsed = JSON.parse(text);
        } catch (e) {
          if (!o.skip_on_invalid_json) ctx.logger.warn({ source: o.source, err: (e as Error).message }, 'error parsing json');
          return fail(event);
        }
        try {
          if (target) {
            target.set(event.fields, parsed);
            return true;
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            ctx.logger.warn({ source: o.source }, 'parsed JSON is not an object: set a target');
            return fail(event);
          }
          const obj = parsed as Record<string, unknown>;
          const rawTs = obj['@timestamp'];
          for (const k of Object.keys(obj)) {
            if (k === '@timestamp') continue;
            // Keys are field references, as in Logstash: {"[a][b]": 1} sets a nested field.
            event.set(k, obj[k]);
          }
          if (rawTs !== undefined && rawTs !== null) {
            const ts = parseEventTimestamp(rawTs);
            if (ts) event.timestamp = ts;
            else {
              event.timestamp = new Timestamp(ctx.clock.now());
              event.tag(TIMESTAMP_FAILURE_TAG);
              event.set(TIMESTAMP_FAILURE_FIELD, typeof rawTs === 'string' ? rawTs : JSON.stringify(rawTs));
            }
          }
          return true;
        } catch (e) {
          ctx.logger.warn({ source: o.source, err: (e as Error).message }, 'exception caught in json filter');
          return fail(event);
        }
      },
    };
  },
});
