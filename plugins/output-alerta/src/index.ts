import { ConfigError, definePlugin, opt, deliverySettings } from '@pipeline/core';
import { isTemplateStatic } from './alert-body.js';
import { AlertaOutput } from './output.js';
import { ALERTA_SEVERITIES } from './severities.js';

export { AlertaOutput } from './output.js';
export { ALERTA_SEVERITIES } from './severities.js';

const field = (what: string) => opt.string({ description: `${what} (sprintf); default: the event's \`[alert]\` value.` });

export default definePlugin({
  kind: 'output',
  name: 'alerta',
  description: "Sends every event as an alert to Alerta's REST API (POST /alert), spooled on disk while Alerta is down.",
  options: {
    endpoint: opt.string({ required: true, description: "Alerta API base URL, e.g. `http://127.0.0.1/api` (as `alerta --endpoint-url`)." }),
    api_key: opt.password({ description: 'API key, sent as `Authorization: Key ...`; never logged.' }),
    resource: field('Alert resource'),
    event: field('Alert event name'),
    environment: field('Environment'),
    severity: field('Severity; must be one of `severities`'),
    correlate: opt.strings({ description: "Correlated event names (sprintf each); default: `[alert][correlate]`." }),
    status: field('Status'),
    service: opt.strings({ description: "Services (sprintf each); default: `[alert][service]`." }),
    group: field('Group'),
    value: field('Value'),
    text: field('Text'),
    tags: opt.strings({ description: "Tags (sprintf each); default: `[alert][tags]`." }),
    attributes: opt.hash({ description: "Attributes (values sprintf), merged over `[alert][attributes]`." }),
    origin: field('Origin'),
    type: field('Event type'),
    timeout: opt.string({ description: "Timeout in seconds (a number or sprintf); default: `[alert][timeout]`." }),
    raw_data: field('Raw data'),
    create_time: opt.bool({ default: true, description: "Send the event's @timestamp as createTime." }),
    alert_field: opt.field({ default: '[alert]', description: 'Field holding the alert written by the correlate stage.' }),
    severities: opt.strings({ default: [...ALERTA_SEVERITIES], description: "Severities Alerta accepts (its alarm model); others are refused before sending." }),
    allowed_environments: opt.strings({ description: 'If set, alerts for other environments are refused before sending (as Alerta ALLOWED_ENVIRONMENTS).' }),
    ssl_certificate_authorities: opt.strings({ aliases: ['cacert'], description: 'PEM CA files trusted for an https endpoint.' }),
    ssl_verification_mode: opt.string({ default: 'full', values: ['full', 'none'], description: 'none accepts any server certificate.' }),
    request_timeout: opt.number({ default: 10, description: 'Seconds to wait for an answer.' }),
    spool_path: opt.path({ description: 'Spool database; default `<path.data>/spool/alerta-<id>.sqlite`.' }),
    spool_max_bytes: opt.number({ default: 64 * 1024 * 1024, description: 'Spool size cap; the oldest alerts beyond it are summarised in one alert.' }),
    spool_max_age: opt.number({ default: 86_400, description: 'Seconds an alert may wait; older ones are summarised in one alert.' }),
    retry_initial_interval: opt.number({ default: 1, description: 'First retry backoff, seconds (doubles, with jitter).' }),
    retry_max_interval: opt.number({ default: 60, description: 'Backoff cap, seconds.' }),
    retry_max_attempts: opt.number({ default: 8, description: 'Attempts for 500/429 answers before dead-lettering (an unreachable Alerta is retried until the spool caps).' }),
  },
  check(o) {
    if (o.severity !== undefined && isTemplateStatic(o.severity) && !o.severities.includes(o.severity))
      throw new ConfigError(`alerta: severity '${o.severity}' is not one of Alerta's: ${o.severities.join(', ')}`);
    if (o.environment !== undefined && isTemplateStatic(o.environment) && o.allowed_environments?.length && !o.allowed_environments.includes(o.environment))
      throw new ConfigError(`alerta: environment '${o.environment}' is not in allowed_environments (${o.allowed_environments.join(', ')})`);
    if (o.timeout !== undefined && isTemplateStatic(o.timeout) && !/^\s*\d+\s*$/.test(o.timeout)) throw new ConfigError(`alerta: timeout '${o.timeout}' must be a whole number of seconds`);
    if (!/^https?:\/\//.test(o.endpoint)) throw new ConfigError(`alerta: endpoint '${o.endpoint}' must be an http:// or https:// URL`);
    for (const k of Object.keys(o.attributes ?? {})) if (k.includes('.') || k.includes('$')) throw new ConfigError(`alerta: attribute key '${k}' must not contain "." or "$"`);
  },
  create(o, ctx) {
    return AlertaOutput.open(
      {
        endpoint: o.endpoint,
        apiKey: o.api_key,
        resource: o.resource,
        event: o.event,
        environment: o.environment,
        severity: o.severity,
        correlate: o.correlate,
        status: o.status,
        service: o.service,
        group: o.group,
        value: o.value,
        text: o.text,
        tags: o.tags,
        attributes: o.attributes,
        origin: o.origin,
        type: o.type,
        timeout: o.timeout,
        raw_data: o.raw_data,
        createTime: o.create_time,
        sourceField: o.alert_field,
        severities: o.severities,
        allowedEnvironments: o.allowed_environments,
        caFiles: o.ssl_certificate_authorities,
        verifyTls: o.ssl_verification_mode === 'full',
        requestTimeoutMs: o.request_timeout * 1000,
        ...deliverySettings(o),
      },
      ctx,
    );
  },
});
