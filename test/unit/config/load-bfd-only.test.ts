/**
 * A BFD-only config (issue 15, standalone sessions for monitoring):
 * `instance`, `metrics` and `bfd:` alone are a valid config, as a VRRP-only
 * one is (./load-vrrp-only.test.ts); it needs no data plane. A `bfd:` with
 * no session and nothing else to run is refused, once, at its `instances`.
 * Echo needs the XDP program, so a BFD-only config cannot ask for it.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { needsDataplane } from '../../../src/config/model.js';
import { yaml } from './yaml-text.js';

const F = 'mon.yaml';

const BFD = yaml`
  bfd:
    instances:
      - { name: to-r1, neighbor_ip: 192.0.2.1, source_ip: 192.0.2.10, min_rx: 100ms, min_tx: 100ms }
      - { name: to-r2, neighbor_ip: "2001:db8::1", source_ip: "2001:db8::10", multihop: true }
`;

/** Every error message of `text`, or [] when it is valid. */
function errors(text: string): string[] {
  const r = parseConfig(text, F);
  return r.ok ? [] : r.errors.map((e) => e.message);
}

describe('parseConfig: a BFD-only config', () => {
  it('instance, metrics and bfd alone: valid, no services, no interfaces, no data plane', () => {
    const r = parseConfig(`instance: mon\nmetrics: { listen: 127.0.0.1:9902 }\n${BFD}`, F);
    if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    assert.deepEqual(r.config.services, []);
    assert.deepEqual(r.config.interfaces, []);
    assert.equal(r.config.vrrp, undefined);
    assert.deepEqual(
      r.config.bfd?.instances.map((s) => [s.name, s.neighborIp, s.multihop]),
      [
        ['to-r1', '192.0.2.1', false],
        ['to-r2', '2001:db8::1', true],
      ],
    );
    assert.equal(needsDataplane(r.config), false);
  });

  it('examples/bfd-only.yaml: the documented monitoring sessions', async () => {
    const r = await loadConfigFile(fileURLToPath(new URL('../../../../examples/bfd-only.yaml', import.meta.url)));
    if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    assert.deepEqual([r.config.services.length, r.config.interfaces.length, r.config.vrrp, needsDataplane(r.config)], [0, 0, undefined, false]);
    assert.deepEqual(r.config.bfd?.instances.map((s) => [s.name, s.multihop, s.auth?.type]), [
      ['to-r1', false, undefined],
      ['to-db', true, 'meticulous-keyed-sha1'],
    ]);
    assert.equal(r.config.bfd?.rtPriority, 1);
  });

  it('bfd alone, without instance or metrics: valid (their defaults)', () => {
    assert.deepEqual(errors(BFD), []);
  });

  it('bfd with an empty vrrp: valid (vrrp: {} is only its defaults, as beside services)', () => {
    assert.deepEqual(errors(`vrrp: {}\n${BFD}`), []);
  });

  it('bfd with interfaces and no services: valid, the data plane runs (echo may be reflected)', () => {
    const r = parseConfig(`interfaces: [{ name: eth0 }]\n${BFD.replace('min_tx: 100ms }', 'min_tx: 100ms, echo: { reflect: true } }')}`, F);
    if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    assert.equal(needsDataplane(r.config), true);
  });

  it('bfd with no session and nothing else: nothing to run, said once at bfd.instances', () => {
    const msg = 'bfd.instances: expected at least one instance: a config without services or vrrp runs its BFD sessions alone';
    assert.deepEqual(errors('instance: mon\nbfd: {}\n'), [`${F}:2:6: ${msg}`]);
    assert.deepEqual(errors('bfd:\n  instances: []\n'), [`${F}:2:3: ${msg}`]);
    assert.deepEqual(errors('bfd:\n  rt_priority: 5\n'), [`${F}:2:3: ${msg}`]);
  });

  it('empty bfd and empty vrrp: nothing to run, said once', () => {
    assert.deepEqual(errors('vrrp: {}\nbfd: {}\n'), [`${F}:2:6: bfd.instances: expected at least one instance: a config without services runs its VRRP instances or BFD sessions alone`]);
  });

  it('empty bfd beside something that runs: valid', () => {
    assert.deepEqual(errors('interfaces: [{ name: eth0 }]\nservices: []\nbfd: {}\n'), []);
    assert.deepEqual(errors('vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, virtual_router_id: 51, priority: 150, virtual_ipaddress: [192.0.2.100/24] }\nbfd: {}\n'), []);
  });

  it('a session with an error: that error alone, not "nothing to run" too', () => {
    const e = errors('bfd:\n  instances:\n    - { name: s, neighbor_ip: nowhere }\n');
    assert.equal(e.length, 1, e.join('\n'));
    assert.match(e[0]!, /neighbor_ip/);
  });

  it('echo without interfaces: refused (it runs in the XDP program), as in any config', () => {
    const e = errors(BFD.replace('min_tx: 100ms }', 'min_tx: 100ms, echo: { reflect: true } }'));
    assert.equal(e.length, 1, e.join('\n'));
    assert.match(e[0]!, /echo/);
  });
});
