import { compileDecorator, filterMatchedOptions, deepCopy, definePlugin, fieldRef, opt, Timestamp } from '@pipeline/core';


const options = {
  field: opt.field({ default: 'message', description: 'the field to split: a string is split on terminator, an array gives one event per element' }),
  target: opt.field({ description: 'the field each new event holds its piece in; default: field itself' }),
  terminator: opt.string({ default: '\n', description: 'what a string is split on (as Ruby\'s String#split: " " splits on runs of whitespace, "" into characters)' }),
  ...filterMatchedOptions('each new event'),
};

export const FAILURE_TAG = '_split_type_failure';

/** ASCII whitespace, what Ruby's `split(" ")` splits on (no-break spaces are not). */
const WHITESPACE = /[ \t\n\v\f\r]+/;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/**
 * `text.split(terminator, -1)` as Ruby (JRuby) does it, which Logstash uses: trailing empty
 * pieces kept, an empty text gives no piece, a single space splits awk-style (leading whitespace
 * skipped, runs of whitespace are one separator) and an empty terminator splits into characters.
 */
export function rubySplit(terminator: string): (text: string) => string[] {
  if (terminator === ' ')
    return (text) => {
      if (text === '') return [];
      let i = 0;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      return (i === 0 ? text : text.slice(i)).split(WHITESPACE);
    };
  if (terminator === '')
    return (text) => {
      if (text === '') return [];
      const chars = Array.from(text);
      chars.push('');
      return chars;
    };
  return (text) => (text === '' ? [] : text.split(terminator));
}

function typeName(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  return v instanceof Timestamp ? 'timestamp' : typeof v;
}

/**
 * Logstash's `split`: one new event per piece of `field` (per element of an array, per piece of a
 * string split on `terminator`), each a deep copy of the event with the piece in `target` (or in
 * `field`), decorated by add_field/add_tag..., emitted to continue at the statement after this
 * filter; the original is dropped. Empty and null pieces make no event. A string that is one piece
 * leaves the event alone; a field that is neither string nor array tags it `_split_type_failure`.
 */
export default definePlugin({
  kind: 'filter',
  name: 'split',
  description: 'Splits one event into several, one per element of an array field or line of a string.',
  options,
  parallel: true,
  check(o) {
    compileDecorator(o, 'filter');
  },
  create(o, ctx) {
    const field = fieldRef(o.field);
    const target = o.target === undefined ? field : fieldRef(o.target);
    // Without a target the array leaves the original before it is copied: each new event holds its
    // element only. With one, every new event keeps the whole array, as in Logstash.
    const detach = o.target === undefined;
    const split = rubySplit(o.terminator);
    const decorate = compileDecorator(o, 'filter');
    return {
      filter(event, emit) {
        const value = field.get(event.fields);
        let pieces: readonly unknown[];
        if (Array.isArray(value)) {
          if (detach) event.remove(field);
          pieces = value;
        } else if (typeof value === 'string') {
          pieces = split(value);
          // nothing to split: the event goes on as it is, undecorated
          if (pieces.length === 1) return false;
        } else {
          ctx.logger.warn({ field: o.field, type: typeName(value) }, 'split: only string and array fields can be split');
          event.tag(FAILURE_TAG);
          return false;
        }
        for (let i = 0; i < pieces.length; i++) {
          const piece = pieces[i];
          if (piece === undefined || piece === null || piece === '') continue;
          const e = event.clone();
          // with a target the element is still in the original's array, which the next copy is
          // made from: the new event gets its own copy, so a later filter changing it changes no other
          e.set(target, detach ? piece : deepCopy(piece));
          if (decorate) decorate(e);
          emit(e);
        }
        event.cancelled = true;
        return false;
      },
    };
  },
});
