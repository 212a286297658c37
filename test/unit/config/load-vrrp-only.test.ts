/**
 * A VRRP-only config (issue 14 item 2): `instance`, `metrics` and `vrrp:`
 * alone are a valid config (a floating address for an HAProxy pair, as
 * keepalived -P runs it), and it needs no data plane. A config with neither
 * services nor vrrp, or with services and no interfaces, is refused with a
 * message that says why. The JSON Schema says the same as the loader.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { needsDataplane, ROOT_NEEDS } from '../../../src/config/model.js';
import { SCHEMA } from '../../../src/config/schema.js';
import { yaml } from './yaml-text.js';

const F = 'ha.yaml';

const VRRP = yaml`
  vrrp:
    instances:
      - name: VI_1
        interface: eth0
        virtual_router_id: 51
        priority: 150
        virtual_ipaddress: [192.0.2.100/24]
`;

const NEITHER = 'services: missing required key (a config balances services, runs vrrp alone (a floating address, as keepalived -P does), runs bfd sessions alone (monitoring), or any of these)';
const NO_IFS = 'interfaces: missing required key (the XDP program that forwards the services is attached to these interfaces)';

/** Every error message of `text`, or [] when it is valid. */
function errors(text: string): string[] {
  const r = parseConfig(text, F);
  return r.ok ? [] : r.errors.map((e) => e.message);
}

describe('parseConfig: a VRRP-only config', () => {
  it('instance, metrics and vrrp alone: valid, no services, no interfaces, no data plane', () => {
    const r = parseConfig(`instance: ha\nmetrics: { listen: 127.0.0.1:9901 }\n${VRRP}`, F);
    if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    assert.deepEqual(r.config.services, []);
    assert.deepEqual(r.config.interfaces, []);
    assert.equal(r.config.instance, 'ha');
    assert.deepEqual(r.config.metrics, { host: '127.0.0.1', port: 9901 });
    assert.deepEqual(
      r.config.vrrp?.instances.map((i) => [i.name, i.interface, i.vrid, i.priority, i.virtualIpaddress.map((v) => `${v.address}/${v.prefix}`)]),
      [['VI_1', 'eth0', 51, 150, ['192.0.2.100/24']]],
    );
    assert.equal(needsDataplane(r.config), false);
  });

  it('vrrp alone, without instance or metrics: valid (their defaults)', () => {
    assert.deepEqual(errors(VRRP), []);
  });

  it('vrrp with interfaces and no services: valid, and the data plane runs on them (with no VIP)', () => {
    const r = parseConfig(`interfaces: [{ name: eth0 }]\n${VRRP}`, F);
    assert.ok(r.ok);
    assert.equal(needsDataplane(r.config), true);
  });

  it('services: [] with interfaces: the data plane, as before', () => {
    const r = parseConfig(`interfaces: [{ name: eth0 }]\nservices: []\n${VRRP}`, F);
    assert.ok(r.ok);
    assert.equal(needsDataplane(r.config), true);
  });

  it('a service: the data plane', () => {
    const r = parseConfig(`interfaces: [{ name: eth0 }]\nservices: [{ address: 192.0.2.100, port: 80, mode: dr, backends: [{ address: 198.51.100.11 }] }]\n${VRRP}`, F);
    assert.ok(r.ok);
    assert.equal(needsDataplane(r.config), true);
  });

  it('examples/vrrp-only.yaml: the documented HAProxy pair', async () => {
    const r = await loadConfigFile(fileURLToPath(new URL('../../../../examples/vrrp-only.yaml', import.meta.url)));
    if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    assert.deepEqual([r.config.services.length, r.config.interfaces.length, needsDataplane(r.config)], [0, 0, false]);
    assert.deepEqual(r.config.vrrp?.instances.map((i) => i.name), ['VI_WEB']);
    assert.deepEqual(r.config.vrrp?.scripts.map((s) => s.name), ['chk_haproxy']);
  });
});

describe('parseConfig: what a config needs at its root', () => {
  it('an empty file: services or vrrp, said once', () => {
    assert.deepEqual(errors('# nothing yet\n'), [`${F}:1:1: ${NEITHER}`]);
  });

  it('instance and metrics alone: services or vrrp', () => {
    assert.deepEqual(errors('instance: ha\nmetrics: { listen: 127.0.0.1:9901 }\n'), [`${F}:1:1: ${NEITHER}`]);
  });

  it('interfaces alone: services or vrrp', () => {
    assert.deepEqual(errors('interfaces: [{ name: eth0 }]\n'), [`${F}:1:1: ${NEITHER}`]);
  });

  it('services without interfaces: interfaces, with or without vrrp', () => {
    const svc = 'services: [{ address: 192.0.2.100, port: 80, mode: dr, backends: [{ address: 198.51.100.11 }] }]\n';
    assert.deepEqual(errors(svc), [`${F}:1:1: ${NO_IFS}`]);
    assert.deepEqual(errors(`${svc}${VRRP}`), [`${F}:1:1: ${NO_IFS}`]);
    assert.deepEqual(errors('services: []\n'), [`${F}:1:1: ${NO_IFS}`]);
  });

  it('vrrp with no instance and no services: nothing to run', () => {
    const msg = 'vrrp.instances: expected at least one instance: a config without services runs its VRRP instances alone';
    assert.deepEqual(errors('instance: ha\nvrrp: {}\n'), [`${F}:2:7: ${msg}`]);
    assert.deepEqual(errors('vrrp:\n  instances: []\n'), [`${F}:2:3: ${msg}`]);
    // with services, vrrp: {} is only the defaults (as before)
    assert.deepEqual(errors('interfaces: [{ name: eth0 }]\nservices: []\nvrrp: {}\n'), []);
  });

  it('an empty interfaces list is still refused', () => {
    assert.deepEqual(errors(`interfaces: []\n${VRRP}`), [`${F}:1:13: interfaces: expected at least one interface`]);
  });

  it('the JSON Schema requires the same: services, vrrp or bfd, and interfaces with services', () => {
    const s = SCHEMA as unknown as { required?: string[]; anyOf: { required: string[] }[]; dependentRequired: Record<string, string[]> };
    assert.equal(s.required, undefined);
    assert.deepEqual(s.anyOf, [{ required: ['services'] }, { required: ['vrrp'] }, { required: ['bfd'] }]);
    assert.deepEqual(s.anyOf.map((a) => a.required[0]), [...ROOT_NEEDS.anyOf]);
    assert.deepEqual(s.dependentRequired, { services: ['interfaces'] });
  });
});
