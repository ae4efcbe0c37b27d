/**
 * Alerta's default alarm model (GET /config of Alerta 9.0.1, `alarm_model.severity`). A severity
 * outside it makes Alerta answer 500, which looks transient but is not: we refuse it before sending.
 */
export const ALERTA_SEVERITIES: readonly string[] = [
  'security',
  'critical',
  'major',
  'minor',
  'warning',
  'indeterminate',
  'informational',
  'normal',
  'ok',
  'cleared',
  'debug',
  'trace',
  'unknown',
];
