/**
 * The `bfd:` section: valid configs (every default resolved, every keyword
 * at the edges of its range, keepalived's spellings, multihop defaults),
 * references to sessions (VRRP track_bfd and bfd_peer, `type: bfd` checks),
 * secret files read at load, the JSON Schema's BFD keys against the
 * parser's, `xlb validate`'s count; and invalid configs, each with every
 * message (file:line:col, key, text) in order.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { summary } from '../../../src/cli/actions.js';
import { ConfigError } from '../../../src/errors.js';
import { BFD_KEYS } from '../../../src/config/bfd.js';
import { bfdDemuxKey, type BfdConfig, type BfdInstanceConfig } from '../../../src/config/bfd-model.js';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { SCHEMA } from '../../../src/config/schema.js';
import { createProbe } from '../../../src/health/probes/index.js';
import { vrrpSpec } from '../../../src/vrrp/from-config.js';
import { yaml } from './yaml-text.js';

const F = 'lab.yaml';

/** The lines every case starts with (1-3); `bfd:`'s keys start on line 4. */
const HEAD = 'interfaces: [{ name: eth0 }]\nservices: []\nbfd:\n';

/** Parses `text` as the body of `bfd:` (indented by two spaces here), failing the test with every message if it is invalid. */
function bfd(text: string, head = HEAD): BfdConfig {
  const body = text.replace(/^(?=.)/gm, '  ');
  const r = parseConfig(head + body, F);
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  assert.ok(r.config.bfd);
  return r.config.bfd;
}

/** The one instance of `text`. */
function one(text: string): BfdInstanceConfig {
  const b = bfd(text);
  assert.equal(b.instances.length, 1);
  return b.instances[0]!;
}

/** An instance with `extra` keys (flow mapping entries). */
function with_(extra: string): BfdInstanceConfig {
  return one(`instances:\n  - { name: s, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1, ${extra} }\n`);
}

