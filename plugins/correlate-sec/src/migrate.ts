/**
 * `pipeline sec migrate FILE`: rewrites `shellcmd alerta ... send ...` and `alerta ... heartbeat`
 * calls into native `alert` / `heartbeat` actions, so the rules need no shell and no log text can
 * reach one. Everything else is kept as written; what cannot be translated is reported.
 */
import { replaceSubexpr, EXPRSYMBOL } from './actions.js';
import { SEVERITIES } from './native.js';

/** Splits a command line like /bin/sh would for words and quotes (no expansion). */
function shellWords(cmd: string): string[] | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) return null;
      cur += cmd.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < cmd.length && cmd[j] !== '"'; j++) {
        if (cmd[j] === '\\' && /["\\$`]/.test(cmd[j + 1] ?? '')) j++;
        cur += cmd[j];
      }
      if (j >= cmd.length) return null;
      i = j;
      inWord = true;
    } else if (c === '\\') {
      cur += cmd[i + 1] ?? '';
      i++;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (/[|&;<>`]/.test(c) || (c === '$' && cmd[i + 1] === '(')) return null;
    else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

const SEND_OPTS: Record<string, string> = {
  '-r': 'resource', '--resource': 'resource', '-e': 'event', '--event': 'event', '-E': 'environment', '--environment': 'environment',
  '-s': 'severity', '--severity': 'severity', '-C': 'correlate', '--correlate': 'correlate', '--status': 'status',
  '-S': 'service', '--service': 'service', '-g': 'group', '--group': 'group', '-v': 'value', '--value': 'value',
  '-t': 'text', '--text': 'text', '-T': 'tags', '--tag': 'tags', '-A': 'attributes', '--attributes': 'attributes',
  '-O': 'origin', '--origin': 'origin', '--type': 'type', '--timeout': 'timeout', '--raw-data': 'raw_data',
};
const HB_OPTS: Record<string, string> = {
  '-O': 'origin', '--origin': 'origin', '-T': 'tags', '--tag': 'tags', '--timeout': 'timeout',
  '-E': 'attributes.environment', '--environment': 'attributes.environment', '-s': 'attributes.severity', '--severity': 'attributes.severity',
  '-g': 'attributes.group', '--group': 'attributes.group',
};
const LISTS = new Set(['correlate', 'service', 'tags']);

function quote(v: string): string {
  return /^[^\s"';()]+$/.test(v) ? v : '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Translates one shellcmd command line; returns the native action or a reason it could not. */
export function translateAlertaCommand(cmd: string, warnings: string[], where: string): string | null {
  const words = shellWords(cmd);
  if (!words || !words.length || !/(^|\/)alerta$/.test(words[0]!)) return null;
  let i = 1;
  // global options before the subcommand
  while (i < words.length && words[i]!.startsWith('-')) {
    const o = words[i]!;
    if (o === '--endpoint-url' || o === '--profile' || o === '--config-file' || o === '--timeout' || o === '--output' || o === '--color') {
      if (o === '--endpoint-url') warnings.push(`${where}: --endpoint-url ${words[i + 1]} dropped; configure the Alerta output's url instead`);
      i += 2;
    } else if (o.startsWith('--') && o.includes('=')) i++;
    else i++;
  }
  const sub = words[i++];
  if (sub !== 'send' && sub !== 'heartbeat') return null;
  const map = sub === 'send' ? SEND_OPTS : HB_OPTS;
  const fields = new Map<string, string[]>();
  while (i < words.length) {
    let o = words[i]!;
    let val: string | undefined;
    const eq = o.indexOf('=');
    if (o.startsWith('--') && eq > 0) {
      val = o.slice(eq + 1);
      o = o.slice(0, eq);
    } else val = words[++i];
    i++;
    const key = map[o];
    if (!key || val === undefined) {
      warnings.push(`${where}: alerta ${sub} option '${o}' has no native equivalent and was dropped`);
      continue;
    }
    // `--text \'$0\'` in sec rules leaves literal quotes around the value: the shell saw them
    if (/^'.*'$/s.test(val) && val.length >= 2) {
      val = val.slice(1, -1);
    }
    if (key === 'attributes') {
      const k = val.indexOf('=');
      if (k <= 0) {
        warnings.push(`${where}: attribute '${val}' is not key=value and was dropped`);
        continue;
      }
      fields.set(`attributes.${val.slice(0, k)}`, [val.slice(k + 1)]);
      continue;
    }
    if (key === 'severity' || key === 'attributes.severity') {
      const lower = val.toLowerCase();
      if (lower === 'information') {
        warnings.push(`${where}: severity 'information' is not one Alerta accepts; mapped to 'informational'`);
        val = 'informational';
      } else if (!/[$%]/.test(val) && !SEVERITIES.includes(lower)) warnings.push(`${where}: severity '${val}' is not one Alerta accepts; kept as written`);
    }
    const prev = fields.get(key);
    if (prev && LISTS.has(key)) prev.push(val);
    else fields.set(key, [val]);
  }
  if (sub === 'send' && (!fields.has('resource') || !fields.has('event'))) {
    warnings.push(`${where}: alerta send without --resource and --event cannot become a native alert; kept as shellcmd`);
    return null;
  }
  const parts = [sub === 'send' ? 'alert' : 'heartbeat'];
  for (const [k, v] of fields) parts.push(`${k}=${quote(LISTS.has(k) ? v.join(',') : v[0]!)}`);
  return parts.join(' ');
}

/** Rewrites one action list text; returns null when nothing changed. */
function migrateActionList(text: string, warnings: string[], where: string): string | null {
  const list: string[] = [];
  const masked = replaceSubexpr(text.trim(), list);
  if (masked === null) return null;
  const parts = masked.split(/\s*;\s*/).filter((p, i, a) => p.length || i < a.length - 1);
  let changed = false;
  const out: string[] = [];
  for (const p0 of parts) {
    let p = p0;
    while (p.includes(EXPRSYMBOL)) p = p.replace(EXPRSYMBOL, '(' + list.shift()! + ')');
    const m = /^shellcmd\s+(.*\S)$/is.exec(p);
    if (m) {
      let cmd = m[1]!;
      const pm = /^\s*\(\s*(.*?)\s*\)\s*$/s.exec(cmd);
      if (pm) cmd = pm[1]!;
      const native = translateAlertaCommand(cmd, warnings, where);
      if (native) {
        out.push(native);
        changed = true;
        continue;
      }
      warnings.push(`${where}: could not translate '${p.length > 90 ? p.slice(0, 90) + '...' : p}' (still needs allow_shell => true)`);
    } else if (/^(spawn|cspawn|pipe|cmdexec|spawnexec|cspawnexec|pipeexec)\s/i.test(p) || (/^report\s+\S+\s+\S/i.test(p))) {
      warnings.push(`${where}: could not translate '${p.length > 90 ? p.slice(0, 90) + '...' : p}' (still needs allow_shell => true)`);
    }
    out.push(p);
  }
  return changed ? out.join('; ') : null;
}

/** Rewrites a rule file's text; `file` names it in warnings. */
export function migrateRuleFile(text: string, file: string): { text: string; warnings: string[] } {
  const lines = text.split('\n');
  const warnings: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i]!;
    const group = [lines[i]!];
    while (/\\\s*$/.test(logical) && i + 1 < lines.length) {
      logical = logical.replace(/\\\s*$/, '') + lines[++i]!;
      group.push(lines[i]!);
    }
    const m = /^(\s*)(action2?|count\d*|init|end|slide)(\s*=\s*)(.*\S)\s*$/s.exec(logical);
    if (m && !/^\s*#/.test(lines[start]!)) {
      const where = `${file}:${start + 1}`;
      if (/^\s*type\s*=\s*SingleWithScript/im.test(text) && m[2] === 'action') {
        /* the script itself is checked below */
      }
      const migrated = migrateActionList(m[4]!, warnings, where);
      if (migrated !== null) {
        out.push(`${m[1]}${m[2]}${m[3]}${migrated}`);
        continue;
      }
    }
    if (/^\s*type\s*=\s*SingleWithScript\s*$/i.test(logical)) warnings.push(`${file}:${start + 1}: SingleWithScript runs a script through the shell; could not translate`);
    if (/^\s*ptype\d*\s*=\s*n?perlfunc/i.test(logical)) warnings.push(`${file}:${start + 1}: PerlFunc patterns run Perl code; could not translate`);
    out.push(...group);
  }
  return { text: out.join('\n'), warnings };
}
