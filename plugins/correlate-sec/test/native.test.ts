/** The native actions' parameters as the rule file is loaded: heartbeat's environment and severity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNativeAction, nativeFields } from '../src/native.js';

test('heartbeat: environment and severity become attributes (as alerta heartbeat -E/--severity send them); a normal severity or the same attribute twice is refused', () => {
  const spec = parseNativeAction('heartbeat', 'origin=$1_backup environment=Homelab severity=Major attributes.site=home');
  assert.deepEqual(nativeFields(spec, ['nas_backup', 'Homelab', 'Major', 'home']), { origin: 'nas_backup', attributes: { environment: 'Homelab', severity: 'major', site: 'home' } });
  assert.throws(() => parseNativeAction('heartbeat', 'origin=x severity=ok'), /heartbeat: severity 'ok' is a normal one, which Alerta refuses on a heartbeat/);
  assert.throws(() => parseNativeAction('heartbeat', 'origin=x severity=information'), /heartbeat: severity 'information' is not one Alerta accepts.*use 'informational'/);
  assert.throws(() => parseNativeAction('heartbeat', 'origin=x environment=A attributes.environment=B'), /heartbeat: attribute 'environment' given twice \(environment= and attributes.environment= set the same attribute\)/);
  assert.throws(() => parseNativeAction('heartbeat', 'origin=x origin=y'), /heartbeat: parameter 'origin' given twice/);
  // a variable severity is checked by the heartbeat output when the value is known
  assert.doesNotThrow(() => parseNativeAction('heartbeat', 'origin=x severity=$2'));
  // alert keeps its own environment and severity fields
  const a = parseNativeAction('alert', 'resource=r event=e environment=Prod severity=Minor');
  assert.deepEqual(nativeFields(a, ['r', 'e', 'Prod', 'Minor']), { resource: 'r', event: 'e', environment: 'Prod', severity: 'minor' });
});
