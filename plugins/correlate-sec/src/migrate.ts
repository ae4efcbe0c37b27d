/**
 * `pipeline sec migrate FILE`: rewrites a rule file's shell actions so that it needs no shell and
 * no log text can reach one, and `pipeline sec check` accepts it without allow_shell:
 *
 * - `shellcmd alerta ... send ...` / `alerta ... heartbeat` become native `alert` / `heartbeat`;
 * - a mail script (`shellcmd send_email.py FROM TO SUBJECT BODY SERVER [PORT]`, as the homelab's)
 *   becomes `attributes.mail_subject=` / `attributes.mail_body=` on the alert of the same action
 *   list: the alert event then carries its mail, and the email output sends it
 *   (`subject => "%{[alert][attributes][mail_subject]}"`), under the alert's conditional; the
 *   relay and addresses go into the email output's options, which the summary prints;
 * - a file tracker (`cspawn NAME tracker ...` and the rule with `context=NAME` whose action is
 *   `addinput`) is removed: Pipeline's rules see every event, and its file input follows globs;
 * - any other shell action (or a rule that needs a shell or Perl: SingleWithScript, PerlFunc) is
 *   commented out with the reason.
 *
 * Everything else is kept as written. The summary lists what was translated, removed and left.
 */
import { replaceSubexpr, EXPRSYMBOL, parseActionList, actionListUsesShell, ActionError } from './actions.js';
import { SEVERITIES } from './native.js';
import { compileRuleFile, type RuleError } from './rules.js';

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
      if (o === '--endpoint-url') warnings.push(`${where}: --endpoint-url ${words[i + 1]} dropped; configure the Alerta output's endpoint instead`);
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
    warnings.push(`${where}: alerta send without --resource and --event cannot become a native alert`);
    return null;
  }
  const parts = [sub === 'send' ? 'alert' : 'heartbeat'];
  for (const [k, v] of fields) parts.push(`${k}=${quote(LISTS.has(k) ? v.join(',') : v[0]!)}`);
  return parts.join(' ');
}


export interface Mail {
  from: string;
  to: string;
  subject: string;
  body: string;
  server: string;
  port: string;
}

/**
 * A mail script's command line: `SCRIPT FROM TO SUBJECT BODY SERVER [PORT]` (the homelab's
 * send_email.py: its usage line and argparse positionals), recognised by a script name with
 * "mail" in it and addresses (or match variables) as its first two arguments. Null otherwise.
 */
export function parseMailCommand(cmd: string): Mail | null {
  const words = shellWords(cmd);
  if (!words || words.length < 6 || words.length > 7) return null;
  const script = words[0]!.replace(/^.*\//, '');
  if (!/mail/i.test(script) || /^(mail|mailx|sendmail)$/.test(script)) return null;
  const [from, to, subject, body, server, port = '25'] = words.slice(1) as [string, string, string, string, string, string?];
  const address = (a: string) => /@|^[$%]/.test(a);
  if (!address(from) || !address(to) || !/^(\d+|[$%]\S+)$/.test(port)) return null;
  return { from, to, subject, body, server, port };
}

/** One thing the migration did or could not do, at a line of the input (1-based). */
export interface MigrateItem {
  line: number;
  what: string;
}

export interface MigrateSummary {
  translated: MigrateItem[];
  removed: MigrateItem[];
  left: MigrateItem[];
  /** The relays and addresses the mails used: the email output's address/port/from/to. */
  mailSettings: { server: string; port: string; from: string; to: string }[];
  /** File globs the removed file trackers watched (for the file input's path). */
  trackedFiles: string[];
}

const shorten = (p: string) => (p.length > 90 ? p.slice(0, 90) + '...' : p);
const SHELL_REASON = "it runs a shell command that has no native equivalent; rewrite it with a native action (write, event, alert, heartbeat ...), or keep it and set allow_shell => true in the sec block";
const ACTION_FIELD = /^(action2?|count\d*|init|end|slide)$/;

/** A logical line of a rule block: one keyword=value field, over one or more physical lines. */
interface Field {
  first: number;
  last: number;
  keyword: string;
  value: string;
  indent: string;
}
/** A rule: consecutive non-blank, non-comment lines (SEC's read_configfile). */
interface Block {
  first: number;
  last: number;
  fields: Field[];
}

function readBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let cur: Block | undefined;
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let logical = lines[i]!;
    while (/\\\s*$/.test(logical) && i + 1 < lines.length) logical = logical.replace(/\\\s*$/, '') + lines[++i]!;
    const trimmed = logical.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      cur = undefined;
      continue;
    }
    if (!cur) blocks.push((cur = { first, last: i, fields: [] }));
    cur.last = i;
    const m = /^(\s*)([A-Za-z0-9]+)\s*=\s*(.*\S)\s*$/s.exec(logical);
    if (m) cur.fields.push({ first, last: i, keyword: m[2]!, value: m[3]!, indent: m[1]! });
  }
  return blocks;
}

