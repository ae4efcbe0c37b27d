import { ConfigError, definePlugin, fieldRef, FieldRefError, opt, type FieldRef } from '@pipeline/core';
import { FACILITY_LABELS, SEVERITY_LABELS } from './labels.js';
import { rubyToI } from './ruby-to-i.js';

const options = {
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'field names: syslog_* (disabled) or [log][syslog][...] (v1, v8)' }),
  syslog_pri_field_name: opt.field({ description: 'field holding the PRI number; default syslog_pri, or [log][syslog][priority] with ECS' }),
  use_labels: opt.bool({ default: true, description: 'also set the facility and severity names' }),
  facility_labels: opt.strings({ default: [...FACILITY_LABELS], description: 'facility names, by code' }),
  severity_labels: opt.strings({ default: [...SEVERITY_LABELS], description: 'severity names, by code' }),
};

/** Per RFC 3164 a message without a PRI has priority 13 (user-level, notice). */
const DEFAULT_PRIORITY = 13;

export default definePlugin({
  kind: 'filter',
  name: 'syslog_pri',
  parallel: true,
  description: 'Splits a syslog PRI number into facility and severity codes and names.',
  options,
  create(o) {
    const ecs = o.ecs_compatibility !== 'disabled';
    let source: FieldRef;
    try {
      source = fieldRef(o.syslog_pri_field_name ?? (ecs ? '[log][syslog][priority]' : 'syslog_pri'));
    } catch (e) {
      if (e instanceof FieldRefError) throw new ConfigError(`syslog_pri: ${e.message}`);
      throw e;
    }
    const severityCode = fieldRef(ecs ? '[log][syslog][severity][code]' : 'syslog_severity_code');
    const facilityCode = fieldRef(ecs ? '[log][syslog][facility][code]' : 'syslog_facility_code');
    const severityName = fieldRef(ecs ? '[log][syslog][severity][name]' : 'syslog_severity');
    const facilityName = fieldRef(ecs ? '[log][syslog][facility][name]' : 'syslog_facility');
    const { use_labels: useLabels, facility_labels: facilities, severity_labels: severities } = o;
    return {
      filter(event) {
        const raw = source.get(event.fields);
        // Ruby truthiness: nil and false mean "no PRI"; an array's first element is read even when nil.
        const priority = raw === undefined || raw === null || raw === false ? DEFAULT_PRIORITY : rubyToI(Array.isArray(raw) ? (raw[0] ?? null) : raw);
        // A value with no number form (a hash, true) is left alone, where Logstash raises.
        if (priority === undefined) return false;
        // Ruby integer semantics: `&` and `>>` on negative numbers behave as two's complement,
        // and a negative code indexes the labels from the end.
        const severity = priority & 7;
        const facility = Math.floor(priority / 8);
        severityCode.set(event.fields, severity);
        facilityCode.set(event.fields, facility);
        if (useLabels) {
          const fl = facilities.at(facility);
          if (fl !== undefined && fl !== null) facilityName.set(event.fields, fl);
          const sl = severities.at(severity);
          if (sl !== undefined && sl !== null) severityName.set(event.fields, sl);
        }
        return true;
      },
    };
  },
});
