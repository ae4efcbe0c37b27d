/** Logstash's default facility and severity names (RFC 3164 order, its spelling). */
export const FACILITY_LABELS: readonly string[] = [
  'kernel',
  'user-level',
  'mail',
  'daemon',
  'security/authorization',
  'syslogd',
  'line printer',
  'network news',
  'uucp',
  'clock',
  'security/authorization',
  'ftp',
  'ntp',
  'log audit',
  'log alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

export const SEVERITY_LABELS: readonly string[] = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];
