import { fieldRef, FieldRefError, type FieldRef, type Fields } from '../event/field-ref.js';
import { compileTemplate, type Template } from '../event/sprintf.js';
import type { Event } from '../event/event.js';
import { ConfigError } from '../config/errors.js';
import { opt, type Schema } from '../plugin/options.js';
import type { PluginKind } from '../plugin/define.js';

/**
 * Options every plugin of a kind accepts, applied by the runtime once, as Logstash's base
 * classes do: inputs decorate each event they produce; filters decorate each event they matched.
 */
export const COMMON_OPTIONS: Record<PluginKind, Schema> = {
  input: {
    id: opt.string({ description: 'Plugin id, for logs and metrics.' }),
    type: opt.string({ description: 'Sets `type` on events that have none.' }),
    tags: opt.strings({ description: 'Tags added to every event.' }),
    add_field: opt.hash({ description: 'Fields added to every event (sprintf).' }),
    codec: opt.codec({ description: 'Codec used to decode input.' }),
    enable_metric: opt.bool({ default: true }),
  },
  filter: {
    id: opt.string({ description: 'Plugin id, for logs and metrics.' }),
    add_field: opt.hash({ description: 'Fields added when the filter succeeds (sprintf).' }),
    add_tag: opt.strings({ description: 'Tags added when the filter succeeds (sprintf).' }),
    remove_field: opt.strings({ description: 'Fields removed when the filter succeeds (sprintf).' }),
    remove_tag: opt.strings({ description: 'Tags removed when the filter succeeds (sprintf).' }),
    enable_metric: opt.bool({ default: true }),
    periodic_flush: opt.bool({ default: false, description: 'Call the filter’s flush periodically.' }),
  },
  correlate: {
    id: opt.string({ description: 'Plugin id, for logs and metrics.' }),
    add_field: opt.hash({ description: 'Fields added to each event the stage matched (sprintf).' }),
    add_tag: opt.strings({ description: 'Tags added to each event the stage matched (sprintf).' }),
    remove_field: opt.strings({}),
    remove_tag: opt.strings({}),
    enable_metric: opt.bool({ default: true }),
    periodic_flush: opt.bool({ default: true }),
  },
  output: {
    id: opt.string({ description: 'Plugin id, for logs and metrics.' }),
    codec: opt.codec({ description: 'Codec used to encode events.' }),
    enable_metric: opt.bool({ default: true }),
    workers: opt.number({ default: 1, description: 'Accepted for compatibility; outputs receive batches in order.' }),
  },
  codec: {},
};

/** Adds `value` under the field `ref` as Logstash's add_field does: a second value turns it into an array. */
function addField(fields: Fields, ref: FieldRef, value: string): void {
  const cur = ref.get(fields);
  if (cur === undefined || cur === null) ref.set(fields, value);
  else if (Array.isArray(cur)) cur.push(value);
  else ref.set(fields, [cur, value]);
}

/**
 * A field name that is a template: resolved once at load when it holds no `%{...}` (a malformed
 * one throws there, at -t). A rendered name comes from the event's data: one that is no field
 * reference (`%{host}` holding `a[b`) gives undefined and that decoration is skipped for the
 * event, never thrown on the pipeline thread.
 */
function fieldOf(name: Template, option: string): (fields: Fields) => FieldRef | undefined {
  if (!name.dynamic) {
    let ref: FieldRef;
    try {
      ref = fieldRef(name.source);
    } catch (e) {
      throw ConfigError.forOption(option, (e as Error).message, 'a field name is a name (message) or a path of names in brackets ([a][b])', name.source);
    }
    return () => ref;
  }
  return (f) => {
    try {
      return fieldRef(name.render(f));
    } catch (e) {
      if (e instanceof FieldRefError) return undefined;
      throw e;
    }
  };
}

/**
 * add_field, remove_field, add_tag and remove_tag as options of a filter's own, for filters that
 * apply them to the events they make (clone: to each clone, not the original; split: to each new
 * event), as Logstash's filter_matched: `compileDecorator(options, 'filter')` applies them.
 */
export function filterMatchedOptions(what: string) {
  return {
    add_field: opt.hash({ default: {}, description: `Fields added to ${what} (sprintf in names and values; a second value makes an array).` }),
    remove_field: opt.strings({ default: [], description: `Fields removed from ${what} (sprintf).` }),
    add_tag: opt.strings({ default: [], description: `Tags added to ${what} (sprintf).` }),
    remove_tag: opt.strings({ default: [], description: `Tags removed from ${what} (sprintf).` }),
  };
}

/** Compiles the decorations for add_field/tags and friends into one closure, or undefined. */
export function compileDecorator(common: Record<string, unknown>, kind: PluginKind): ((e: Event) => void) | undefined {
  const steps: ((e: Event) => void)[] = [];
  if (kind === 'input') {
    const type = common.type as string | undefined;
    if (type !== undefined)
      steps.push((e) => {
        if (e.fields.type === undefined) e.fields.type = type;
      });
  }
  const fields = Object.entries((common.add_field as Record<string, unknown>) ?? {}).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((x) => [fieldOf(compileTemplate(k), 'add_field'), compileTemplate(String(x))] as const),
  );
  if (fields.length)
    steps.push((e) =>
      fields.forEach(([k, v]) => {
        const ref = k(e.fields);
        if (ref !== undefined) addField(e.fields, ref, v.render(e.fields));
      }),
    );
  if (kind === 'input') {
    const tags = (common.tags as string[] | undefined) ?? [];
    if (tags.length) steps.push((e) => tags.forEach((t) => e.tag(t)));
  } else {
    const removeField = ((common.remove_field as string[] | undefined) ?? []).map((f) => fieldOf(compileTemplate(f), 'remove_field'));
    const addTag = ((common.add_tag as string[] | undefined) ?? []).map((t) => compileTemplate(t));
    const removeTag = ((common.remove_tag as string[] | undefined) ?? []).map((t) => compileTemplate(t));
    if (removeField.length) steps.push((e) => removeField.forEach((f) => f(e.fields)?.remove(e.fields)));
    if (addTag.length) steps.push((e) => addTag.forEach((t) => e.tag(t.render(e.fields))));
    if (removeTag.length) steps.push((e) => removeTag.forEach((t) => e.untag(t.render(e.fields))));
  }
  if (steps.length === 0) return undefined;
  // the steps write fields directly: the event's cached JSON text goes with them
  if (steps.length === 1) {
    const only = steps[0]!;
    return (e) => {
      e.changed();
      only(e);
    };
  }
  return (e) => {
    e.changed();
    for (const s of steps) s(e);
  };
}
