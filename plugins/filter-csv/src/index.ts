import { ConfigError, definePlugin, fieldRef, FieldRefError, opt, setField, Timestamp, type Event, type FieldRef, type Fields } from '@pipeline/core';
import { makeParser, MalformedCsv, type Row } from './parse.js';

const CONVERSIONS = ['integer', 'float', 'date', 'date_time', 'boolean'] as const;
type Conversion = (typeof CONVERSIONS)[number];

const options = {
  source: opt.field({ default: 'message', description: 'field holding the CSV text' }),
  target: opt.field({ description: 'field to put the columns under; default: the event root' }),
  columns: opt.strings({ default: [], description: 'column names, in order; columns past the end are named columnN (see autogenerate_column_names)' }),
  separator: opt.string({ default: ',', description: 'column separator (one or more characters)' }),
  quote_char: opt.string({ default: '"', description: 'character quoting a column (one character)' }),
  skip_header: opt.bool({ default: false, description: 'drop an event whose values equal the column names' }),
  autodetect_column_names: opt.bool({ default: false, description: 'take the column names from the first line seen (that event is dropped); ignored when columns is set' }),
  autogenerate_column_names: opt.bool({ default: true, description: 'name columns without a name column1, column2...; false leaves them out' }),
  convert: opt.hash({ default: {}, description: 'column name => integer, float, date, date_time or boolean' }),
  skip_empty_columns: opt.bool({ default: false, description: 'leave out columns whose value is empty' }),
  skip_empty_rows: opt.bool({ default: false, description: 'drop events whose source is a blank line (without it a blank line is tagged with tag_on_failure)' }),
  tag_on_failure: opt.strings({ default: ['_csvparsefailure'], description: 'tags added when the line is not valid CSV' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'v1 or v8 without a target logs a warning at start (columns at the root may clash with ECS fields), as Logstash' }),
};

