/**
 * Valid configs: defaults, canonical addresses, "all", durations, aliases,
 * and every file in examples/.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { backendKey, defaultServiceName, serviceKey, type XlbConfig } from '../../../src/config/model.js';
import { yaml } from './yaml-text.js';

/** Parses `text`, failing the test with every message if it is invalid. */
function ok(text: string, file = 'test.yaml'): XlbConfig {
  const r = parseConfig(text, file);
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

describe('parseConfig: valid configs', () => {
  it('fills every default', () => {
    const c = ok(yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
    `);
    assert.deepEqual(c, {
      file: 'test.yaml',
      instance: 'default',
      interfaces: [{ name: 'eth0', xdpMode: 'native', loc: { file: 'test.yaml', line: 2, col: 5 } }],
      metrics: { host: '127.0.0.1', port: 9901 },
      log: { level: 'info', format: 'json' },
      limits: {
        maxVips: 512,
        maxBackends: 4096,
        maxConns: 1_048_576,
        maxConns6: 1_048_576,
        maxNat: 1_048_576,
        ringSize: 65_537,
        connRateLimit: 125_000,
        flowCache: 16_384,
        nextHopCacheMs: 100,
      },
      tunnel: { sourceEntropy: false },
      services: [
        {
          name: '10.9.0.1:80/tcp',
          address: '10.9.0.1',
          family: 4,
          port: 80,
          protocol: 'tcp',
          mode: 'dr',
          persistence: false,
          backends: [
            {
              address: '10.0.0.10',
              port: 0,
              weight: 1,
              health: { checks: [], inhibitOnFailure: false, slowStartMs: 0 },
              loc: { file: 'test.yaml', line: 8, col: 9 },
            },
          ],
          health: { quorum: 1, hysteresis: 0 },
          loc: { file: 'test.yaml', line: 4, col: 5 },
        },
      ],
    });
  });

  it('accepts an empty service list', () => {
    const c = ok('interfaces: [{ name: eth0 }]\nservices: []\n');
    assert.deepEqual(c.services, []);
  });

  it('max_conns6 and max_nat follow max_conns unless set', () => {
    const base = 'interfaces: [{ name: eth0 }]\nservices: []\nlimits:\n  max_conns: 4096\n';
    assert.deepEqual(
      [ok(base).limits.maxConns6, ok(base).limits.maxNat],
      [4096, 4096],
    );
    const set = ok(`${base}  max_conns6: 2048\n  max_nat: 8192\n`).limits;
    assert.deepEqual([set.maxConns, set.maxConns6, set.maxNat], [4096, 2048, 8192]);
  });

  it('reads every limit and the boundary values', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services: []
      limits:
        max_vips: 65535
        max_backends: 2
        max_conns: 1024
        max_conns6: 67108864
        max_nat: 1024
        ring_size: 16777213
        conn_rate_limit: 0
        flow_cache: 16777216
        next_hop_cache: 10s
    `);
    assert.deepEqual(c.limits, {
      maxVips: 65535,
      maxBackends: 2,
      maxConns: 1024,
      maxConns6: 67_108_864,
      maxNat: 1024,
      ringSize: 16_777_213,
      connRateLimit: 0,
      flowCache: 16_777_216,
      nextHopCacheMs: 10_000,
    });
  });

  for (const [text, ms] of [['0s', 0], ['500us', 0.5], ['1.5s', 1500], ['250ms', 250], ['1s500ms', 1500]] as const) {
    it(`next_hop_cache: ${text} is ${ms} ms`, () => {
      const c = ok(`interfaces: [{ name: eth0 }]\nservices: []\nlimits:\n  next_hop_cache: ${text}\n`);
      assert.equal(c.limits.nextHopCacheMs, ms);
    });
  }

  it('canonicalises every address', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      metrics:
        listen: "[0:0::1]:9902"
      tunnel:
        source4: 192.0.2.1
        source6: 2001:DB8:0:0:0:0:0:1
        source_entropy: true
      services:
        - address: FD99:0:0:0::10
          port: 80
          mode: tunnel
          backends:
            - address: FD99:1:0::11
            - address: fd99:1::0:12
    `);
    assert.deepEqual(c.metrics, { host: '::1', port: 9902 });
    assert.deepEqual(c.tunnel, { source4: '192.0.2.1', source6: '2001:db8::1', sourceEntropy: true });
    const s = c.services[0]!;
    assert.equal(s.address, 'fd99::10');
    assert.equal(s.family, 6);
    assert.equal(s.name, '[fd99::10]:80/tcp');
    assert.deepEqual(s.backends.map((b) => b.address), ['fd99:1::11', 'fd99:1::12']);
  });

  it('accepts a host name in metrics.listen', () => {
    const c = ok('interfaces: [{ name: eth0 }]\nservices: []\nmetrics: { listen: "localhost:9100" }\n');
    assert.deepEqual(c.metrics, { host: 'localhost', port: 9100 });
  });

  it('port "all" is stored as 0, beside a port VIP on the same address', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - { address: 10.9.0.1, port: 80, mode: dr, backends: [] }
        - { address: 10.9.0.1, port: all, mode: dr, backends: [] }
        - { address: 10.9.0.1, port: all, protocol: udp, mode: tunnel, backends: [] }
    `);
    assert.deepEqual(
      c.services.map((s) => [s.name, s.port, s.protocol]),
      [
        ['10.9.0.1:80/tcp', 80, 'tcp'],
        ['10.9.0.1:all/tcp', 0, 'tcp'],
        ['10.9.0.1:all/udp', 0, 'udp'],
      ],
    );
  });

  it('keeps nat ports, dr interfaces, weights and persistence', () => {
    const c = ok(yaml`
      instance: edge-1_a
      interfaces:
        - { name: eth0, xdp_mode: generic }
        - { name: eth1.100, xdp_mode: auto }
      log: { level: debug, format: pretty }
      services:
        - name: api
          address: 10.9.0.2
          port: 443
          protocol: tcp
          mode: nat
          persistence: true
          backends:
            - { address: 10.0.0.10, port: 8443, weight: 0 }
            - { address: 10.0.0.11, weight: 65535 }
        - address: 10.9.0.3
          port: 80
          mode: dr
          backends:
            - { address: 10.0.0.12, interface: eth1.100 }
    `);
    assert.equal(c.instance, 'edge-1_a');
    assert.deepEqual(c.interfaces.map((i) => [i.name, i.xdpMode]), [['eth0', 'generic'], ['eth1.100', 'auto']]);
    assert.deepEqual(c.log, { level: 'debug', format: 'pretty' });
    const [api, web] = c.services as [XlbConfig['services'][0], XlbConfig['services'][0]];
    assert.equal(api.name, 'api');
    assert.equal(api.persistence, true);
    assert.deepEqual(api.backends.map((b) => [b.port, b.weight, b.interface]), [[8443, 0, undefined], [0, 65535, undefined]]);
    assert.equal('interface' in api.backends[0]!, false);
    assert.equal(web.backends[0]!.interface, 'eth1.100');
  });

  it('resolves anchors and aliases (a backend list shared by two services)', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends: &web
            - address: 10.0.0.10
            - address: 10.0.0.11
        - address: 10.9.0.1
          port: 8080
          mode: tunnel
          backends: *web
    `);
    assert.deepEqual(c.services[1]!.backends.map((b) => b.address), ['10.0.0.10', '10.0.0.11']);
  });

  it('the same backend in two services is fine', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      limits: { max_backends: 3 }
      services:
        - { address: 10.9.0.1, port: 80, mode: dr, backends: [{ address: 10.0.0.10 }] }
        - { address: 10.9.0.1, port: 81, mode: dr, backends: [{ address: 10.0.0.10 }] }
    `);
    assert.equal(c.services.length, 2);
  });

  it('tunnel services need no configured source', () => {
    const c = ok('interfaces: [{ name: eth0 }]\nservices:\n  - { address: "fd00::1", port: 53, protocol: udp, mode: tunnel, backends: [{ address: "fd01::1" }] }\n');
    assert.deepEqual(c.tunnel, { sourceEntropy: false });
  });

  it('serviceKey and backendKey', () => {
    const c = ok('interfaces: [{ name: eth0 }]\nservices:\n  - { address: "FD00::1", port: all, mode: dr, backends: [] }\n');
    const s = c.services[0]!;
    assert.equal(serviceKey(s), 'fd00::1|0|tcp');
    assert.equal(defaultServiceName(s), '[fd00::1]:all/tcp');
    assert.equal(backendKey({ address: '10.0.0.10', port: 0 }), '10.0.0.10:0');
    assert.equal(backendKey({ address: 'fd00::10', port: 8080 }), 'fd00::10:8080');
  });
});