/** Splits an action list into its top-level actions (parenthesised parameters kept). */
function splitActions(text: string): string[] | null {
  const list: string[] = [];
  const masked = replaceSubexpr(text.trim(), list);
  if (masked === null) return null;
  return masked
    .split(/\s*;\s*/)
    .filter((p) => p.length)
    .map((p) => {
      while (p.includes(EXPRSYMBOL)) p = p.replace(EXPRSYMBOL, '(' + list.shift()! + ')');
      return p;
    });
}

function usesShell(action: string): boolean {
  try {
    return actionListUsesShell(parseActionList(action, { conffile: '', ruleId: 0 })) !== undefined;
  } catch (e) {
    if (e instanceof ActionError) return /^(shellcmd|cmdexec|spawn|spawnexec|cspawn|cspawnexec|pipe|pipeexec|report|reportexec)\b/i.test(action);
    throw e;
  }
}

/** `shellcmd CMD` / `shellcmd (CMD)`: CMD, else null. */
function shellcmdOf(action: string): string | null {
  const m = /^shellcmd\s+(.*\S)$/is.exec(action);
  if (!m) return null;
  const pm = /^\s*\(\s*(.*?)\s*\)\s*$/s.exec(m[1]!);
  return pm ? pm[1]! : m[1]!;
}

/** One action of a list after migration: kept text, a native alert (which may carry a mail), or dropped. */
type Part = { text: string } | { alert: string; mail?: Mail; mailLine?: number };

interface Pending {
  field: Field;
  parts: Part[];
}

