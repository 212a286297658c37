/**
 * The `bfd:` config as the runtime's spec: every key mapped, defaults as the
 * config resolved them, keepalived's max_hops rule restated against 255,
 * authentication as one key, and the result accepted by the runtime's own
 * checks (resolveSessionSpec).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import type { BfdConfig } from '../../../src/config/bfd-model.js';
import { bfdReflectPeers, bfdSpec, runtimeMaxHops } from '../../../src/bfd/from-config.js';
import { resolveSessionSpec } from '../../../src/bfd/runtime.js';

function bfd(body: string): BfdConfig {
  const r = parseConfig(`interfaces: [{ name: eth0 }]\nservices: []\nbfd:\n${body.replace(/^(?=.)/gm, '  ')}`, 'lab.yaml');
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  assert.ok(r.config.bfd);
  return r.config.bfd;
}

describe('bfd/from-config', () => {
  it('maps every key of a single-hop session, defaults resolved', () => {
    const spec = bfdSpec(bfd('instances:\n  - { name: up1, neighbor_ip: 192.0.2.1 }\n'));
    assert.deepEqual(spec, {
      sessions: [{ name: 'up1', peer: '192.0.2.1', multihop: false, desiredMinTxUs: 10_000, requiredMinRxUs: 10_000, idleTxUs: 1_000_000, detectMult: 5, passive: false, maxHops: 0, ttl: 255, requiredMinEchoRxUs: 0 }],
    });
    for (const s of spec.sessions) resolveSessionSpec(s);
  });

  it('maps a multihop IPv6 session with its own timers, ttl and max_hops', () => {
    const spec = bfdSpec(
      bfd(
        'instances:\n  - { name: mh, neighbor_ip: "2001:db8::2", source_ip: "2001:db8::1", multihop: true, hoplimit: 64, max_hops: 10, min_rx: 20ms, min_tx: 1500us, idle_tx: 2s, multiplier: 3, passive: true }\n',
      ),
    );
    assert.deepEqual(spec.sessions[0], {
      name: 'mh',
      peer: '2001:db8::2',
      local: '2001:db8::1',
      multihop: true,
      desiredMinTxUs: 1500,
      requiredMinRxUs: 20_000,
      idleTxUs: 2_000_000,
      detectMult: 3,
      passive: true,
      maxHops: 201, // rx + 10 < 64  <=>  rx + 201 < 255
      ttl: 64,
      requiredMinEchoRxUs: 0,
    });
    resolveSessionSpec(spec.sessions[0]!);
  });

  it('echo.reflect: the session advertises echo.interval as Required Min Echo RX, 0 otherwise or without a data plane', () => {
    const cfg = bfd(
      'instances:\n' +
        '  - { name: r, neighbor_ip: 192.0.2.1, echo: { reflect: true, interval: 20ms } }\n' +
        '  - { name: d, neighbor_ip: 192.0.2.2, echo: { reflect: true } }\n' +
        '  - { name: e, neighbor_ip: 192.0.2.3, echo: { enabled: true, interval: 5ms } }\n' +
        '  - { name: n, neighbor_ip: 192.0.2.4 }\n',
    );
    assert.deepEqual(
      bfdSpec(cfg).sessions.map((s) => s.requiredMinEchoRxUs),
      [20_000, 50_000, 0, 0],
      'reflect: the interval (default 50 ms); own echo alone advertises nothing',
    );
    assert.deepEqual(
      bfdSpec(cfg, false).sessions.map((s) => s.requiredMinEchoRxUs),
      [0, 0, 0, 0],
    );
    for (const s of bfdSpec(cfg).sessions) assert.equal(resolveSessionSpec(s).echoRxUs, s.requiredMinEchoRxUs);
  });

  it('the reflect peers are the neighbours of the sessions with echo.reflect, once each', () => {
    const cfg = bfd(
      'instances:\n' +
        '  - { name: a, neighbor_ip: 192.0.2.1, source_ip: 192.0.2.8, echo: { reflect: true } }\n' +
        '  - { name: b, neighbor_ip: 192.0.2.1, source_ip: 192.0.2.9, echo: { reflect: true } }\n' +
        '  - { name: c, neighbor_ip: "2001:db8::2", echo: { reflect: true } }\n' +
        '  - { name: d, neighbor_ip: 192.0.2.4, echo: { enabled: true } }\n',
    );
    assert.deepEqual(bfdReflectPeers(cfg), ['192.0.2.1', '2001:db8::2']);
    assert.deepEqual(bfdReflectPeers(undefined), []);
  });

  it('restates max_hops against 255', () => {
    assert.equal(runtimeMaxHops(0, 255), 0);
    assert.equal(runtimeMaxHops(1, 255), 1);
    assert.equal(runtimeMaxHops(255, 64), 255);
    assert.equal(runtimeMaxHops(200, 64), 255);
    assert.equal(runtimeMaxHops(-1, 64), 190);
    assert.equal(runtimeMaxHops(-1, 255), 0); // keepalived drops everything; the runtime cannot say it
  });

  it('maps authentication as one key that signs and is accepted', () => {
    const spec = bfdSpec(bfd('instances:\n  - { name: a, neighbor_ip: 192.0.2.1, auth: { type: meticulous-keyed-sha1, key_id: 7, secret: s3cret } }\n'));
    const auth = spec.sessions[0]!.auth;
    assert.ok(auth);
    assert.equal(auth.type, 5);
    assert.equal(auth.txKeyId, 7);
    assert.deepEqual(auth.keys.map((k) => ({ id: k.id, secret: Buffer.from(k.secret).toString() })), [{ id: 7, secret: 's3cret' }]);
    resolveSessionSpec(spec.sessions[0]!);
  });

  it('refuses a secret_file that was not read', () => {
    const cfg = bfd('instances:\n  - { name: a, neighbor_ip: 192.0.2.1, auth: { type: keyed-md5, secret_file: /etc/xlb/k } }\n');
    assert.throws(() => bfdSpec(cfg), { code: 'XLB_ERR_INTERNAL' });
  });

  it('keeps file order', () => {
    const spec = bfdSpec(bfd('instances:\n  - { name: b, neighbor_ip: 192.0.2.2 }\n  - { name: a, neighbor_ip: 192.0.2.1 }\n'));
    assert.deepEqual(
      spec.sessions.map((s) => s.name),
      ['b', 'a'],
    );
  });
});