describe('parseConfig: bfd, valid', () => {
  it('no bfd key: no bfd model', () => {
    const r = parseConfig('interfaces: [{ name: eth0 }]\nservices: []\n', F);
    assert.ok(r.ok);
    assert.equal('bfd' in r.config, false);
  });

  it('an empty bfd mapping: no sessions, the worker SCHED_FIFO at 1 (as VRRP)', () => {
    assert.deepEqual(bfd('{}\n'), { rtPriority: 1, instances: [] });
  });

  it("rt_priority (keepalived's bfd_rt_priority): 0 (normal scheduling) to 99", () => {
    assert.equal(bfd('rt_priority: 0\n').rtPriority, 0);
    assert.equal(bfd('rt_priority: 99\n').rtPriority, 99);
    assert.equal(bfd('rt_priority: 40\ninstances:\n  - { name: s, neighbor_ip: 10.0.0.2 }\n').rtPriority, 40);
  });

  it("fills every default of a session (keepalived's, RFC 5881's TTL)", () => {
    const s = one(yaml`
      instances:
        - name: s1
          neighbor_ip: 10.0.0.2
    `);
    assert.deepEqual(s, {
      name: 's1',
      neighborIp: '10.0.0.2',
      family: 4,
      minRxUs: 10_000,
      minTxUs: 10_000,
      idleTxUs: 1_000_000,
      multiplier: 5,
      passive: false,
      multihop: false,
      ttl: 255,
      maxHops: 0,
      weight: 0,
      reverse: false,
      echo: { enabled: false, intervalUs: 50_000, reflect: false },
      loc: { file: F, line: 5, col: 7 },
    });
  });

  it('every keyword at the low and high edge of its range', () => {
    const lo = with_('min_rx: 1ms, min_tx: 1000us, idle_tx: 1s, multiplier: 1, multihop: true, ttl: 1, max_hops: -1, weight: -253, echo: { interval: 1ms }');
    assert.deepEqual(
      [lo.minRxUs, lo.minTxUs, lo.idleTxUs, lo.multiplier, lo.ttl, lo.maxHops, lo.weight, lo.echo.intervalUs],
      [1000, 1000, 1_000_000, 1, 1, -1, -253, 1000],
    );
    const hi = with_(
      'min_rx: 4294967295us, min_tx: 4294.967295s, idle_tx: 4294967295us, multiplier: 255, multihop: true, ttl: 255, max_hops: 255, weight: 253, echo: { interval: 4294967295us }',
    );
    assert.deepEqual(
      [hi.minRxUs, hi.minTxUs, hi.idleTxUs, hi.multiplier, hi.ttl, hi.maxHops, hi.weight, hi.echo.intervalUs],
      [0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 255, 255, 255, 253, 0xffff_ffff],
    );
    // µs resolution, as keepalived
    assert.equal(with_('min_rx: 1.5ms').minRxUs, 1500);
    assert.equal(with_('min_tx: 1ms250us').minTxUs, 1250);
  });

  it("keepalived's spellings: neighbour_ip, hoplimit; passive, reverse", () => {
    const s = one('instances:\n  - { name: s, neighbour_ip: "FD00::2", source_ip: "fd00:0::1", multihop: true, hoplimit: 10, passive: true, weight: 5, reverse: true }\n');
    assert.deepEqual([s.neighborIp, s.sourceIp, s.family, s.ttl, s.passive, s.weight, s.reverse], ['fd00::2', 'fd00::1', 6, 10, true, 5, true]);
    // a single-hop session may write the one TTL it sends
    assert.equal(with_('hoplimit: 255').ttl, 255);
  });

  it("multihop defaults: keepalived's TTL per family, no TTL check", () => {
    const v4 = with_('multihop: true');
    assert.deepEqual([v4.multihop, v4.ttl, v4.maxHops], [true, 255, 255]);
    const v6 = one('instances:\n  - { name: s, neighbor_ip: "2001:db8::2", source_ip: "2001:db8::1", multihop: true }\n');
    assert.deepEqual([v6.ttl, v6.maxHops], [64, 255]);
    // single hop: keepalived's GTSM rule may be relaxed (AT-BFD-03: max_hops 1 accepts TTL 254)
    assert.equal(with_('max_hops: 1').maxHops, 1);
  });

  it('auth: every type, key_id edges, secret lengths per type', () => {
    const cases: [string, number, string, number][] = [
      ['simple', 1, 'x', 0],
      ['simple', 1, 'p'.repeat(16), 255],
      ['keyed-md5', 2, 'k'.repeat(16), 7],
      ['meticulous-keyed-md5', 3, 'k', 0],
      ['keyed-sha1', 4, 'k'.repeat(20), 0],
      ['meticulous-keyed-sha1', 5, 'k'.repeat(20), 1],
    ];
    for (const [type, n, secret, keyId] of cases) {
      const s = with_(`auth: { type: ${type}, key_id: ${keyId}, secret: "${secret}" }`);
      assert.deepEqual(s.auth, { type, typeNumber: n, keyId, secret: new Uint8Array(Buffer.from(secret)) }, type);
    }
    // key_id defaults to 0; the length is in bytes (UTF-8), not characters
    assert.equal(with_('auth: { type: simple, secret: "é" }').auth?.keyId, 0);
    assert.equal(with_('auth: { type: simple, secret: "é" }').auth?.secret?.length, 2);
    // a secret_file is only recorded by the pure parse
    const f = with_('auth: { type: keyed-sha1, secret_file: /etc/xlb/k }').auth!;
    assert.deepEqual([f.secretFile, f.secret, f.secretFileLoc?.line], ['/etc/xlb/k', undefined, 5]);
  });

  it('echo: enabled, interval, reflect', () => {
    assert.deepEqual(with_('echo: { enabled: true, interval: 1ms, reflect: true }').echo, { enabled: true, intervalUs: 1000, reflect: true });
    assert.deepEqual(with_('echo: {}').echo, { enabled: false, intervalUs: 50_000, reflect: false });
    // off needs no interfaces
    const r = parseConfig('vrrp:\n  instances: [{ name: V, interface: eth0, virtual_router_id: 1 }]\nbfd:\n  instances: [{ name: s, neighbor_ip: 10.0.0.2, echo: { enabled: false, reflect: false } }]\n', F);
    assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
  });

  it('sessions to one neighbor with different sources or hop modes are different sessions', () => {
    const b = bfd(yaml`
      instances:
        - { name: a, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1 }
        - { name: b, neighbor_ip: 10.0.0.2, source_ip: 10.0.1.1 }
        - { name: c, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1, multihop: true }
    `);
    assert.deepEqual(b.instances.map(bfdDemuxKey), ['10.0.0.2|10.0.0.1|single', '10.0.0.2|10.0.1.1|single', '10.0.0.2|10.0.0.1|multi']);
  });
});

/** A config with sessions a (weight -20, reverse) and b, VRRP `vrrp` and services `services`. */
function refs(vrrp: string, services = 'services: []\n'): ReturnType<typeof parseConfig> {
  return parseConfig(
    'interfaces: [{ name: eth0 }]\n' +
      services +
      'bfd:\n  instances:\n    - { name: a, neighbor_ip: 10.0.0.2, weight: -20, reverse: true }\n    - { name: b, neighbor_ip: 10.0.0.3 }\n' +
      vrrp,
    F,
  );
}