const INTEGER = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const FLOAT = /^\s*[+-]?(?:\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const DATE_ONLY = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/;

/**
 * Logstash's conversions: a value that does not convert stays the string it was (Ruby CSV's
 * converters return their input), so a bad number never fails the event.
 */
function converter(kind: Conversion): (v: string) => unknown {
  switch (kind) {
    case 'integer':
      return (v) => (INTEGER.test(v) ? Number.parseInt(v.replace(/_/g, ''), 10) : v);
    case 'float':
      return (v) => (FLOAT.test(v) ? Number.parseFloat(v.replace(/_/g, '')) : v);
    case 'boolean':
      return (v) => {
        const s = v.trim().toLowerCase();
        return s === 'true' ? true : s === 'false' ? false : v;
      };
    case 'date':
      // a calendar date: midnight UTC of that day
      return (v) => {
        const m = DATE_ONLY.exec(v);
        const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Date.parse(v);
        if (Number.isNaN(ms)) return v;
        const d = new Date(ms);
        return new Timestamp(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      };
    case 'date_time':
      return (v) => {
        const ms = Date.parse(v);
        return Number.isNaN(ms) ? v : new Timestamp(ms);
      };
  }
}

/**
 * A column's reference: the name is one literal key (dots, spaces and `__proto__` included) under
 * the target. A name with brackets cannot be one key; as in Logstash it is an error.
 */
function columnRef(prefix: string, name: string): FieldRef {
  return fieldRef(`${prefix}[${name}]`);
}

function compile(o: { source: string; target?: string | undefined; columns: string[]; separator: string; quote_char: string; convert: Record<string, unknown> }) {
  if (o.separator === '') throw ConfigError.forOption('separator', "csv: option 'separator' must not be empty");
  if ([...o.quote_char].length !== 1) throw ConfigError.forOption('quote_char', "csv: option 'quote_char' must be one character");
  if (o.separator.includes(o.quote_char)) throw ConfigError.forOption('separator', "csv: option 'separator' must not contain the quote_char");
  const conversions = new Map<string, (v: string) => unknown>();
  for (const [column, kind] of Object.entries(o.convert)) {
    if (!(CONVERSIONS as readonly string[]).includes(String(kind))) {
      throw ConfigError.forOption('convert', `csv: invalid conversion '${String(kind)}' for column '${column}'; one of ${CONVERSIONS.join(', ')}`);
    }
    conversions.set(column, converter(kind as Conversion));
  }
  // source and target are checked by the schema (opt.field): compiling cannot fail here
  const source = fieldRef(o.source);
  const target = o.target === undefined ? undefined : fieldRef(o.target);
  const prefix = target === undefined ? '' : target.path.map((k) => `[${k}]`).join('');
  const refs: FieldRef[] = [];
  for (const [i, name] of o.columns.entries()) {
    try {
      refs.push(columnRef(prefix, String(name)));
    } catch {
      throw ConfigError.forOption('columns', `csv: column ${i + 1} '${String(name)}' cannot be a field name (brackets)`);
    }
  }
  return { parse: makeParser(o.separator, o.quote_char), conversions, source, target, prefix, refs };
}

export default definePlugin({
  kind: 'filter',
  name: 'csv',
  description: 'Parses comma-separated (or other separator) values into fields.',
  options,
  // names detected from a first line live in the instance: one instance must see every line
  parallel: (o) => !(o.autodetect_column_names && o.columns.length === 0),
  check(o) {
    compile(o);
  },
  create(o, ctx) {
    const compiled = compile(o);
    if (o.ecs_compatibility !== 'disabled' && o.target === undefined) ctx.logger.warn('csv: ECS compatibility is enabled but no target is set; the columns may clash with ECS fields (set target)');
    const { parse, conversions, source, target, prefix } = compiled;
    // Names and their compiled references; autodetect fills them from the first line.
    let columns: string[] = o.columns.map(String);
    let refs = compiled.refs;
    let detect = o.autodetect_column_names && columns.length === 0;
    // column<N> names and references, made once per position rather than per line
    const generated: FieldRef[] = [];
    const generatedNames: string[] = [];
    const generatedRef = (i: number): FieldRef => (generated[i] ??= columnRef(prefix, generatedName(i)));
    const generatedName = (i: number): string => (generatedNames[i] ??= `column${i + 1}`);
    const { skip_header: skipHeader, skip_empty_columns: skipEmptyColumns, skip_empty_rows: skipEmptyRows, autogenerate_column_names: autogenerate } = o;
    const tags = o.tag_on_failure;
    const fail = (event: Event, err: Error): false => {
      ctx.logger.warn({ source: o.source, err: err.message }, 'error parsing csv');
      for (const t of tags) event.tag(t);
      return false;
    };
    const isHeader = (row: Row): boolean => row.length === columns.length && row.every((v, i) => (v ?? '') === columns[i]);

    return {
      filter(event) {
        const text = source.get(event.fields);
        // Ruby truthiness, as Logstash: a missing, null or false source is not an error.
        if (text === undefined || text === null || text === false) return false;
        if (typeof text !== 'string') return fail(event, new TypeError(`source is a ${Array.isArray(text) ? 'array' : typeof text}, not text`));
        let row: Row;
        try {
          row = parse(text);
        } catch (e) {
          if (e instanceof MalformedCsv) return fail(event, e);
          throw e;
        }
        if (row.length === 0) {
          // Logstash: skip_empty_rows drops a blank line; without it a blank line is a parse failure.
          if (skipEmptyRows) {
            event.cancelled = true;
            return false;
          }
          return fail(event, new MalformedCsv('blank line'));
        }
        if (detect) {
          // The header line names the columns and is not an event (Logstash cancels it).
          const names = row.map((v) => v ?? '');
          const detected: FieldRef[] = [];
          for (const n of names) {
            try {
              detected.push(columnRef(prefix, n));
            } catch (e) {
              if (e instanceof FieldRefError) return fail(event, new Error(`header column '${n}' cannot be a field name`));
              throw e;
            }
          }
          columns = names;
          refs = detected;
          detect = false;
          event.cancelled = true;
          return false;
        }
        if (skipHeader && columns.length > 0 && isHeader(row)) {
          event.cancelled = true;
          return false;
        }
        // Under a target the columns go into its object (kept if it is one, as Logstash sets
        // [target][name] one by one), found once per line rather than walked per column.
        let holder: Fields | undefined;
        if (target) {
          const cur = target.get(event.fields);
          const proto: unknown = typeof cur === 'object' && cur !== null && !Array.isArray(cur) ? Object.getPrototypeOf(cur) : undefined;
          holder = proto === Object.prototype || proto === null ? (cur as Fields) : {};
        }
        // As in Logstash, a failure part-way (an @timestamp column that is not a date) keeps the columns set before it.
        for (let i = 0; i < row.length; i++) {
          const v = row[i]!;
          if (skipEmptyColumns && (v === null || v === '')) continue;
          let ref: FieldRef;
          let name: string;
          if (i < columns.length) {
            ref = refs[i]!;
            name = columns[i]!;
          } else if (autogenerate) {
            ref = generatedRef(i);
            name = generatedName(i);
          } else continue;
          const conv = v === null || conversions.size === 0 ? undefined : conversions.get(name);
          const value = conv ? conv(v!) : v;
          if (name === '@timestamp' && prefix === '' && !(value instanceof Timestamp)) return fail(event, new Error(`column '@timestamp' is not a date: ${v}`));
          if (holder) setField(holder, name, value);
          else event.set(ref, value);
        }
        // set even when it was already there: the event's cached JSON text must be dropped
        if (target) event.set(target, holder);
        return true;
      },
    };
  },
});
