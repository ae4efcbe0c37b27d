/**
 * Alerta repeats an unknown API key in its 401 answer ("API key parameter '<key>' is invalid"), so
 * every message this output logs or dead-letters passes through here: the configured key, a quoted
 * key after "API key", and `Key`/`Bearer` credentials are replaced by `<redacted>`.
 */
export function makeRedactor(apiKey: string | undefined): (s: string) => string {
  const quoted = /(API key[^']*')[^']*(')/gi;
  const credential = /\b(Key|Bearer)\s+[A-Za-z0-9_\-.~+/=]{8,}/g;
  return (s) => {
    let out = s.replace(quoted, '$1<redacted>$2').replace(credential, '$1 <redacted>');
    if (apiKey) out = out.split(apiKey).join('<redacted>');
    return out;
  };
}
