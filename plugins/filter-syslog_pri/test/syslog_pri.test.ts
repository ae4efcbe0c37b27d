import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, type Fields } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import syslogPri from '../src/index.js';

async function run(config: string, fields: Fields) {
  const f = await createPlugin(syslogPri, config);
  const event = new Event(fields);
  const matched = f.filter(event, () => {});
  const { '@timestamp': _t, '@version': _v, ...rest } = event.fields;
  return { rest, matched };
}

describe('syslog_pri', () => {
  it('splits a PRI into codes and Logstash labels', async () => {
    const { rest, matched } = await run('', { syslog_pri: '34' });
    assert.equal(matched, true);
    assert.deepEqual(rest, { syslog_pri: '34', syslog_severity_code: 2, syslog_facility_code: 4, syslog_facility: 'security/authorization', syslog_severity: 'critical' });
  });
  it('covers every facility and severity label', async () => {
    const facilities: string[] = [];
    const severities: string[] = [];
    for (let p = 0; p < 192; p++) {
      const { rest } = await run('', { syslog_pri: p });
      assert.equal(rest.syslog_facility_code, p >> 3);
      assert.equal(rest.syslog_severity_code, p & 7);
      if ((p & 7) === 0) facilities.push(rest.syslog_facility as string);
      if (p < 8) severities.push(rest.syslog_severity as string);
    }
    assert.equal(facilities[0], 'kernel');
    assert.equal(facilities[1], 'user-level');
    assert.equal(facilities[13], 'log audit');
    assert.equal(facilities[23], 'local7');
    assert.deepEqual(severities, ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug']);
  });
  it('defaults to 13 (user-level notice) when the field is missing', async () => {
    assert.equal((await run('', { syslog_pri: null })).rest.syslog_severity, 'notice');
    const { rest } = await run('', {});
    assert.deepEqual(rest, { syslog_severity_code: 5, syslog_facility_code: 1, syslog_facility: 'user-level', syslog_severity: 'notice' });
  });
  it('takes the first element of an array and reads strings as Ruby to_i does', async () => {
    assert.equal((await run('', { syslog_pri: ['165', '1'] })).rest.syslog_facility, 'local4');
    assert.equal((await run('', { syslog_pri: ' 14x' })).rest.syslog_severity, 'informational');
    assert.equal((await run('', { syslog_pri: 'abc' })).rest.syslog_facility, 'kernel');
    assert.equal((await run('', { syslog_pri: 13.9 })).rest.syslog_severity_code, 5);
    assert.equal((await run('', { syslog_pri: [null] })).rest.syslog_facility, 'kernel');
  });
  it('leaves labels out for codes beyond the tables, and indexes negative codes from the end as Ruby does', async () => {
    const big = await run('', { syslog_pri: 999 });
    assert.equal(big.rest.syslog_facility_code, 124);
    assert.equal('syslog_facility' in big.rest, false);
    assert.equal(big.rest.syslog_severity, 'debug');
    const neg = await run('', { syslog_pri: -5 });
    assert.equal(neg.rest.syslog_facility_code, -1);
    assert.equal(neg.rest.syslog_facility, 'local7');
    assert.equal(neg.rest.syslog_severity_code, 3);
  });
  it('honours syslog_pri_field_name, use_labels and custom labels', async () => {
    assert.deepEqual((await run('syslog_pri_field_name => "[s][pri]" use_labels => false', { s: { pri: '0' } })).rest, { s: { pri: '0' }, syslog_severity_code: 0, syslog_facility_code: 0 });
    const custom = await run('facility_labels => ["k", "u"] severity_labels => ["e0","e1","e2","e3","e4","n"]', { syslog_pri: 13 });
    assert.equal(custom.rest.syslog_facility, 'u');
    assert.equal(custom.rest.syslog_severity, 'n');
  });
  it('uses ECS field names when ecs_compatibility is set', async () => {
    const { rest } = await run('ecs_compatibility => "v8"', { log: { syslog: { priority: 86 } } });
    assert.deepEqual(rest, { log: { syslog: { priority: 86, severity: { code: 6, name: 'informational' }, facility: { code: 10, name: 'security/authorization' } } } });
  });
  it('leaves values with no number form alone', async () => {
    const { rest, matched } = await run('', { syslog_pri: { a: 1 } });
    assert.equal(matched, false);
    assert.deepEqual(rest, { syslog_pri: { a: 1 } });
  });
});