describe('references to sessions', () => {
  it("track_bfd: the session's weight and reverse unless the reference sets them; instances and sync groups", () => {
    const r = refs(yaml`
      vrrp:
        instances:
          - name: V1
            interface: eth0
            virtual_router_id: 1
            track_bfd: [a, { name: b, weight: 10 }]
          - name: V2
            interface: eth0
            virtual_router_id: 2
        sync_groups:
          - name: G
            group: [V2]
            track_bfd: [{ name: a, weight: 0, reverse: false }]
    `);
    assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
    const v = r.config.vrrp!;
    assert.deepEqual(v.instances[0]!.trackBfd, [
      { name: 'a', weight: -20, reverse: true },
      { name: 'b', weight: 10, reverse: false },
    ]);
    assert.deepEqual(v.instances[1]!.trackBfd, []);
    assert.deepEqual(v.syncGroups[0]!.trackBfd, [{ name: 'a', weight: 0, reverse: false }]);
    // the runner's spec: a group's trackers are appended to each member's
    const spec = vrrpSpec(v);
    assert.deepEqual(spec.instances[0]!.trackBfd, [
      { name: 'a', weight: -20, reverse: true },
      { name: 'b', weight: 10, reverse: false },
    ]);
    assert.deepEqual(spec.instances[1]!.trackBfd, [{ name: 'a', weight: 0, reverse: false }]);
  });

  it('bfd_peer: a session; with unicast peers, to one of them', () => {
    const r = refs(yaml`
      vrrp:
        instances:
          - { name: V1, interface: eth0, virtual_router_id: 1, bfd_peer: b, unicast_peers: [10.0.0.3] }
          - { name: V2, interface: eth0, virtual_router_id: 2, bfd_peer: a }
    `);
    assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
    assert.deepEqual(r.config.vrrp!.instances.map((i) => i.bfdPeer), ['b', 'a']);
    assert.deepEqual(vrrpSpec(r.config.vrrp!).instances.map((i) => i.bfdPeer), ['b', 'a'], 'the runner gets it');
    const none = refs('vrrp:\n  instances: [{ name: V, interface: eth0, virtual_router_id: 1 }]\n');
    assert.ok(none.ok);
    assert.equal('bfdPeer' in none.config.vrrp!.instances[0]!, false);
    assert.equal('bfdPeer' in vrrpSpec(none.config.vrrp!).instances[0]!, false);
  });

  it('type: bfd checks: the session name and alpha; timing inherited as for every check', () => {
    const r = refs(
      '',
      yaml`
        services:
          - address: 10.9.0.1
            port: 80
            mode: dr
            health:
              interval: 5s
              checks: [{ type: bfd, name: a, alpha: true }]
            backends: [{ address: 10.0.0.2 }]
      `,
    );
    assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
    const c = r.config.services[0]!.backends[0]!.health.checks[0]!;
    assert.equal(c.type, 'bfd');
    assert.deepEqual([c.type === 'bfd' && c.name, c.alpha, c.intervalMs], ['a', true, 5000]);
  });

  it('the probe of a bfd check reads the session the daemon knows, and fails without one (io)', async () => {
    const spec = { type: 'bfd', name: 'a', intervalMs: 1000, timeoutMs: 1000, retries: 0, retryDelayMs: 0, rise: 1, fall: 1, warmupMs: 0, alpha: false } as const;
    const target = { address: '10.0.0.2', port: 0, family: 4 } as const;
    const alone = await createProbe(spec, target).run();
    assert.deepEqual(alone.ok ? undefined : alone.reason, 'io');
    const up = await createProbe(spec, target, { bfd: { bfdSession: () => ({ state: 'Up', diag: 'none' }) } }).run();
    assert.equal(up.ok, true);
  });
});

describe('xlb validate: the count', () => {
  it('names the BFD sessions beside services and VRRP instances', () => {
    const r = refs('vrrp:\n  instances: [{ name: V, interface: eth0, virtual_router_id: 1 }]\n');
    assert.ok(r.ok);
    assert.equal(summary(r.config), '0 services, 1 VRRP instance, 2 BFD sessions');
    const one_ = parseConfig(HEAD + '  instances: [{ name: s, neighbor_ip: 10.0.0.2 }]\n', F);
    assert.ok(one_.ok);
    assert.equal(summary(one_.config), '0 services, 1 BFD session');
  });
});

