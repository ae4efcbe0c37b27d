/**
 * The spool and retry options every delivering output declares (spool_path, spool_max_bytes,
 * spool_max_age, retry_*: each with its own defaults and wording), turned into what Spool and
 * DeliveryLoop take, in milliseconds.
 */
export interface DeliveryOptionValues {
  spool_path?: string;
  spool_max_bytes: number;
  spool_max_age: number;
  retry_initial_interval: number;
  retry_max_interval: number;
  retry_max_attempts: number;
}

export interface DeliverySettings {
  spoolPath?: string;
  spoolMaxBytes: number;
  spoolMaxAgeMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  retryMaxAttempts: number;
}

export function deliverySettings(o: DeliveryOptionValues): DeliverySettings {
  return {
    spoolPath: o.spool_path,
    spoolMaxBytes: o.spool_max_bytes,
    spoolMaxAgeMs: o.spool_max_age * 1000,
    retryInitialMs: o.retry_initial_interval * 1000,
    retryMaxMs: o.retry_max_interval * 1000,
    retryMaxAttempts: o.retry_max_attempts,
  };
}