/** Rewrites a rule file's text; `file` names it in warnings and the summary. */
export function migrateRuleFile(text: string, file: string): { text: string; warnings: string[]; summary: MigrateSummary } {
  const lines = text.split('\n');
  const warnings: string[] = [];
  const summary: MigrateSummary = { translated: [], removed: [], left: [], mailSettings: [], trackedFiles: [] };
  const blocks = readBlocks(lines);
  /** Comments to put before a block, by block index. */
  const notes = new Map<number, string[]>();
  const note = (b: number, s: string) => (notes.get(b) ?? notes.set(b, []).get(b)!).push(`# pipeline sec migrate: ${s}`);
  const commentedOut = new Set<number>();
  const removed = new Set<number>();
  const rewritten = new Map<Field, Pending>();

  // file trackers: cspawn NAME ... whose output a rule with context=NAME turns into addinput
  const trackerRule = new Map<number, { name: string; cmd: string }>();
  blocks.forEach((b, bi) => {
    const action = b.fields.find((f) => f.keyword === 'action');
    const parts = action ? splitActions(action.value) : null;
    if (parts?.length === 1) {
      const m = /^cspawn\s+(\S+)\s+(.*\S)$/is.exec(parts[0]!);
      if (m) trackerRule.set(bi, { name: m[1]!, cmd: m[2]! });
    }
  });
  for (const [ti, t] of trackerRule) {
    const readers = blocks
      .map((b, bi) => ({ b, bi }))
      .filter(({ b }) => {
        const ctx = b.fields.find((f) => f.keyword === 'context')?.value.trim();
        const act = b.fields.find((f) => f.keyword === 'action');
        const parts = act ? splitActions(act.value) : null;
        return ctx === t.name && !!parts?.length && parts.every((p) => /^(addinput|dropinput)\s/i.test(p));
      });
    if (!readers.length) continue;
    const globs = (shellWords(t.cmd) ?? []).slice(1).filter((w) => w.startsWith('/')).map((w) => w.replace(/WILD/g, '*'));
    summary.trackedFiles.push(...globs);
    const at = [ti, ...readers.map((r) => r.bi)].map((i) => blocks[i]!.first + 1);
    const what = `the file tracker (cspawn ${t.name} ${shorten(t.cmd)}, and the ${t.name} rule's addinput): file discovery is native, Pipeline's rules see every event of the pipeline`;
    summary.removed.push({ line: at[0]!, what: `${what} (rules at lines ${at.join(', ')})` });
    note(ti, `removed the file tracker rules that were here (cspawn ${t.name} ${t.cmd} / context=${t.name} -> addinput).`);
    note(ti, `File discovery is native: Pipeline's rules see every event, and the file input follows globs itself${globs.length ? `, e.g. path => [${globs.map((g) => `"${g}"`).join(', ')}]` : ''}.`);
    removed.add(ti);
    for (const r of readers) removed.add(r.bi);
  }

  blocks.forEach((b, bi) => {
    if (removed.has(bi)) return;
    const where = `${file}:${b.first + 1}`;
    const type = b.fields.find((f) => f.keyword === 'type')?.value.trim();
    if (type && /^singlewithscript$/i.test(type)) {
      commentedOut.add(bi);
      note(bi, `commented out the rule below: SingleWithScript runs its script through a shell, which has no native equivalent; keep it with allow_shell => true in the sec block, or rewrite it`);
      summary.left.push({ line: b.first + 1, what: 'a SingleWithScript rule (runs its script through a shell): commented out' });
      return;
    }
    const perl = b.fields.find((f) => /^ptype\d*$/i.test(f.keyword) && /^n?perlfunc/i.test(f.value.trim()));
    if (perl) {
      commentedOut.add(bi);
      note(bi, `commented out the rule below: its ${perl.keyword}=${perl.value} pattern runs Perl code, which Pipeline does not execute; rewrite it as a RegExp pattern`);
      summary.left.push({ line: b.first + 1, what: `a ${perl.value} rule (Perl code): commented out` });
      return;
    }
    for (const f of b.fields) {
      if (!ACTION_FIELD.test(f.keyword)) continue;
      const fwhere = `${file}:${f.first + 1}`;
      const actions = splitActions(f.value);
      if (!actions) continue;
      const parts: Part[] = [];
      const mails: { mail: Mail; action: string }[] = [];
      let changed = false;
      for (const a of actions) {
        const cmd = shellcmdOf(a);
        const native = cmd !== null ? translateAlertaCommand(cmd, warnings, fwhere) : null;
        if (native) {
          parts.push(native.startsWith('alert ') ? { alert: native } : { text: native });
          summary.translated.push({ line: f.first + 1, what: `${shorten(a)} -> ${native.split(' ')[0]}` });
          changed = true;
          continue;
        }
        const mail = cmd !== null ? parseMailCommand(cmd) : null;
        if (mail) {
          mails.push({ mail, action: a });
          changed = true;
          continue;
        }
        if (usesShell(a)) {
          note(bi, `left out of line ${f.first + 1}'s ${f.keyword}: '${a}'; ${SHELL_REASON}`);
          summary.left.push({ line: f.first + 1, what: `'${shorten(a)}': commented out (no native equivalent)` });
          changed = true;
          continue;
        }
        parts.push({ text: a });
      }
      for (const m of mails) {
        const carrier = parts.find((p): p is { alert: string; mail?: Mail } => 'alert' in p && !p.mail);
        if (carrier) {
          carrier.mail = m.mail;
          summary.translated.push({ line: f.first + 1, what: `${shorten(m.action)} -> mail_subject/mail_body attributes of the alert` });
          if (!summary.mailSettings.some((s) => s.server === m.mail.server && s.port === m.mail.port && s.from === m.mail.from && s.to === m.mail.to))
            summary.mailSettings.push({ server: m.mail.server, port: m.mail.port, from: m.mail.from, to: m.mail.to });
        } else {
          note(bi, `left out of line ${f.first + 1}'s ${f.keyword}: '${m.action}'; a mail rides on an alert (attributes.mail_subject/mail_body, sent by the email output) and this action list has no alert to carry it; add one, e.g. alert resource=... event=... attributes.mail_subject=${quote(m.mail.subject)} attributes.mail_body=${quote(m.mail.body)}`);
          summary.left.push({ line: f.first + 1, what: `'${shorten(m.action)}': commented out (a mail with no alert in its action list to carry it)` });
        }
      }
      if (changed) rewritten.set(f, { field: f, parts });
    }
  });

  // several senders or recipients: each alert says its own, for from/to templates in the email output
  const perMailAddresses = new Set(summary.mailSettings.map((s) => `${s.from}\u0000${s.to}`)).size > 1;
  const render = (p: Pending): string => {
    const texts = p.parts.map((x) => {
      if ('text' in x) return x.text;
      if (!x.mail) return x.alert;
      const m = x.mail;
      const extra = [`attributes.mail_subject=${quote(m.subject)}`, `attributes.mail_body=${quote(m.body)}`];
      if (perMailAddresses) extra.push(`attributes.mail_from=${quote(m.from)}`, `attributes.mail_to=${quote(m.to)}`);
      return `${x.alert} ${extra.join(' ')}`;
    });
    return `${p.field.indent}${p.field.keyword}=${texts.length ? texts.join('; ') : 'none'}`;
  };

  const out: string[] = [];
  const blockAt = new Map(blocks.map((b, bi) => [b.first, bi]));
  for (let i = 0; i < lines.length; i++) {
    const bi = blockAt.get(i);
    if (bi === undefined) {
      out.push(lines[i]!);
      continue;
    }
    const b = blocks[bi]!;
    out.push(...(notes.get(bi) ?? []));
    if (removed.has(bi)) {
      i = b.last;
      continue;
    }
    if (commentedOut.has(bi)) {
      for (let j = b.first; j <= b.last; j++) out.push(`# ${lines[j]}`);
      i = b.last;
      continue;
    }
    for (let j = b.first; j <= b.last; j++) {
      const f = b.fields.find((x) => x.first === j);
      const p = f && rewritten.get(f);
      if (p) {
        out.push(render(p));
        j = f.last;
      } else out.push(lines[j]!);
    }
    i = b.last;
  }
  let result = out.join('\n');
  // what is still refused without allow_shell (a shell action nested in if/while, say): commented out
  for (let round = 0; round < 5; round++) {
    const errors: RuleError[] = [];
    compileRuleFile(result, file, {}, errors);
    const bad = errors.filter((e) => /runs a shell command|runs Perl code/.test(e.message));
    if (!bad.length) break;
    const rl = result.split('\n');
    const rb = readBlocks(rl);
    const hit = new Map<number, string>();
    for (const e of bad) {
      const k = rb.findIndex((b) => e.line - 1 >= b.first && e.line - 1 <= b.last);
      if (k >= 0 && !hit.has(k)) hit.set(k, e.message);
    }
    if (!hit.size) break;
    const next: string[] = [];
    for (let i = 0; i < rl.length; i++) {
      const k = rb.findIndex((b) => b.first === i);
      if (k >= 0 && hit.has(k)) {
        const b = rb[k]!;
        next.push(`# pipeline sec migrate: commented out the rule below: ${hit.get(k)}`);
        for (let j = b.first; j <= b.last; j++) next.push(`# ${rl[j]}`);
        summary.left.push({ line: b.first + 1, what: `the rule at output line ${b.first + 1} (${hit.get(k)}): commented out` });
        i = b.last;
      } else next.push(rl[i]!);
    }
    result = next.join('\n');
  }
  return { text: result, warnings: collapseEndpoints(warnings), summary };
}

