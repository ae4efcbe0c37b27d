import { ConfigError, definePlugin, FieldRefError, opt, type Resolved } from '@pipeline/core';
import { CONVERSIONS } from './convert.js';
import * as ops from './operations.js';
import { RubyRegexError, translateRubyRegex } from './ruby-regex.js';

const options = {
  coerce: opt.hash({ description: 'field => default value, set when the field exists but is null' }),
  rename: opt.hash({ description: 'old field => new field (both may use %{...})' }),
  update: opt.hash({ description: 'field => new value (sprintf), only when the field exists' }),
  replace: opt.hash({ description: 'field => new value (sprintf), created when missing' }),
  convert: opt.hash({ description: `field => type; types: ${CONVERSIONS.join(', ')}` }),
  gsub: opt.array({ description: 'field, regex, replacement triples' }),
  uppercase: opt.fields({ description: 'fields to upper-case' }),
  capitalize: opt.fields({ description: 'fields to capitalize' }),
  lowercase: opt.fields({ description: 'fields to lower-case' }),
  strip: opt.fields({ description: 'fields to strip of leading and trailing whitespace' }),
  split: opt.hash({ description: 'field => separator; a string field becomes an array' }),
  join: opt.hash({ description: 'field => separator; an array field becomes a string' }),
  merge: opt.hash({ description: 'destination field => field(s) to append (arrays) or merge (hashes)' }),
  copy: opt.hash({ description: 'source field => destination field (deep copy, overwrites)' }),
  tag_on_failure: opt.string({ default: '_mutate_error', description: 'tag added when an operation fails' }),
};

/** The configured operations as steps, in Logstash's processing order; one step per present option. */
function compileSteps(o: Resolved<typeof options>, warn: (msg: string) => void): ops.Operation[] {
  const steps: ops.Operation[] = [];
  // a malformed field reference is reported at the option that holds it
  const step = (name: string, make: () => ops.Operation) => {
    try {
      steps.push(make());
    } catch (e) {
      if (e instanceof FieldRefError) throw ConfigError.forOption(name, `mutate: ${e.message}`);
      throw e;
    }
  };
  if (o.coerce) step('coerce', () => ops.coerce(o.coerce!));
  if (o.rename) step('rename', () => ops.rename(o.rename!));
  if (o.update) step('update', () => ops.update(o.update!));
  if (o.replace) step('replace', () => ops.replace(o.replace!));
  if (o.convert) step('convert', () => ops.convert(o.convert!));
  if (o.gsub) step('gsub', () => ops.gsub(o.gsub!));
  if (o.uppercase) step('uppercase', () => ops.uppercase(o.uppercase!));
  if (o.capitalize) step('capitalize', () => ops.capitalize(o.capitalize!));
  if (o.lowercase) step('lowercase', () => ops.lowercase(o.lowercase!));
  if (o.strip) step('strip', () => ops.strip(o.strip!));
  if (o.split) step('split', () => ops.split(o.split!));
  if (o.join) step('join', () => ops.join(o.join!));
  if (o.merge) step('merge', () => ops.merge(o.merge!, warn));
  if (o.copy) step('copy', () => ops.copy(o.copy!));
  return steps;
}

export default definePlugin({
  kind: 'filter',
  name: 'mutate',
  parallel: true,
  description: 'Renames, replaces, converts and edits fields, in Logstash’s fixed order.',
  options,
  check(o) {
    for (const [field, type] of Object.entries(o.convert ?? {}))
      if (!CONVERSIONS.includes(type as never))
        throw new ConfigError(`mutate: invalid conversion type '${String(type)}' for '${field}', expected one of ${CONVERSIONS.join(', ')}`);
    if (o.gsub) {
      if (o.gsub.length % 3 !== 0 || o.gsub.some((x) => x === null || x === undefined))
        throw new ConfigError(`mutate: invalid gsub configuration ${JSON.stringify(o.gsub)}: gsub needs field, regex, replacement triples`);
      for (let i = 1; i < o.gsub.length; i += 3) {
        const needle = String(o.gsub[i]);
        if (needle.includes('%{')) continue;
        try {
          translateRubyRegex(needle);
        } catch (e) {
          if (e instanceof RubyRegexError) throw ConfigError.forOption('gsub', `mutate: gsub: ${e.message}`, undefined, needle);
          throw e;
        }
      }
    }
    // then what create compiles (field references, templates), so -t refuses what start would
    compileSteps(o, () => {});
  },
  create(o, ctx) {
    const steps = compileSteps(o, (msg: string) => ctx.logger.warn(msg));
    const failureTag = o.tag_on_failure;
    return {
      filter(event) {
        try {
          for (let i = 0; i < steps.length; i++) steps[i]!(event);
          return true;
        } catch (e) {
          ctx.logger.warn({ err: (e as Error).message }, 'exception caught while applying mutate filter');
          event.tag(failureTag);
          return false;
        }
      },
    };
  },
});
