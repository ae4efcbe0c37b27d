import { ConfigError, definePlugin, fieldRef, opt, Timestamp, valueToString, type FieldRef } from '@pipeline/core';
import { applyConversion, compileConversion, type Conversion } from './convert.js';
import { Dissector, PatternError } from './dissector.js';

export { Dissector, PatternError, parsePattern, type ParsedField, type ParsedPattern } from './dissector.js';
export { toNumber } from './convert.js';

const options = {
  mapping: opt.hash({
    default: {},
    description: 'source field => dissect pattern; several entries run in order, so a later one may dissect a field an earlier one made',
  }),
  convert_datatype: opt.hash({
    default: {},
    description: 'field => `int` or `float`, applied after every mapping (also with no mapping); a value that does not convert stays and tags the event',
  }),
  tag_on_failure: opt.strings({ default: ['_dissectfailure'], description: 'tags added when a mapping does not match (or its field is null, empty or not text)' }),
  append_separator: opt.string({
    description: 'joins `%{+field}` values; unset: the delimiter before that field in the pattern, or a space when there is none (as Logstash). Not a Logstash option',
  }),
};

const PATTERN_HINT = 'a pattern is fields %{name} (%{+name} append, %{+name/2} ordered append, %{?name} or %{} skip, %{&name} indirect, %{name->} padding) with literal text between them';

interface Mapping {
  readonly field: string;
  readonly source: FieldRef;
  readonly dissector: Dissector;
}

function compile(o: { mapping: Record<string, unknown>; convert_datatype: Record<string, unknown>; append_separator?: string | undefined }) {
  const mappings: Mapping[] = [];
  for (const [field, pattern] of Object.entries(o.mapping)) {
    if (typeof pattern !== 'string') throw ConfigError.forOption('mapping', `dissect: the pattern for '${field}' must be a string`, PATTERN_HINT, field);
    let source: FieldRef;
    try {
      source = fieldRef(field);
    } catch (e) {
      throw ConfigError.forOption('mapping', `dissect: '${field}' is not a field reference: ${(e as Error).message}`, undefined, field);
    }
    try {
      mappings.push({ field, source, dissector: new Dissector(pattern, { appendSeparator: o.append_separator }) });
    } catch (e) {
      if (e instanceof PatternError) throw ConfigError.forOption('mapping', `dissect: bad pattern for '${field}': ${e.message}`, PATTERN_HINT, pattern);
      throw e;
    }
  }
  const conversions: Conversion[] = [];
  for (const [field, type] of Object.entries(o.convert_datatype)) {
    if (typeof type !== 'string') throw ConfigError.forOption('convert_datatype', `dissect: the datatype for '${field}' must be int or float`, undefined, field);
    try {
      conversions.push(compileConversion(field, type));
    } catch (e) {
      throw ConfigError.forOption('convert_datatype', `dissect: ${(e as Error).message}`, 'convert_datatype => { "field" => "int" "other" => "float" }', e instanceof RangeError ? type : field);
    }
  }
  return { mappings, conversions };
}

export default definePlugin({
  kind: 'filter',
  name: 'dissect',
  description: 'Splits a field into fields by the delimiters of a pattern (Logstash dissect syntax), without regular expressions.',
  options,
  parallel: true,
  check(o) {
    compile(o);
  },
  create(o, ctx) {
    const { mappings, conversions } = compile(o);
    const tags = o.tag_on_failure;
    const matches = ctx.metrics.counter('matches');
    const failures = ctx.metrics.counter('failures');
    return {
      filter(event) {
        const fields = event.fields;
        let matched = false;
        let wrote = false;
        for (let i = 0; i < mappings.length; i++) {
          const m = mappings[i]!;
          const v = m.source.get(fields);
          if (v === undefined) {
            // as Logstash: a missing field is counted and logged, not tagged
            failures.inc();
            ctx.logger.warn({ field: m.field }, 'dissect: field not found in event');
            continue;
          }
          // numbers, booleans and timestamps are dissected as their text; null, hashes and arrays are not text
          const text = typeof v === 'string' ? v : v === null || (typeof v === 'object' && !(v instanceof Timestamp)) ? undefined : valueToString(v);
          if (text !== undefined && m.dissector.dissect(text, fields)) {
            matched = wrote = true;
            matches.inc();
            continue;
          }
          failures.inc();
          for (const t of tags) event.tag(t);
          ctx.logger.warn({ field: m.field, pattern: m.dissector.pattern }, text === undefined ? 'dissect: field is null or not text' : text === '' ? 'dissect: field is empty' : 'dissect: pattern not found');
        }
        for (let i = 0; i < conversions.length; i++) {
          const bad = applyConversion(conversions[i]!, fields);
          if (bad === undefined) wrote = true;
          else {
            event.tag(bad);
            ctx.logger.warn({ field: conversions[i]!.field, type: conversions[i]!.type }, 'dissect: datatype conversion failed');
          }
        }
        if (wrote) event.changed();
        // Logstash applies add_field/add_tag... when a mapping matched (convert_datatype alone does not count)
        return matched;
      },
    };
  },
});
