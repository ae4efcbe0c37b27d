import { join } from 'node:path';
import { ConfigError, definePlugin, opt, deliverySettings } from '@pipeline/core';
import { compileHeartbeatBuilder, isTemplateStatic, NORMAL_SEVERITIES } from './heartbeat-body.js';
import { LocalHeartbeatMonitor } from './local.js';
import { RemoteHeartbeatOutput } from './remote.js';

export { RemoteHeartbeatOutput } from './remote.js';
export { LocalHeartbeatMonitor } from './local.js';
export { compileHeartbeatBuilder, DEFAULT_ORIGIN, type HeartbeatBody } from './heartbeat-body.js';

/** Alerta's default alarm model, without the normal severities a heartbeat may not carry. */
const HEARTBEAT_SEVERITIES = ['security', 'critical', 'major', 'minor', 'warning', 'indeterminate', 'informational', 'debug', 'trace', 'unknown'];

const fromField = (what: string, key: string) => opt.string({ description: `${what} (sprintf); default: \`[heartbeat][${key}]\`.` });

export default definePlugin({
  kind: 'output',
  name: 'heartbeat',
  description: "Sends Alerta heartbeats (POST /heartbeat), spooled on disk while Alerta is down; or, in local mode, raises an alert itself when an origin's heartbeats stop.",
  options: {
    mode: opt.string({ default: 'alerta', values: ['alerta', 'local'], description: '`alerta` posts to Alerta; `local` checks the timeouts here and writes alerts to `alert_path`' }),
    endpoint: opt.string({ description: 'Alerta API base URL, e.g. `http://127.0.0.1/api` (as `alerta --endpoint-url`); required in alerta mode.' }),
    api_key: opt.password({ description: 'API key, sent as `Authorization: Key ...`; an empty string sends none; never logged.' }),
    origin: opt.string({ description: 'Origin (sprintf); default: `[heartbeat][origin]`, else `pipeline/<hostname>` (as the CLI\'s `<prog>/<host>`).' }),
    timeout: opt.string({ description: 'Seconds before the heartbeat is stale (a number or sprintf); default: `[heartbeat][timeout]`, else Alerta\'s default (86400).' }),
    tags: opt.strings({ description: 'Tags (sprintf each); default: `[heartbeat][tags]`.' }),
    attributes: opt.hash({ description: 'Attributes (string values sprintf), merged over `[heartbeat][attributes]`.' }),
    environment: fromField('`attributes.environment`, as `alerta heartbeat -E`', 'attributes][environment'),
    severity: fromField('`attributes.severity`, as `alerta heartbeat --severity`; a non-normal one of `severities`', 'attributes][severity'),
    service: opt.strings({ description: '`attributes.service` (sprintf each), as `alerta heartbeat --service`.' }),
    group: fromField('`attributes.group`, as `alerta heartbeat --group`', 'attributes][group'),
    customer: fromField('Customer', 'customer'),
    create_time: opt.bool({ default: false, description: "Send the event's @timestamp as createTime (Alerta then reports a heartbeat delivered late from the spool as slow)." }),
    heartbeat_field: opt.field({ default: '[heartbeat]', description: 'Field holding the heartbeat written by the SEC `heartbeat` action.' }),
    severities: opt.strings({ default: HEARTBEAT_SEVERITIES, description: 'Severities a heartbeat may carry; others are refused before sending.' }),
    ssl_certificate_authorities: opt.strings({ aliases: ['cacert'], description: 'PEM CA files trusted for an https endpoint.' }),
    ssl_verification_mode: opt.string({ default: 'full', values: ['full', 'none'], description: '`none` accepts any server certificate' }),
    request_timeout: opt.number({ default: 10, description: 'Seconds to wait for an answer.' }),
    spool_path: opt.path({ description: 'Spool database (also holds local-mode state); default `<path.data>/spool/heartbeat-<id>.sqlite`.' }),
    spool_max_bytes: opt.number({ default: 16 * 1024 * 1024, description: 'Spool size cap; beyond it the oldest heartbeats are collapsed to the newest per origin.' }),
    spool_max_age: opt.number({ default: 86_400, description: 'Seconds a heartbeat may wait; older ones are collapsed to the newest per origin.' }),
    retry_initial_interval: opt.number({ default: 1, description: 'First retry backoff, seconds (doubles, with jitter).' }),
    retry_max_interval: opt.number({ default: 60, description: 'Backoff cap, seconds.' }),
    retry_max_attempts: opt.number({ default: 8, description: 'Attempts for 500/429 answers before dead-lettering (an unreachable Alerta is retried until the spool caps).' }),
    alert_path: opt.path({ description: 'Local mode: JSON lines file for timeout / recovery alerts; default `<path.data>/heartbeat-alerts.jsonl`.' }),
    default_timeout: opt.number({ default: 86_400, description: 'Local mode: seconds a heartbeat without a timeout stays fresh (Alerta\'s HEARTBEAT_TIMEOUT).' }),
    timeout_event: opt.string({ default: 'HeartbeatTimeout', description: 'Local mode: event name of the alert raised on a timeout.' }),
    ok_event: opt.string({ default: 'HeartbeatOK', description: 'Local mode: event name of the normal alert written when the origin is back.' }),
  },
  check(o) {
    if (o.mode === 'alerta') {
      if (!o.endpoint) throw new ConfigError("heartbeat: 'endpoint' is required (or set mode => \"local\")");
      if (!/^https?:\/\//.test(o.endpoint)) throw new ConfigError(`heartbeat: endpoint '${o.endpoint}' must be an http:// or https:// URL`);
    }
    if (o.severity !== undefined && isTemplateStatic(o.severity)) {
      if (NORMAL_SEVERITIES.includes(o.severity)) throw new ConfigError(`heartbeat: severity '${o.severity}' must be a non-normal severity (as alerta heartbeat requires)`);
      if (!o.severities.includes(o.severity)) throw new ConfigError(`heartbeat: severity '${o.severity}' is not one of ${o.severities.join(', ')}`);
    }
    if (o.timeout !== undefined && isTemplateStatic(o.timeout) && !/^\s*\d+\s*$/.test(o.timeout)) throw new ConfigError(`heartbeat: timeout '${o.timeout}' must be a whole number of seconds`);
    for (const k of Object.keys(o.attributes ?? {})) if (k.includes('.') || k.includes('$')) throw new ConfigError(`heartbeat: attribute key '${k}' must not contain "." or "$"`);
    if (!(o.default_timeout > 0)) throw new ConfigError('heartbeat: default_timeout must be a positive number of seconds');
  },
  create(o, ctx) {
    const build = compileHeartbeatBuilder({
      origin: o.origin,
      timeout: o.timeout,
      tags: o.tags,
      attributes: o.attributes,
      environment: o.environment,
      severity: o.severity,
      service: o.service,
      group: o.group,
      customer: o.customer,
      createTime: o.create_time,
      sourceField: o.heartbeat_field,
      severities: o.severities,
    });
    if (o.mode === 'local') {
      return LocalHeartbeatMonitor.open(
        {
          alertPath: o.alert_path ? ctx.resolvePath(o.alert_path) : join(ctx.dataDir, 'heartbeat-alerts.jsonl'),
          defaultTimeoutS: o.default_timeout,
          timeoutEvent: o.timeout_event,
          okEvent: o.ok_event,
          spoolPath: o.spool_path,
        },
        build,
        ctx,
      );
    }
    return RemoteHeartbeatOutput.open(
      {
        endpoint: o.endpoint!,
        apiKey: o.api_key || undefined,
        caFiles: o.ssl_certificate_authorities,
        verifyTls: o.ssl_verification_mode === 'full',
        requestTimeoutMs: o.request_timeout * 1000,
        ...deliverySettings(o),
      },
      build,
      ctx,
    );
  },
});
