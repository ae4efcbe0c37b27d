import { compileDecorator, filterMatchedOptions, definePlugin, fieldRef, opt, type Event } from '@pipeline/core';


const options = {
  clones: opt.strings({ required: true, description: 'one copy of the event per name, with the name as its type (or tag, with ECS); an empty list makes none' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'disabled: the name is set as [type]; v1, v8: it is appended to [tags] and [type] stays' }),
  ...filterMatchedOptions('each clone, not the original'),
};

const TYPE = fieldRef('type');

/** Logstash's ECS mode: `Array(tags) << name`, appended even when the tag is there already. */
function appendTag(e: Event, name: string): void {
  const f = e.fields;
  const tags = f.tags;
  if (tags === undefined || tags === null) f.tags = [name];
  else if (Array.isArray(tags)) tags.push(name);
  else f.tags = [tags, name];
  e.changed();
}

/**
 * Logstash's `clone`: for each name in `clones`, a deep copy of the event (`@metadata` included)
 * marked with that name, decorated by add_field/add_tag..., emitted to continue at the statement
 * after this filter. The original goes on unchanged and undecorated.
 */
export default definePlugin({
  kind: 'filter',
  name: 'clone',
  description: 'Emits a copy of each event per clone name, with type set to that name.',
  options,
  parallel: true,
  // the original is never written (the clones are new events): its cached JSON text stays
  readsOnly: true,
  check(o) {
    compileDecorator(o, 'filter');
  },
  create(o, ctx) {
    const names = o.clones.map(String);
    if (names.length === 0) ctx.logger.warn("clone: the option 'clones' is empty, so no clones will be created");
    const ecs = o.ecs_compatibility !== 'disabled';
    const decorate = compileDecorator(o, 'filter');
    return {
      filter(event, emit) {
        for (let i = 0; i < names.length; i++) {
          const copy = event.clone();
          if (ecs) appendTag(copy, names[i]!);
          else copy.set(TYPE, names[i]);
          if (decorate) decorate(copy);
          emit(copy);
        }
        // no common decorations for the original: Logstash applies them to the clones only
        return false;
      },
    };
  },
});
