/**
 * Alerta echoes an unknown API key in its 401 message ("API key parameter '<key>' is invalid"), so
 * every message we log or dead-letter goes through this first.
 */
export function makeRedactor(apiKey: string | undefined): (s: string) => string {
  return (s: string) => {
    let out = s.replace(/(API key parameter ')[^']*(')/g, '$1<redacted>$2').replace(/\b(Key|Bearer)\s+[A-Za-z0-9_\-.~+/=]{8,}/g, '$1 <redacted>');
    if (apiKey) out = out.split(apiKey).join('<redacted>');
    return out;
  };
}
