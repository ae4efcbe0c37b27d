/**
 * Native actions beyond SEC: `alert` and `heartbeat` emit a structured event for the outputs
 * (Alerta, e-mail, files) instead of forking `alerta` through a shell.
 *
 *   alert resource=$1 event="sudo authentication failure by $2" severity=warning \
 *         environment=Homelab service=sudo correlate=SEC text=$0 tags=sudo,auth attributes.host=$1
 *   heartbeat origin=$1_backup timeout=86400 tags=backup
 *
 * Each parameter is key=value; a value is a bare word, "double quoted" (\" and \\ escaped) or
 * 'single quoted'. The list is split into keys and value templates when the rule file is loaded;
 * match and action-list variables are substituted into the values afterwards, so nothing a log
 * line contains can add a parameter, and the values only ever become event fields — no shell.
 * A value containing `;` must be wrapped in parentheses like any SEC action parameter.
 */
import { basename } from 'node:path';
import { ActionError } from './actions.js';

export const ALERT_KEYS = ['resource', 'event', 'environment', 'severity', 'correlate', 'status', 'service', 'group', 'value', 'text', 'tags', 'origin', 'type', 'timeout', 'raw_data'] as const;
export const HEARTBEAT_KEYS = ['origin', 'timeout', 'tags', 'environment', 'severity'] as const;
/** heartbeat's environment and severity go where `alerta heartbeat -E ENV --severity SEV` puts them: into attributes. */
const HEARTBEAT_ATTRIBUTES = new Set(['environment', 'severity']);
/** Severities Alerta refuses on a heartbeat (as `alerta heartbeat` does): a heartbeat alarm is never a normal one. */
const NORMAL_SEVERITIES = ['normal', 'ok', 'cleared'];
/** Alerta's list-valued fields: comma-separated in the rule. */
export const LIST_KEYS = new Set(['correlate', 'service', 'tags']);
export const SEVERITIES = ['security', 'critical', 'major', 'minor', 'warning', 'indeterminate', 'informational', 'normal', 'ok', 'cleared', 'debug', 'trace', 'unknown'];

export interface NativeSpec {
  kind: 'alert' | 'heartbeat';
  /** Field names, parallel to `values` (attributes as "attributes.NAME"). */
  keys: string[];
  values: string[];
  /** The rule the action belongs to, as file:line (the file's base name, as the rule metrics name it). */
  rule?: string;
}

/** A rule as metrics, traces and alert events name it: the rule file's base name and the rule's first line. */
export function ruleLabel(file: string, line: number): string {
  return `${basename(file)}:${line}`;
}

/** Tokenises `key=value ...` into parallel arrays; throws on anything else. */
export function tokenizeKeyValues(text: string): { keys: string[]; values: string[] } {
  const keys: string[] = [];
  const values: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const km = /^([A-Za-z_][\w.-]*)=/.exec(text.slice(i));
    if (!km) throw new ActionError(`expected key=value at '${text.slice(i, i + 30)}'`);
    i += km[0].length;
    let v = '';
    const q = text[i];
    if (q === '"' || q === "'") {
      i++;
      for (;;) {
        if (i >= n) throw new ActionError(`unterminated ${q}-quoted value for '${km[1]}'`);
        const c = text[i]!;
        if (c === q) {
          i++;
          break;
        }
        if (c === '\\' && q === '"' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          v += text[i + 1];
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      if (i < n && !/\s/.test(text[i]!)) throw new ActionError(`missing space after the quoted value of '${km[1]}'`);
    } else {
      const start = i;
      while (i < n && !/\s/.test(text[i]!)) i++;
      v = text.slice(start, i);
    }
    keys.push(km[1]!);
    values.push(v);
  }
  return { keys, values };
}

export function parseNativeAction(kind: 'alert' | 'heartbeat', text: string): NativeSpec {
  const { keys, values } = tokenizeKeyValues(text);
  const allowed: readonly string[] = kind === 'alert' ? ALERT_KEYS : HEARTBEAT_KEYS;
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (!allowed.includes(k) && !/^attributes\.[A-Za-z_][\w-]*$/.test(k))
      throw new ActionError(`${kind}: unknown parameter '${k}' (known: ${allowed.join(', ')}, attributes.NAME)`);
    const field = kind === 'heartbeat' && HEARTBEAT_ATTRIBUTES.has(k) ? `attributes.${k}` : k;
    if (seen.has(field)) {
      const name = field.replace('attributes.', '');
      throw new ActionError(kind !== 'heartbeat' || !HEARTBEAT_ATTRIBUTES.has(name) ? `${kind}: parameter '${k}' given twice` : `${kind}: attribute '${name}' given twice (${name}= and attributes.${name}= set the same attribute)`);
    }
    seen.add(field);
    const v = values[i]!;
    if (k === 'severity' && !/[$%]/.test(v) && !SEVERITIES.includes(v.toLowerCase()))
      throw new ActionError(`${kind}: severity '${v}' is not one Alerta accepts (${SEVERITIES.join(', ')})${v.toLowerCase() === 'information' ? "; use 'informational'" : ''}`);
    if (kind === 'heartbeat' && k === 'severity' && NORMAL_SEVERITIES.includes(v.toLowerCase()))
      throw new ActionError(`heartbeat: severity '${v}' is a normal one, which Alerta refuses on a heartbeat; use one of ${SEVERITIES.filter((s) => !NORMAL_SEVERITIES.includes(s)).join(', ')}`);
    if (k === 'timeout' && !/[$%]/.test(v) && !/^\d+$/.test(v)) throw new ActionError(`${kind}: timeout '${v}' is not a whole number of seconds`);
  });
  if (kind === 'alert') {
    for (const req of ['resource', 'event']) if (!seen.has(req)) throw new ActionError(`alert: '${req}' is required`);
  }
  return { kind, keys, values };
}

/** Builds the `[alert]` / `[heartbeat]` object from substituted values (UTF-8 strings). */
export function nativeFields(spec: NativeSpec, values: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let attrs: Record<string, string> | undefined;
  spec.keys.forEach((k, i) => {
    const v = values[i]!;
    if (k.startsWith('attributes.')) {
      (attrs ??= {})[k.slice('attributes.'.length)] = v;
    } else if (spec.kind === 'heartbeat' && HEARTBEAT_ATTRIBUTES.has(k)) {
      (attrs ??= {})[k] = k === 'severity' ? v.toLowerCase() : v;
    } else if (LIST_KEYS.has(k)) {
      out[k] = v.split(',').map((x) => x.trim()).filter((x) => x.length);
    } else if (k === 'timeout') {
      const t = Number(v);
      out[k] = Number.isFinite(t) && /^\s*\d+\s*$/.test(v) ? t : v;
    } else if (k === 'severity') out[k] = v.toLowerCase();
    else out[k] = v;
  });
  if (attrs) out.attributes = attrs;
  return out;
}
