/**
 * The README's examples, read from README.md as written, in one real pipeline run (stdin with
 * json_lines, the five outputs) against the service stand-ins of services.ts on loopback.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineProcess, until } from '@pipeline/core/testing';
import { Services } from './services.js';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '../..');
const wd = mkdtempSync(join(tmpdir(), 'http-out-examples-'));
after(() => rmSync(wd, { recursive: true, force: true }));

function examples(): { name: string; part: 'output' | 'filter'; text: string }[] {
  const readme = readFileSync(join(PKG, 'README.md'), 'utf8');
  const out: { name: string; part: 'output' | 'filter'; text: string }[] = [];
  for (const m of readme.matchAll(/<!-- example: (\w+) (output|filter) -->\n```\n([\s\S]*?)```/g)) out.push({ name: m[1]!, part: m[2] as 'output' | 'filter', text: m[3]! });
  return out;
}

const ALERTS = [
  {
    message: 'sshguard[77]: Attack from "203.0.113.9" on service SSH with danger 10.',
    alert: { event: 'Pfsense - attack from 203.0.113.9 on service SSH', resource: 'pfsense', severity: 'critical', text: 'Attack from 203.0.113.9 on service SSH with danger 10' },
  },
  {
    message: 'smartd[12]: Device: /dev/sda, Currently unreadable (pending) sectors',
    alert: { event: 'Überwachung: Festplatte ⚠', resource: 'nas', severity: 'critical', text: 'nas: /dev/sda has pending sectors — replace it' },
  },
];

describe('the README examples', () => {
  test('ntfy, Gotify, Slack, Discord and Matrix each get every alert in the shape the service wants', async () => {
    const ex = examples();
    assert.deepEqual(
      ex.map((e) => `${e.name} ${e.part}`),
      ['ntfy output', 'gotify output', 'slack output', 'discord output', 'matrix filter', 'matrix output'],
    );
    const svc = await Services.start();
    after(() => svc.stop());
    svc.matrixCutNext = true; // the first Matrix answer is lost: the resend must not post twice
    const conf = join(wd, 'examples.conf');
    writeFileSync(
      conf,
      `input { stdin { codec => json_lines } }\nfilter {\n${ex
        .filter((e) => e.part === 'filter')
        .map((e) => e.text)
        .join('\n')}}\noutput {\n${ex
        .filter((e) => e.part === 'output')
        .map((e) => e.text)
        .join('\n')}}\n`,
    );
    const p = PipelineProcess.start(['-f', conf, '--path.data', join(wd, 'data'), '--api.enabled', 'false'], {
      cwd: wd,
      report: join(wd, 'report.json'),
      env: {
        NTFY_URL: `${svc.url}/ntfy/homelab-alerts`,
        GOTIFY_URL: `${svc.url}/gotify`,
        GOTIFY_TOKEN: Services.GOTIFY_TOKEN,
        SLACK_WEBHOOK_URL: `${svc.url}/slack/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX`,
        DISCORD_WEBHOOK_URL: `${svc.url}/discord/api/webhooks/1234567890/abcdefTOKEN`,
        MATRIX_HOMESERVER: `${svc.url}/matrix`,
        MATRIX_ROOM: '%21homelab%3Aexample.org', // !homelab:example.org
        MATRIX_TOKEN: Services.MATRIX_TOKEN,
      },
    });
    p.stdin.write(ALERTS.map((a) => JSON.stringify(a)).join('\n') + '\n');
    const ok = await until(() => svc.notifications.length >= 10, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
    p.signal('SIGTERM');
    assert.equal(await p.exit(), 0, p.problems());
    assert.ok(ok, `${svc.notifications.length} of 10 notifications${p.problems()}`);
    const by = (s: string) => svc.notifications.filter((n) => n.service === s);
    const [a, b] = ALERTS.map((x) => x.alert);
    assert.deepEqual(by('ntfy'), [
      { service: 'ntfy', title: a!.event, text: a!.text, priority: 5, tags: ['warning', 'pfsense'] },
      { service: 'ntfy', title: b!.event, text: b!.text, priority: 5, tags: ['warning', 'nas'] },
    ]);
    assert.deepEqual(by('gotify'), [
      { service: 'gotify', title: a!.event, text: a!.text, priority: 8 },
      { service: 'gotify', title: b!.event, text: b!.text, priority: 8 },
    ]);
    assert.deepEqual(
      by('slack').map((n) => n.text),
      ALERTS.map((x) => `:rotating_light: *${x.alert.event}* on ${x.alert.resource}: ${x.alert.text}`),
    );
    assert.deepEqual(
      by('discord').map((n) => [n.title, n.text]),
      ALERTS.map((x) => ['Pipeline', `**${x.alert.event}** on ${x.alert.resource}: ${x.alert.text}`]),
    );
    assert.deepEqual(
      by('matrix').map((n) => n.text),
      ALERTS.map((x) => `${x.alert.event}: ${x.alert.text}`),
      'each Matrix message once, though the first was sent twice',
    );
    const matrixPuts = svc.server.attempts.filter((r) => r.path.startsWith('/matrix/'));
    assert.equal(matrixPuts.length, 3);
    assert.equal(matrixPuts[0]!.path, matrixPuts[1]!.path, 'the resend carries the same transaction id');
    assert.match(matrixPuts[0]!.path, /^\/matrix\/_matrix\/client\/v3\/rooms\/%21homelab%3Aexample\.org\/send\/m\.room\.message\/[0-9a-f]{64}$/);
    assert.notEqual(matrixPuts[0]!.path, matrixPuts[2]!.path);
    assert.equal(p.logs(true).filter((r) => r.level === 'error').length, 0, p.problems());
  });
});