describe('secret_file, read at load', () => {
  const euid = process.geteuid?.() ?? 0;
  /** Loads a config whose one session reads `secret` from a file of `mode`; removes the file after. */
  async function load(type: string, secret: string | undefined, mode = 0o600, owner?: number): Promise<Awaited<ReturnType<typeof loadConfigFile>> & { path: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'xlb-bfd-secret-'));
    try {
      const key = join(dir, 'key');
      if (secret !== undefined) {
        writeFileSync(key, secret);
        chmodSync(key, mode);
        if (owner !== undefined) chownSync(key, owner, owner);
      }
      const cfg = join(dir, 'xlb.yaml');
      writeFileSync(cfg, `${HEAD}  instances:\n    - name: s\n      neighbor_ip: 10.0.0.2\n      auth: { type: ${type}, secret_file: ${key} }\n`);
      return { ...(await loadConfigFile(cfg, { euid })), path: cfg };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('fills the secret from a file of mode 0600, dropping one trailing newline', async () => {
    const r = await load('keyed-sha1', `${'k'.repeat(20)}\n`);
    assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
    assert.deepEqual(r.config.bfd!.instances[0]!.auth!.secret, new Uint8Array(Buffer.from('k'.repeat(20))));
  });

  it('refuses a file owned by someone else than root and the daemon', { skip: euid !== 0 && 'needs root (chown)' }, async () => {
    const r = await load('simple', 'pw', 0o600, 65534);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors[0]!.message, /: owned by uid 65534 \(mode 0600; chown it to root or the daemon's user, uid 0\)$/);
  });

  it('refuses a missing file, one others can read, and a secret too long for the type, at the secret_file value', async () => {
    const missing = await load('simple', undefined);
    const open = await load('simple', 'pw', 0o644);
    const long = await load('keyed-md5', 'k'.repeat(17));
    for (const [r, tail] of [
      [missing, /: not found$/],
      [open, /: accessible to its group, accessible to others \(mode 0644; chmod 600 it\)$/],
      [long, /: expected a secret of 1\.\.16 bytes for keyed-md5 \(RFC 5880 §4\), got 17 bytes$/],
    ] as const) {
      assert.equal(r.ok, false);
      const errs = r.ok ? [] : r.errors;
      assert.equal(errs.length, 1);
      assert.equal(errs[0]!.key, 'bfd.instances[0].auth.secret_file');
      assert.match(errs[0]!.message, new RegExp(`^${r.path.replace(/[.]/g, '\\.')}:7:[0-9]+: bfd\\.instances\\[0\\]\\.auth\\.secret_file: secret_file /`));
      assert.match(errs[0]!.message, tail);
    }
  });
});

describe('schema/xlb.schema.json: bfd', () => {
  type Json = { [k: string]: unknown };
  const defs = (SCHEMA as unknown as { $defs: Record<string, Json> }).$defs;

  it('has the keys the parser accepts, and the same required keys', () => {
    const objects: Record<keyof typeof BFD_KEYS, Json> = { bfd: defs.bfd!, instance: defs.bfd_instance!, auth: defs.bfd_auth!, echo: defs.bfd_echo! };
    for (const [name, spec] of Object.entries(BFD_KEYS) as [keyof typeof BFD_KEYS, (typeof BFD_KEYS)[keyof typeof BFD_KEYS]][]) {
      const o = objects[name];
      assert.deepEqual(Object.keys(o.properties as Json), [...spec.allowed], name);
      assert.deepEqual((o.required as string[] | undefined) ?? [], [...spec.required], name);
      assert.equal(o.additionalProperties, false, name);
    }
    // and the VRRP references
    assert.deepEqual(Object.keys(defs.vrrp_track_bfd!.properties as Json), ['name', 'weight', 'reverse']);
    assert.ok('track_bfd' in (defs.vrrp_instance!.properties as Json) && 'bfd_peer' in (defs.vrrp_instance!.properties as Json));
    assert.ok('track_bfd' in (defs.vrrp_sync_group!.properties as Json));
  });
});

interface Case {
  name: string;
  text: string;
  errors: string[];
  codes?: string[];
  /** The lines before `bfd:` (default HEAD without its `bfd:` line). */
  head?: string;
}

/** An instance's first lines (5-7); its other keys start on line 8. */
const INST = '  instances:\n    - name: s\n      neighbor_ip: 10.0.0.2\n      source_ip: 10.0.0.1\n';

const cases: Case[] = [
  {
    name: 'rt_priority out of range',
    text: '  rt_priority: 100\n',
    errors: ['lab.yaml:4:16: bfd.rt_priority: expected an integer 0..99, got 100'],
  },
  {
    name: "keepalived's bfd_rt_priority: the hint",
    text: '  bfd_rt_priority: 50\n',
    errors: ['lab.yaml:4:3: bfd.bfd_rt_priority: unknown key "bfd_rt_priority" (keepalived\'s global_defs bfd_rt_priority is "rt_priority" here)'],
  },
  {
    name: 'bfd not a mapping',
    text: '  - a\n',
    errors: ['lab.yaml:4:3: bfd: expected a mapping, got a list'],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'unknown keys: keepalived hints and did-you-mean',
    text: '  bfd_instance: []\n  instance: []\n',
    errors: [
      'lab.yaml:4:3: bfd.bfd_instance: unknown key "bfd_instance" (keepalived\'s bfd_instance blocks are entries of "instances")',
      'lab.yaml:5:3: bfd.instance: unknown key "instance" (did you mean "instances"?)',
    ],
    codes: ['XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'unknown instance keys',
    text: INST + '      min-rx: 10ms\n      multiplyer: 3\n      vrrp: true\n      echo_interval: 1ms\n',
    errors: [
      'lab.yaml:8:7: bfd.instances[0].min-rx: unknown key "min-rx" (did you mean "min_rx"?)',
      'lab.yaml:9:7: bfd.instances[0].multiplyer: unknown key "multiplyer" (did you mean "multiplier"?)',
      'lab.yaml:10:7: bfd.instances[0].vrrp: unknown key "vrrp" (keepalived\'s vrrp keyword is not needed: every session\'s state reaches VRRP and the health checks)',
      'lab.yaml:11:7: bfd.instances[0].echo_interval: unknown key "echo_interval" (the echo interval is "echo: { interval }")',
    ],
  },
  {
    name: 'missing name and neighbor',
    text: '  instances:\n    - source_ip: 10.0.0.1\n',
    errors: ['lab.yaml:5:7: bfd.instances[0].name: missing required key', 'lab.yaml:5:7: bfd.instances[0].neighbor_ip: missing required key'],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'name longer than BFD_INAME_MAX, bad characters',
    text: `  instances:\n    - { name: ${'n'.repeat(32)}, neighbor_ip: 10.0.0.2 }\n    - { name: "a b", neighbor_ip: 10.0.0.3 }\n    - { name: ${'n'.repeat(31)}, neighbor_ip: 10.0.0.4 }\n`,
    errors: [
      `lab.yaml:5:15: bfd.instances[0].name: expected a name of letters, digits, "_", ".", ":" and "-" (at most 31, starting with a letter or digit), got "${'n'.repeat(32)}"`,
      'lab.yaml:6:15: bfd.instances[1].name: expected a name of letters, digits, "_", ".", ":" and "-" (at most 31, starting with a letter or digit), got "a b"',
    ],
  },
  {
    name: 'addresses: not unicast, families, itself, both spellings',
    text:
      '  instances:\n' +
      '    - { name: a, neighbor_ip: 224.0.0.1 }\n' +
      '    - { name: b, neighbor_ip: 10.0.0.2, source_ip: "fd00::1" }\n' +
      '    - { name: c, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.2 }\n' +
      '    - { name: d, neighbor_ip: 10.0.0.2, neighbour_ip: 10.0.0.2 }\n' +
      '    - { name: e, neighbor_ip: nowhere }\n',
    errors: [
      'lab.yaml:5:31: bfd.instances[0].neighbor_ip: expected a unicast address (not a multicast address), got "224.0.0.1"',
      'lab.yaml:6:52: bfd.instances[1].source_ip: source_ip fd00::1 is IPv6 but neighbor_ip 10.0.0.2 is IPv4',
      'lab.yaml:7:52: bfd.instances[2].source_ip: source_ip 10.0.0.2 is the neighbor_ip itself',
      'lab.yaml:8:41: bfd.instances[3].neighbour_ip: neighbour_ip is another spelling of neighbor_ip: write one of them',
      'lab.yaml:9:31: bfd.instances[4].neighbor_ip: expected an IPv4 or IPv6 address, got "nowhere"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'timers past their edges',
    text: INST + '      min_rx: 999us\n      min_tx: 4294967296us\n      idle_tx: 999ms\n      multiplier: 0\n',
    errors: [
      'lab.yaml:8:15: bfd.instances[0].min_rx: expected a duration 1ms..4294967295us, got "999us"',
      'lab.yaml:9:15: bfd.instances[0].min_tx: expected a duration 1ms..4294967295us, got "4294967296us"',
      'lab.yaml:10:16: bfd.instances[0].idle_tx: expected a duration 1s..4294967295us, got "999ms"',
      'lab.yaml:11:19: bfd.instances[0].multiplier: expected an integer 1..255, got 0',
    ],
  },
  {
    name: 'multiplier above 255, a bare number, a fraction of a µs',
    text: INST + '      multiplier: 256\n      min_rx: 10\n      min_tx: 1.0005ms\n',
    errors: [
      'lab.yaml:8:19: bfd.instances[0].multiplier: expected an integer 1..255, got 256',
      'lab.yaml:9:15: bfd.instances[0].min_rx: expected a duration such as 150ms or 2s, got 10',
      'lab.yaml:10:15: bfd.instances[0].min_tx: expected a whole number of microseconds (BFD intervals are µs on the wire), got "1.0005ms"',
    ],
  },
  {
    name: 'TTL: single hop sends 255; ranges; both spellings',
    text:
      '  instances:\n' +
      '    - { name: a, neighbor_ip: 10.0.0.2, ttl: 254 }\n' +
      '    - { name: b, neighbor_ip: 10.0.0.3, source_ip: 10.0.0.1, multihop: true, hoplimit: 0 }\n' +
      '    - { name: c, neighbor_ip: 10.0.0.4, source_ip: 10.0.0.1, multihop: true, ttl: 256, max_hops: 256 }\n' +
      '    - { name: d, neighbor_ip: 10.0.0.5, ttl: 255, hoplimit: 255, max_hops: -2 }\n',
    errors: [
      'lab.yaml:5:46: bfd.instances[0].ttl: a single-hop session sends ttl 255 (RFC 5881 §5; a peer drops anything less): ttl is for multihop sessions',
      'lab.yaml:6:88: bfd.instances[1].hoplimit: expected an integer 1..255, got 0',
      'lab.yaml:7:83: bfd.instances[2].ttl: expected an integer 1..255, got 256',
      'lab.yaml:7:98: bfd.instances[2].max_hops: expected an integer -1..255, got 256',
      'lab.yaml:8:51: bfd.instances[3].hoplimit: hoplimit is another spelling of ttl: write one of them',
      'lab.yaml:8:76: bfd.instances[3].max_hops: expected an integer -1..255, got -2',
    ],
  },
  {
    name: 'multihop without source_ip',
    text: '  instances:\n    - { name: a, neighbor_ip: 10.0.0.2, multihop: true }\n',
    errors: ['lab.yaml:5:7: bfd.instances[0].source_ip: missing required key (a multihop session needs source_ip: no interface ties it to a local address)'],
    codes: ['XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'weight and reverse',
    text: INST + '      weight: 254\n      reverse: "yes"\n',
    errors: [
      'lab.yaml:8:15: bfd.instances[0].weight: expected an integer -253..253, got 254',
      'lab.yaml:9:16: bfd.instances[0].reverse: expected true or false, got "yes"',
    ],
  },
  {
    name: 'weight below -253',
    text: INST + '      weight: -254\n',
    errors: ['lab.yaml:8:15: bfd.instances[0].weight: expected an integer -253..253, got -254'],
  },
  {
    name: 'auth: type, key_id, secret lengths, secret and secret_file',
    text:
      '  instances:\n' +
      '    - { name: a, neighbor_ip: 10.0.0.2, auth: { type: md5, key_id: 256, secret: x } }\n' +
      `    - { name: b, neighbor_ip: 10.0.0.3, auth: { type: simple, secret: "${'p'.repeat(17)}" } }\n` +
      `    - { name: c, neighbor_ip: 10.0.0.4, auth: { type: keyed-sha1, secret: "${'k'.repeat(21)}" } }\n` +
      '    - { name: d, neighbor_ip: 10.0.0.5, auth: { type: simple, secret: "" } }\n' +
      '    - { name: e, neighbor_ip: 10.0.0.6, auth: { type: simple, secret: 1234 } }\n' +
      '    - { name: f, neighbor_ip: 10.0.0.7, auth: { type: simple, secret: x, secret_file: /k } }\n' +
      '    - { name: g, neighbor_ip: 10.0.0.8, auth: { type: simple } }\n' +
      '    - { name: h, neighbor_ip: 10.0.0.9, auth: { type: simple, secret_file: k, key_id: -1 } }\n',
    errors: [
      'lab.yaml:5:55: bfd.instances[0].auth.type: expected one of simple, keyed-md5, meticulous-keyed-md5, keyed-sha1, meticulous-keyed-sha1, got "md5"',
      'lab.yaml:5:68: bfd.instances[0].auth.key_id: expected an integer 0..255, got 256',
      'lab.yaml:6:71: bfd.instances[1].auth.secret: expected a secret of 1..16 bytes for simple (RFC 5880 §4), got 17 bytes',
      'lab.yaml:7:75: bfd.instances[2].auth.secret: expected a secret of 1..20 bytes for keyed-sha1 (RFC 5880 §4), got 21 bytes',
      'lab.yaml:8:71: bfd.instances[3].auth.secret: expected a secret of 1..16 bytes for simple (RFC 5880 §4), got an empty string',
      'lab.yaml:9:71: bfd.instances[4].auth.secret: expected a string (quote it: "1234"), got 1234',
      'lab.yaml:10:74: bfd.instances[5].auth.secret_file: secret and secret_file are two ways to give the key: write one of them',
      'lab.yaml:11:47: bfd.instances[6].auth.secret_file: missing required key (auth needs secret, or secret_file: the safer, as the config then holds no key)',
      'lab.yaml:12:76: bfd.instances[7].auth.secret_file: expected an absolute path, got "k"',
      'lab.yaml:12:87: bfd.instances[7].auth.key_id: expected an integer 0..255, got -1',
    ],
  },
  {
    name: 'echo: multihop, no interfaces, interval edges, unknown key',
    text:
      '  instances:\n' +
      '    - { name: a, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1, multihop: true, echo: { reflect: true } }\n' +
      '    - { name: b, neighbor_ip: 10.0.0.3, echo: { interval: 999us, relfect: true } }\n',
    errors: [
      'lab.yaml:5:95: bfd.instances[0].echo.reflect: echo is single hop only (RFC 5883 §3: echo packets would be routed back by the first hop): echo.reflect needs multihop: false',
      'lab.yaml:6:59: bfd.instances[1].echo.interval: expected a duration 1ms..4294967295us, got "999us"',
      'lab.yaml:6:66: bfd.instances[1].echo.relfect: unknown key "relfect" (did you mean "reflect"?)',
    ],
  },
  {
    name: 'echo without interfaces: no XDP program to reflect or time it',
    head: 'vrrp:\n  instances: [{ name: V, interface: eth0, virtual_router_id: 1 }]\n',
    text: '  instances:\n    - { name: a, neighbor_ip: 10.0.0.2, echo: { enabled: true, reflect: true } }\n',
    errors: [
      'lab.yaml:5:58: bfd.instances[0].echo.enabled: echo.enabled needs interfaces: the XDP program times the returning echo packets, and a config without interfaces runs none',
      'lab.yaml:5:73: bfd.instances[0].echo.reflect: echo.reflect needs interfaces: the XDP program reflects the peer\'s echo packets, and a config without interfaces runs none',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'duplicate names and sessions (one demux key)',
    text:
      '  instances:\n' +
      '    - { name: a, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1 }\n' +
      '    - { name: a, neighbor_ip: 10.0.0.3 }\n' +
      '    - { name: b, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1 }\n' +
      '    - { name: c, neighbor_ip: 10.0.0.2 }\n' +
      '    - { name: d, neighbor_ip: 10.0.0.2, source_ip: 10.0.0.1, multihop: true }\n',
    errors: [
      'lab.yaml:6:15: bfd.instances[1].name: duplicate bfd instance name "a" (first defined at lab.yaml:5:15)',
      'lab.yaml:7:31: bfd.instances[2].neighbor_ip: bfd instance b is the same session as a (lab.yaml:5:7): neighbor, source and multihop (10.0.0.2|10.0.0.1|single) tell sessions apart',
      'lab.yaml:8:31: bfd.instances[3].neighbor_ip: bfd instance c is the same session as a (lab.yaml:5:7): neighbor, source and multihop (10.0.0.2|*|single) tell sessions apart (without source_ip a session may use any local address)',
    ],
    codes: ['XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'VRRP references to unknown sessions, with did-you-mean',
    text:
      '  instances: [{ name: gw, neighbor_ip: 10.0.0.2 }]\n' +
      'vrrp:\n' +
      '  instances:\n' +
      '    - { name: V, interface: eth0, virtual_router_id: 1, track_bfd: [gv, { name: nope }], bfd_peer: GW }\n' +
      '  sync_groups:\n' +
      '    - { name: G, group: [V], track_bfd: [gww] }\n',
    errors: [
      'lab.yaml:7:69: vrrp.instances[0].track_bfd[0]: no bfd instance named "gv" in bfd.instances (did you mean "gw"?)',
      'lab.yaml:7:81: vrrp.instances[0].track_bfd[1].name: no bfd instance named "nope" in bfd.instances (defined: gw)',
      'lab.yaml:7:100: vrrp.instances[0].bfd_peer: no bfd instance named "GW" in bfd.instances (did you mean "gw"?)',
      'lab.yaml:9:42: vrrp.sync_groups[0].track_bfd[0]: no bfd instance named "gww" in bfd.instances (did you mean "gw"?)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'track_bfd weights: owner, sync group; bfd_peer not a unicast peer',
    text:
      '  instances: [{ name: gw, neighbor_ip: 10.0.0.2, weight: 10 }, { name: p, neighbor_ip: 10.0.0.9 }]\n' +
      'vrrp:\n' +
      '  instances:\n' +
      '    - { name: O, interface: eth0, virtual_router_id: 1, priority: 255, track_bfd: [gw] }\n' +
      '    - { name: V, interface: eth0, virtual_router_id: 2, track_bfd: [{ name: gw, weight: 254 }] }\n' +
      '    - { name: W, interface: eth0, virtual_router_id: 3, unicast_peers: [10.0.0.3], bfd_peer: p }\n' +
      '  sync_groups:\n' +
      '    - { name: G, group: [W], track_bfd: [{ name: gw, weight: 5 }] }\n',
    errors: [
      'lab.yaml:7:84: vrrp.instances[0].track_bfd[0]: bfd instance gw has weight 10 (lab.yaml:4:15): the address owner (priority 255) is never adjusted: its trackers need weight 0 (write weight: 0 here)',
      'lab.yaml:8:89: vrrp.instances[1].track_bfd[0].weight: expected an integer -253..253, got 254',
      'lab.yaml:9:94: vrrp.instances[2].bfd_peer: bfd_peer p goes to 10.0.0.9 (lab.yaml:4:64), which is not a unicast peer of this instance (10.0.0.3): the session must be the one to the other VRRP node',
      'lab.yaml:11:62: vrrp.sync_groups[0].track_bfd[0].weight: weight 5: a sync group\'s trackers need weight 0 unless tracking_weight: true',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'type: bfd checks: unknown session, no bfd section, keys of other types',
    head: 'interfaces: [{ name: eth0 }]\n',
    text:
      '  instances: [{ name: web-1, neighbor_ip: 10.0.0.2 }]\n' +
      'services:\n' +
      '  - address: 10.9.0.1\n' +
      '    port: 80\n' +
      '    mode: dr\n' +
      '    health: { checks: [{ type: bfd, name: web-2 }, { type: bfd, name: web-1, interval: 1s }, { type: bfd }, { type: tcp, name: web-1 }] }\n' +
      '    backends: [{ address: 10.0.0.2 }]\n',
    errors: [
      'lab.yaml:8:43: services[0].health.checks[0].name: no bfd instance named "web-2" in bfd.instances (did you mean "web-1"?)',
      'lab.yaml:8:78: services[0].health.checks[1].interval: "interval" is not a key of a bfd check (only of tcp, http, https, udp, icmp, dns, smtp, misc and file checks)',
      'lab.yaml:8:94: services[0].health.checks[2].name: missing required key (a bfd check needs name)',
      'lab.yaml:8:122: services[0].health.checks[3].name: "name" is not a key of a tcp check (only of bfd checks)',
    ],
  },
];

describe('parseConfig: bfd, invalid', () => {
  for (const c of cases) {
    it(c.name, () => {
      const head = c.head !== undefined ? `${c.head}bfd:\n` : HEAD;
      const r = parseConfig(head + c.text, F);
      assert.equal(r.ok, false, 'expected errors');
      const errors = r.ok ? [] : r.errors;
      assert.deepEqual(errors.map((e) => e.message), c.errors);
      for (const e of errors) assert.ok(e instanceof ConfigError);
      if (c.codes) assert.deepEqual(errors.map((e) => e.code), c.codes);
    });
  }

  it('a type: bfd check in a config without bfd: names none', () => {
    const r = parseConfig('interfaces: [{ name: eth0 }]\nservices:\n  - { address: 10.9.0.1, port: 80, mode: dr, health: { checks: [{ type: bfd, name: x }] }, backends: [] }\n', F);
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors.map((e) => e.message), [
      'lab.yaml:3:84: services[0].health.checks[0].name: no bfd instance named "x" in bfd.instances (bfd.instances defines none)',
    ]);
  });
});
