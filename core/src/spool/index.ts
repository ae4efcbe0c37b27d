/** The durable spool shared by outputs that deliver to a remote service (alerta, heartbeat, email). */
export { Spool, isDiskFullError, type SpoolOptions, type SpoolItem, type NewItem, type AddResult, type DeadLetter, type StagedRow } from './spool.js';
export { DeliveryLoop, deliveryCounters, type DeliveryOutcome, type DeliveryOptions, type DeliveryCounters, type RetryPolicy } from './delivery.js';
export { spoolPath } from './paths.js';
export { freeBytes } from './disk-full.js';
export { HttpJsonClient, classifyHttp, classifyNetworkError, errorMessage, retryAfterMs, type HttpJsonClientOptions, type HttpResponse } from './http.js';
export { AlertaPoster, makeApiKeyRedactor, type AlertaPosterOptions, type BuiltBody } from './alerta-poster.js';
export { deliverySettings, type DeliveryOptionValues, type DeliverySettings } from './settings.js';
