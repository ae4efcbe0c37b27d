/** What the pipeline thread and the resolver thread say to each other. */
export const RESOLVE = 0;
export const REVERSE = 1;

/** A lookup's outcome: an answer, none (NXDOMAIN, no data, SERVFAIL...), every attempt timed out, or the server refused the connection. */
export const PENDING = 0;
export const OK = 1;
export const FAIL = 2;
export const TIMEOUT = 3;
export const REFUSED = 4;