/** One warning per dropped Alerta endpoint, naming its lines, instead of one per alerta call. */
function collapseEndpoints(warnings: string[]): string[] {
  const out: string[] = [];
  const byUrl = new Map<string, { at: number; lines: string[] }>();
  for (const w of warnings) {
    const m = /^(.*):(\d+): --endpoint-url (.*) dropped; (.*)$/.exec(w);
    if (!m) {
      out.push(w);
      continue;
    }
    const e = byUrl.get(m[3]!);
    if (e) e.lines.push(m[2]!);
    else {
      byUrl.set(m[3]!, { at: out.length, lines: [m[2]!] });
      out.push(`${m[1]}:${m[2]}: --endpoint-url ${m[3]} dropped; ${m[4]}`);
    }
  }
  for (const [url, e] of byUrl) if (e.lines.length > 1) out[e.at] = out[e.at]!.replace(`--endpoint-url ${url} dropped`, `--endpoint-url ${url} dropped (lines ${e.lines.join(', ')})`);
  return out;
}

/** The summary as lines for stderr. */
export function formatMigrateSummary(file: string, s: MigrateSummary): string {
  const natives = s.translated.filter((t) => !/mail_subject/.test(t.what));
  const alerts = natives.filter((t) => /-> alert$/.test(t.what)).length;
  const beats = natives.filter((t) => /-> heartbeat$/.test(t.what)).length;
  const mails = s.translated.length - natives.length;
  const out = [`pipeline sec migrate ${file}: translated ${alerts} alert(s), ${beats} heartbeat(s), ${mails} mail(s); removed ${s.removed.length}; left ${s.left.length}`];
  const list = (title: string, items: MigrateItem[]) => {
    out.push(`${title}:${items.length ? '' : ' none'}`);
    for (const it of items) out.push(`  line ${it.line}: ${it.what}`);
  };
  list('translated', s.translated);
  list('removed', s.removed);
  list('left (commented out, with the reason, in the output)', s.left);
  if (s.mailSettings.length) {
    out.push('mail: the email output sends the alerts that carry [alert][attributes][mail_subject]; configure it with:');
    for (const m of s.mailSettings) out.push(`  address => "${m.server}" port => ${m.port} from => "${m.from}" to => "${m.to}"`);
    out.push('  subject => "%{[alert][attributes][mail_subject]}" body => "%{[alert][attributes][mail_body]}" (under: if "alert" in [tags] and [alert][attributes][mail_subject])');
    if (s.mailSettings.length > 1) {
      out.push('  the mails used different relays or addresses: each alert carries attributes.mail_from/mail_to (from => "%{[alert][attributes][mail_from]}" to => "%{[alert][attributes][mail_to]}"); one email output per relay');
    }
  }
  if (s.trackedFiles.length) out.push(`files: the removed tracker watched ${s.trackedFiles.join(' ')}; a file input reads them: file { path => [${s.trackedFiles.map((g) => `"${g}"`).join(', ')}] }`);
  return out.join('\n') + '\n';
}
