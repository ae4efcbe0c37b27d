/**
 * Grok pattern files, read the way jls-grok reads them: one `NAME DEFINITION` per line, `#` lines
 * skipped, leading blanks removed, split once at the first whitespace run, only the line terminator
 * chomped (trailing spaces belong to the definition, as in REDISLOG), lines without a definition skipped.
 */
export function parsePatternText(text: string, into: Map<string, string> = new Map()): Map<string, string> {
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (/^\s*#/.test(line)) continue;
    const m = /^\s*(\S+)\s+([\s\S]+)$/.exec(line);
    if (!m) continue;
    into.set(m[1]!, m[2]!);
  }
  return into;
}