describe('examples/', () => {
  const dir = new URL('../../../../examples/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

  it('has lab, minimal, full and health', () => {
    for (const f of ['full.yaml', 'health.yaml', 'lab.yaml', 'minimal.yaml']) assert.ok(files.includes(f), f);
  });

  for (const f of files) {
    it(`${f} is valid`, async () => {
      const r = await loadConfigFile(fileURLToPath(new URL(f, dir)), { euid: 0 }) // as a root daemon runs them (the examples use script_user);
      if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    });
  }

  it('lab.yaml describes the lab', async () => {
    const r = await loadConfigFile(fileURLToPath(new URL('lab.yaml', dir)));
    assert.ok(r.ok);
    const c = r.config;
    assert.equal(c.instance, 'lab');
    assert.deepEqual(c.interfaces.map((i) => i.name), ['xlb0', 'xlb1']);
    assert.deepEqual(c.metrics, { host: '127.0.0.1', port: 9901 });
    const summary = c.services.map((s) => ({
      vip: `${s.address} ${s.port}/${s.protocol} ${s.mode}`,
      backends: s.backends.map((b) => `${b.address}:${b.port}${b.interface ? `@${b.interface}` : ''}`).join(' '),
    }));
    assert.deepEqual(summary, [
      { vip: '10.99.0.10 80/tcp dr', backends: '10.99.1.11:0@xlb1 10.99.1.12:0@xlb1 10.99.1.13:0@xlb1' },
      { vip: '10.99.0.10 8080/tcp tunnel', backends: '10.99.1.11:0 10.99.1.12:0 10.99.1.13:0' },
      { vip: '10.99.0.10 8081/tcp nat', backends: '10.99.1.11:80 10.99.1.12:80 10.99.1.13:80' },
      { vip: 'fd99::10 80/tcp dr', backends: 'fd99:1::11:0@xlb1 fd99:1::12:0@xlb1 fd99:1::13:0@xlb1' },
      { vip: 'fd99::10 8080/tcp tunnel', backends: 'fd99:1::11:0 fd99:1::12:0 fd99:1::13:0' },
      { vip: 'fd99::10 8081/tcp nat', backends: 'fd99:1::11:80 fd99:1::12:80 fd99:1::13:80' },
    ]);
  });

  it('full.yaml uses every key of the format', async () => {
    const { CONFIG_KEYS } = await import('../../../src/config/load.js');
    const { parseDocument, visit, isScalar, isPair } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const doc = parseDocument(readFileSync(new URL('full.yaml', dir), 'utf8'));
    const used = new Set<string>();
    visit(doc, { Pair: (_, p) => { if (isPair(p) && isScalar(p.key)) used.add(String(p.key.value)); } });
    const { BFD_KEYS } = await import('../../../src/config/bfd.js');
    const all = new Set([...Object.values(CONFIG_KEYS), ...Object.values(BFD_KEYS)].flatMap((k) => [...k.allowed]));
    // secret_file is shown in a comment: `xlb validate` reads it, so an example cannot name one
    assert.deepEqual([...all].filter((k) => !used.has(k)), ['secret_file']);
  });
});
