/**
 * Where a parsed alert goes in the event. Two layouts:
 * - `nested` (default): typed values under the target, `[snort][sid]` = 2100498 (numbers for
 *   gid/sid/rev/priority/ports).
 * - `reference`: the flat string fields the reference setup's grok pattern produced
 *   (`snort_event`, `snort_classification`, `snort_priority`, `snort_protocol`, `snort_src_ip`,
 *   `snort_src_port`, `snort_dest`, `snort_dest_port`), plus `snort_gid`/`snort_sid`/`snort_rev`,
 *   so configs and rules written against that grok keep working.
 * Each layout is a list of (reference, value getter) pairs compiled once at load.
 */
import { fieldRef, parseFieldPath, type Event, type FieldRef } from '@pipeline/core';
import type { SnortAlert } from './parse.js';

type Getter = (a: SnortAlert) => unknown;
export type Layout = 'nested' | 'reference';

const NESTED: [string, Getter][] = [
  ['gid', (a) => a.gid],
  ['sid', (a) => a.sid],
  ['rev', (a) => a.rev],
  ['message', (a) => a.message],
  ['classification', (a) => a.classification],
  ['priority', (a) => a.priority],
  ['protocol', (a) => a.protocol],
  ['src_ip', (a) => a.src.ip],
  ['src_port', (a) => a.src.port],
  ['dest_ip', (a) => a.dest.ip],
  ['dest_port', (a) => a.dest.port],
  ['alert_time', (a) => a.alertTime],
  ['action', (a) => a.action],
  ['app_id', (a) => a.appId],
];

const str = (v: number | undefined) => (v === undefined ? undefined : String(v));
const REFERENCE: [string, Getter][] = [
  ['snort_event', (a) => a.message],
  ['snort_classification', (a) => a.classification],
  ['snort_priority', (a) => str(a.priority)],
  ['snort_protocol', (a) => a.protocol],
  ['snort_src_ip', (a) => a.src.ip],
  ['snort_src_port', (a) => str(a.src.port)],
  ['snort_dest', (a) => a.dest.ip],
  ['snort_dest_port', (a) => str(a.dest.port)],
  ['snort_gid', (a) => String(a.gid)],
  ['snort_sid', (a) => String(a.sid)],
  ['snort_rev', (a) => String(a.rev)],
];

/** The syslog header's parts, in the legacy names the reference grok uses; set only when absent. */
const SYSLOG: [FieldRef, Getter][] = [
  [fieldRef('syslog_timestamp'), (a) => a.syslog?.timestamp],
  [fieldRef('syslog_hostname'), (a) => a.syslog?.hostname],
  [fieldRef('syslog_program'), (a) => a.syslog?.program],
  [fieldRef('syslog_pid'), (a) => a.syslog?.pid],
];

export type Writer = (event: Event, alert: SnortAlert) => void;

/** Compiles the writer for a layout and target (target applies to the nested layout only). */
export function compileWriter(layout: Layout, target: string): Writer {
  const prefix = parseFieldPath(target).map((k) => `[${k}]`).join('');
  const pairs: [FieldRef, Getter][] = layout === 'nested' ? NESTED.map(([k, g]) => [fieldRef(`${prefix}[${k}]`), g]) : REFERENCE.map(([k, g]) => [fieldRef(k), g]);
  return (event, alert) => {
    for (const [ref, get] of pairs) {
      const v = get(alert);
      if (v !== undefined) event.set(ref, v);
    }
    if (alert.syslog === undefined) return;
    for (const [ref, get] of SYSLOG) {
      const v = get(alert);
      if (v !== undefined && !event.includes(ref)) event.set(ref, v);
    }
  };
}
