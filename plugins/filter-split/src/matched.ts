import { compileTemplate, ConfigError, fieldRef, FieldRefError, opt, type Event, type FieldRef, type Fields, type Logger, type Template } from '@pipeline/core';

/**
 * Logstash's `filter_matched` (add_field, remove_field, add_tag, remove_tag, in that order) for the
 * events this filter makes. The runtime applies a filter's common options to the event the filter
 * was given and not to the events it emits; Logstash's split applies them to each new event (the
 * original is dropped). So the plugin declares the four as options of its own (the plan then hands
 * them to the plugin, not to the runtime) and applies them here.
 *
 * The same file is in filter-clone; both go once core exports its decorator for emitted events.
 */
export function matchedOptions(what: string) {
  return {
    add_field: opt.hash({ default: {}, description: `fields added to ${what} (sprintf in names and values; a second value makes an array)` }),
    remove_field: opt.strings({ default: [], description: `fields removed from ${what} (sprintf)` }),
    add_tag: opt.strings({ default: [], description: `tags added to ${what} (sprintf)` }),
    remove_tag: opt.strings({ default: [], description: `tags removed from ${what} (sprintf)` }),
  };
}

export interface MatchedOptions {
  add_field: Record<string, unknown>;
  remove_field: string[];
  add_tag: string[];
  remove_tag: string[];
}

/** A field name that may be a template: its reference is compiled once unless it holds `%{...}`. */
type Name = (fields: Fields) => FieldRef | undefined;

function template(plugin: string, option: string, text: string): Template {
  try {
    return compileTemplate(text);
  } catch (e) {
    throw ConfigError.forOption(option, `${plugin}: option '${option}': ${(e as Error).message}`, undefined, text);
  }
}

function name(plugin: string, option: string, text: string, logger: Logger | undefined): Name {
  const t = template(plugin, option, text);
  if (!t.dynamic) {
    let ref: FieldRef;
    try {
      ref = fieldRef(t.source);
    } catch (e) {
      throw ConfigError.forOption(option, `${plugin}: option '${option}': ${(e as Error).message}`, undefined, text);
    }
    return () => ref;
  }
  return (f) => {
    const rendered = t.render(f);
    try {
      return fieldRef(rendered);
    } catch (e) {
      if (!(e instanceof FieldRefError)) throw e;
      logger?.warn({ option, field: rendered }, `${plugin}: ${option} names no field; skipped`);
      return undefined;
    }
  };
}

/** Adds `value` under `ref` as Logstash's add_field does: a second value turns the field into an array. */
function addField(fields: Fields, ref: FieldRef, value: string): void {
  const cur = ref.get(fields);
  if (cur === undefined || cur === null) ref.set(fields, value);
  else if (Array.isArray(cur)) cur.push(value);
  else ref.set(fields, [cur, value]);
}

/**
 * Compiles the four options into one function, or undefined when none is set. Throws a
 * ConfigError at the option (and item) at fault; `check` calls it without a logger.
 */
export function compileMatched(o: MatchedOptions, plugin: string, logger?: Logger): ((e: Event) => void) | undefined {
  const steps: ((e: Event) => void)[] = [];
  const adds: [Name, Template][] = [];
  for (const [k, v] of Object.entries(o.add_field)) {
    const key = name(plugin, 'add_field', k, logger);
    for (const x of Array.isArray(v) ? v : [v]) adds.push([key, template(plugin, 'add_field', String(x))]);
  }
  if (adds.length)
    steps.push((e) => {
      const f = e.fields;
      for (const [key, value] of adds) {
        const ref = key(f);
        if (ref) addField(f, ref, value.render(f));
      }
    });
  const removes = o.remove_field.map((r) => name(plugin, 'remove_field', String(r), logger));
  if (removes.length)
    steps.push((e) => {
      const f = e.fields;
      for (const r of removes) r(f)?.remove(f);
    });
  const addTags = o.add_tag.map((t) => template(plugin, 'add_tag', String(t)));
  if (addTags.length) steps.push((e) => addTags.forEach((t) => e.tag(t.render(e.fields))));
  const removeTags = o.remove_tag.map((t) => template(plugin, 'remove_tag', String(t)));
  if (removeTags.length) steps.push((e) => removeTags.forEach((t) => e.untag(t.render(e.fields))));
  if (steps.length === 0) return undefined;
  return (e) => {
    for (const s of steps) s(e);
    // add_field and remove_field write the fields directly
    e.changed();
  };
}
