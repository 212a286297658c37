/**
 * The `vrrp:` section: valid configs (every default resolved, v2 and v3
 * advert intervals, IPv6 forcing v3, strict mode, trackers resolved against
 * their definitions, sync groups), the instance digest, the JSON Schema's
 * VRRP keys against the parser's; and invalid configs, each with every
 * message (file:line:col, key, text) in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { SCHEMA } from '../../../src/config/schema.js';
import { VRRP_KEYS } from '../../../src/config/vrrp.js';
import { vrrpInstanceDigest, type VrrpConfig, type VrrpInstanceConfig } from '../../../src/config/vrrp-model.js';
import { yaml } from './yaml-text.js';

const F = 'lab.yaml';

/** The lines every case starts with (1-3); `vrrp:`'s keys start on line 4. */
const HEAD = 'interfaces: [{ name: eth0 }]\nservices: []\nvrrp:\n';

/** Parses `text` as the body of `vrrp:` (indented by two spaces here), failing the test with every message if it is invalid. */
function vrrp(text: string): VrrpConfig {
  const body = text.replace(/^(?=.)/gm, '  ');
  const r = parseConfig(HEAD + body, F);
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  assert.ok(r.config.vrrp);
  return r.config.vrrp;
}

/** The one instance of `text`. */
function one(text: string): VrrpInstanceConfig {
  const v = vrrp(text);
  assert.equal(v.instances.length, 1);
  return v.instances[0]!;
}

/** keepalived's GARP defaults, as the model holds them. */
const GARP = { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1, lowerPrioDelayMs: 5000, lowerPrioRepeat: 5 };

describe('parseConfig: vrrp, valid', () => {
  it('no vrrp key: no vrrp model', () => {
    const r = parseConfig('interfaces: [{ name: eth0 }]\nservices: []\n', F);
    assert.ok(r.ok);
    assert.equal('vrrp' in r.config, false);
  });

  it('an empty vrrp mapping: the defaults and nothing else', () => {
    assert.deepEqual(vrrp('{}\n'), {
      defaults: {
        version: 2,
        garp: GARP,
        garpIntervalMs: 0,
        gnaIntervalMs: 0,
        rtPriority: 1,
        downTimerAdverts: 3,
        lowerPrioNoAdvert: false,
        higherPrioSendAdvert: false,
        checkUnicastSrc: false,
        skipCheckAdvAddr: false,
        v3ChecksumAsV2: false,
        notifyPriorityChanges: false,
        strict: false,
      },
      instances: [],
      syncGroups: [],
      scripts: [],
      trackFiles: [],
    });
  });

  it('fills every default of an instance', () => {
    const i = one(yaml`
      instances:
        - name: VI_1
          interface: eth0
          virtual_router_id: 51
          virtual_ipaddress: [10.0.0.1]
    `);
    assert.deepEqual(i, {
      name: 'VI_1',
      interface: 'eth0',
      vrid: 51,
      family: 4,
      version: 2,
      priority: 100,
      state: 'BACKUP',
      advertIntMs: 1000,
      preempt: true,
      preemptDelayMs: 0,
      virtualIpaddress: [{ address: '10.0.0.1', family: 4, prefix: 32, dev: 'eth0', noDad: false, scope: 'global', loc: { file: F, line: 8, col: 27 } }],
      virtualIpaddressExcluded: [],
      unicastPeers: [],
      checkUnicastSrc: false,
      v3ChecksumAsV2: false,
      trackInterfaces: [],
      trackScripts: [],
      trackFiles: [],
      trackBfd: [],
      notify: {},
      garp: GARP,
      downTimerAdverts: 3,
      lowerPrioNoAdvert: false,
      higherPrioSendAdvert: false,
      skipCheckAdvAddr: false,
      dontTrackPrimary: false,
      notifyPriorityChanges: false,
      strict: false,
      ownerIgnoreAdverts: false,
      loc: { file: F, line: 5, col: 7 },
    });
  });

  it('priority and state as keepalived: MASTER alone is the owner, 255 alone starts MASTER', () => {
    const v = vrrp(yaml`
      instances:
        - { name: a, interface: eth0, virtual_router_id: 1, state: MASTER }
        - { name: b, interface: eth0, virtual_router_id: 2, priority: 255 }
        - { name: c, interface: eth0, virtual_router_id: 3, priority: 200, state: MASTER }
        - { name: d, interface: eth0, virtual_router_id: 4, priority: 255, state: BACKUP }
        - { name: e, interface: eth0, virtual_router_id: 5, priority: 50, preempt: false, preempt_delay: 0s }
    `);
    assert.deepEqual(
      v.instances.map((i) => [i.name, i.priority, i.state, i.preempt]),
      [
        ['a', 255, 'MASTER', true],
        ['b', 255, 'MASTER', true],
        ['c', 200, 'MASTER', true],
        ['d', 255, 'BACKUP', true],
        ['e', 50, 'BACKUP', false],
      ],
    );
  });

  it('advert_int: v2 whole seconds up to 255s; v3 10ms steps up to 40.95s', () => {
    const v = vrrp(yaml`
      instances:
        - { name: v2a, interface: eth0, virtual_router_id: 1, advert_int: 255s }
        - { name: v2b, interface: eth0, virtual_router_id: 2, advert_int: 2000ms }
        - { name: v2c, interface: eth0, virtual_router_id: 3, advert_int: 1m }
        - { name: v3a, interface: eth0, virtual_router_id: 4, version: 3, advert_int: 10ms }
        - { name: v3b, interface: eth0, virtual_router_id: 5, version: 3, advert_int: 40.95s }
        - { name: v3c, interface: eth0, virtual_router_id: 6, version: 3, advert_int: 1s500ms }
        - { name: v3d, interface: eth0, virtual_router_id: 7, version: 3, advert_int: 20000us }
        - { name: v3e, interface: eth0, virtual_router_id: 8, version: 3 }
    `);
    assert.deepEqual(
      v.instances.map((i) => [i.name, i.version, i.advertIntMs]),
      [
        ['v2a', 2, 255_000],
        ['v2b', 2, 2000],
        ['v2c', 2, 60_000],
        ['v3a', 3, 10],
        ['v3b', 3, 40_950],
        ['v3c', 3, 1500],
        ['v3d', 3, 20],
        ['v3e', 3, 1000],
      ],
    );
  });

  it('IPv6 instances are version 3 whatever the default, so a v3 interval is fine', () => {
    const v = vrrp(yaml`
      defaults: { version: 2 }
      instances:
        - name: VI6
          interface: eth0
          virtual_router_id: 51
          advert_int: 50ms
          virtual_ipaddress: [fe80::1/64, "2001:db8::10/64"]
        - name: VI6b
          interface: eth0
          virtual_router_id: 52
          version: 3
          virtual_ipaddress: ["2001:DB8:0::20"]
        - name: VI4
          interface: eth0
          virtual_router_id: 51
          virtual_ipaddress: [10.0.0.1/24]
    `);
    const [a, b, c] = v.instances as [VrrpInstanceConfig, VrrpInstanceConfig, VrrpInstanceConfig];
    assert.deepEqual([a.family, a.version, a.advertIntMs], [6, 3, 50]);
    assert.deepEqual(a.virtualIpaddress.map((x) => `${x.address}/${x.prefix}`), ['fe80::1/64', '2001:db8::10/64']);
    assert.deepEqual([b.family, b.version, b.virtualIpaddress[0]!.address, b.virtualIpaddress[0]!.prefix], [6, 3, '2001:db8::20', 128]);
    // the same VRID on the same interface is fine across families
    assert.deepEqual([c.family, c.version, c.vrid], [4, 2, 51]);
  });

  it('defaults reach every instance; an instance overrides them key by key', () => {
    const v = vrrp(yaml`
      defaults:
        version: 3
        garp_master_delay: 10s
        garp_master_repeat: 3
        garp_master_refresh: 1m
        garp_interval: 1ms
        gna_interval: 500us
        down_timer_adverts: 4
        lower_prio_no_advert: true
        higher_prio_send_advert: true
        skip_check_adv_addr: true
        v3_checksum_as_v2: true
        notify_priority_changes: true
      instances:
        - { name: a, interface: eth0, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1] }
        - name: b
          interface: eth0
          virtual_router_id: 2
          virtual_ipaddress: [10.0.0.2]
          garp_master_repeat: 1
          garp_lower_prio_delay: 0s
          down_timer_adverts: 3
          lower_prio_no_advert: false
          v3_checksum_as_v2: false
    `);
    const g = { masterDelayMs: 10_000, masterRepeat: 3, masterRefreshMs: 60_000, masterRefreshRepeat: 1, lowerPrioDelayMs: 10_000, lowerPrioRepeat: 3 };
    assert.deepEqual(v.defaults.garp, g);
    assert.equal(v.defaults.garpIntervalMs, 1);
    assert.equal(v.defaults.gnaIntervalMs, 0.5);
    const [a, b] = v.instances as [VrrpInstanceConfig, VrrpInstanceConfig];
    assert.deepEqual(
      [a.version, a.garp, a.downTimerAdverts, a.lowerPrioNoAdvert, a.higherPrioSendAdvert, a.skipCheckAdvAddr, a.v3ChecksumAsV2, a.notifyPriorityChanges],
      [3, g, 4, true, true, true, true, true],
    );
    // keepalived: an instance's lower-priority burst defaults to the global one, not to its own master burst
    assert.deepEqual(b.garp, { ...g, masterRepeat: 1, lowerPrioDelayMs: 0 });
    assert.deepEqual([b.downTimerAdverts, b.lowerPrioNoAdvert, b.v3ChecksumAsV2], [3, false, false]);
  });

  it('strict mode forces what the file leaves unset', () => {
    const v = vrrp(yaml`
      defaults: { strict: true }
      instances:
        - { name: owner, interface: eth0, virtual_router_id: 1, priority: 255, virtual_ipaddress: [10.0.0.1] }
        - name: v6
          interface: eth0
          virtual_router_id: 2
          virtual_ipaddress: [fe80::2, "2001:db8::2"]
        - { name: loose, interface: eth0, virtual_router_id: 3, strict: false, virtual_ipaddress: [10.0.0.3] }
    `);
    const [o, s6, l] = v.instances as [VrrpInstanceConfig, VrrpInstanceConfig, VrrpInstanceConfig];
    const forced = { ...GARP, lowerPrioDelayMs: 0, lowerPrioRepeat: 0 };
    assert.deepEqual([o.strict, o.state, o.ownerIgnoreAdverts, o.lowerPrioNoAdvert, o.higherPrioSendAdvert, o.downTimerAdverts, o.garp], [true, 'MASTER', true, true, false, 3, forced]);
    assert.deepEqual([s6.strict, s6.state, s6.ownerIgnoreAdverts, s6.version], [true, 'BACKUP', false, 3]);
    // strict: false on an instance: nothing forced (the defaults are as written)
    assert.deepEqual([l.strict, l.ownerIgnoreAdverts, l.lowerPrioNoAdvert, l.garp], [false, false, false, GARP]);
    assert.deepEqual([v.defaults.strict, v.defaults.lowerPrioNoAdvert, v.defaults.garp], [true, false, GARP]);
  });

  it('unicast: no interface needed with a source address; TTL bounds imply check_unicast_src', () => {
    const v = vrrp(yaml`
      instances:
        - name: U
          virtual_router_id: 9
          unicast_src_ip: 10.1.0.1
          unicast_peers:
            - 10.1.0.2
            - { address: 10.1.0.3, min_ttl: 250 }
          virtual_ipaddress:
            - { address: 10.1.0.100/24, dev: eth1 }
        - name: M
          interface: eth0
          virtual_router_id: 10
          unicast_src_ip: 10.1.0.1
          virtual_ipaddress: [10.1.1.100]
        - name: U2
          interface: eth0
          virtual_router_id: 11
          unicast_peers: [10.1.0.2]
          check_unicast_src: false
          virtual_ipaddress: [10.1.2.100]
    `);
    const [u, m, u2] = v.instances as [VrrpInstanceConfig, VrrpInstanceConfig, VrrpInstanceConfig];
    assert.equal('interface' in u, false);
    assert.equal(u.unicastSrcIp, '10.1.0.1');
    assert.deepEqual(u.unicastPeers, [
      { address: '10.1.0.2', minTtl: 0, maxTtl: 255 },
      { address: '10.1.0.3', minTtl: 250, maxTtl: 255 },
    ]);
    assert.equal(u.checkUnicastSrc, true);
    assert.equal(u.virtualIpaddress[0]!.dev, 'eth1');
    // a source address without peers is multicast from that address
    assert.deepEqual([m.unicastSrcIp, m.unicastPeers, m.checkUnicastSrc], ['10.1.0.1', [], false]);
    assert.equal(u2.checkUnicastSrc, false);
  });

  it('one VRID on one interface: only unicast instances with disjoint peers may share it', () => {
    const v = vrrp(yaml`
      instances:
        - { name: a, interface: eth0, virtual_router_id: 7, unicast_peers: [10.0.0.2], virtual_ipaddress: [10.9.0.1] }
        - { name: b, interface: eth0, virtual_router_id: 7, unicast_peers: [10.0.0.3], virtual_ipaddress: [10.9.0.2] }
        - { name: c, interface: eth1, virtual_router_id: 7, virtual_ipaddress: [10.9.0.3] }
    `);
    assert.deepEqual(v.instances.map((i) => `${i.interface}/${i.vrid}`), ['eth0/7', 'eth0/7', 'eth1/7']);
  });

  it('virtual addresses: strings and mappings; dev from the VMAC, else the interface', () => {
    const v = vrrp(yaml`
      instances:
        - name: VI_1
          interface: eth0
          virtual_router_id: 51
          use_vmac: true
          virtual_ipaddress:
            - 10.0.0.1/24
            - { address: 10.0.0.2, prefix: 24, label: "vrrp.51:web", scope: site }
            - { address: 10.0.0.3/32, dev: lo }
          virtual_ipaddress_excluded:
            - "2001:db8::1/64"
            - { address: "2001:db8::2", no_dad: true, dev: eth1 }
            - 192.0.2.1
        - name: VI_2
          interface: eth0
          virtual_router_id: 52
          use_vmac: { name: vmac52 }
          virtual_ipaddress: [fd00::52]
        - name: VI_3
          interface: eth0
          virtual_router_id: 53
          use_vmac: true
          virtual_ipaddress: [fd00::53]
        - name: VI_4
          interface: eth0
          virtual_router_id: 54
          use_vmac: false
          virtual_ipaddress: [10.0.0.54]
    `);
    const [a, b, c, d] = v.instances as [VrrpInstanceConfig, VrrpInstanceConfig, VrrpInstanceConfig, VrrpInstanceConfig];
    assert.deepEqual(a.vmac, { name: 'vrrp.51' });
    const show = (x: VrrpInstanceConfig['virtualIpaddress'][number]) => ({ ...x, loc: undefined });
    assert.deepEqual(a.virtualIpaddress.map(show), [
      { address: '10.0.0.1', family: 4, prefix: 24, dev: 'vrrp.51', noDad: false, scope: 'global', loc: undefined },
      { address: '10.0.0.2', family: 4, prefix: 24, dev: 'vrrp.51', label: 'vrrp.51:web', noDad: false, scope: 'site', loc: undefined },
      { address: '10.0.0.3', family: 4, prefix: 32, dev: 'lo', noDad: false, scope: 'global', loc: undefined },
    ]);
    assert.deepEqual(a.virtualIpaddressExcluded.map(show), [
      { address: '2001:db8::1', family: 6, prefix: 64, dev: 'vrrp.51', noDad: false, scope: 'global', loc: undefined },
      { address: '2001:db8::2', family: 6, prefix: 128, dev: 'eth1', noDad: true, scope: 'global', loc: undefined },
      { address: '192.0.2.1', family: 4, prefix: 32, dev: 'vrrp.51', noDad: false, scope: 'global', loc: undefined },
    ]);
    assert.deepEqual([b.vmac, b.virtualIpaddress[0]!.dev], [{ name: 'vmac52' }, 'vmac52']);
    assert.deepEqual(c.vmac, { name: 'vrrp6.53' });
    assert.equal('vmac' in d, false);
  });

  it('trackers: weights from the definition unless the reference sets one; sync groups', () => {
    const v = vrrp(yaml`
      scripts:
        - { name: chk_a, script: /bin/true, weight: -20, reverse: true }
        - name: chk_b
          script: [/usr/bin/test, -e, /run/up]
          interval: 500ms
          rise: 3
          fall: 2
          init_fail: true
          user: nobody
        - { name: chk_c, script: "/bin/check \\"a b\\"", timeout: 3s, user: 65534 }
      track_files:
        - { name: tf_a, file: /run/prio }
        - { name: tf_b, file: /run/prio_b, weight: -3, reverse: true, init_file: true }
        - { name: tf_c, file: /run/prio_c, init_file: 7 }
        - { name: tf_d, file: /run/prio_d, init_file: { value: -2, overwrite: true } }
        - { name: tf_e, file: /run/prio_e, init_file: false }
      instances:
        - name: VI_1
          interface: eth0
          virtual_router_id: 1
          virtual_ipaddress: [10.0.0.1]
          track_interfaces: [eth1, { name: eth2, weight: 10 }, { name: eth3, weight: -5, reverse: true }]
          track_scripts: [chk_a, { name: chk_b, weight: 5 }, { name: chk_c, reverse: true }]
          track_files: [tf_a, { name: tf_b, weight: 2 }]
          notify_master: /bin/m
          notify_backup: [/bin/b, x]
          notify_fault: /bin/f
          notify_stop: /bin/s
          notify: /bin/n
          notify_master_rx_lower_pri: /bin/l
        - { name: VI_2, interface: eth0, virtual_router_id: 2, virtual_ipaddress: [10.0.0.2] }
        - { name: VI_3, interface: eth0, virtual_router_id: 3, virtual_ipaddress: [10.0.0.3] }
      sync_groups:
        - name: G
          group: [VI_2, VI_3]
          track_interfaces: [eth9]
          track_scripts: [{ name: chk_a, weight: 0 }]
          track_files: [{ name: tf_a, weight: 0 }]
          notify_master: /bin/gm
          notify: /bin/gn
      notify_fifo: /run/vrrp.fifo
    `);
    const [s1, s2, s3] = v.scripts;
    assert.deepEqual({ ...s1, loc: undefined }, {
      name: 'chk_a', script: ['/bin/true'], intervalMs: 1000, timeoutMs: 1000, weight: -20, reverse: true, rise: 1, fall: 1, initFail: false, loc: undefined,
    });
    assert.deepEqual({ ...s2, loc: undefined }, {
      name: 'chk_b', script: ['/usr/bin/test', '-e', '/run/up'], intervalMs: 500, timeoutMs: 500, weight: 0, reverse: false, rise: 3, fall: 2, initFail: true, user: 'nobody', loc: undefined,
    });
    assert.deepEqual([s3!.script, s3!.timeoutMs, s3!.user], [['/bin/check', 'a b'], 3000, '65534']);
    assert.deepEqual(
      v.trackFiles.map((t) => [t.name, t.file, t.weight, t.reverse, t.initFile]),
      [
        ['tf_a', '/run/prio', 1, false, undefined],
        ['tf_b', '/run/prio_b', -3, true, { value: 0, overwrite: false }],
        ['tf_c', '/run/prio_c', 1, false, { value: 7, overwrite: false }],
        ['tf_d', '/run/prio_d', 1, false, { value: -2, overwrite: true }],
        ['tf_e', '/run/prio_e', 1, false, undefined],
      ],
    );
    const [i1, i2, i3] = v.instances as [VrrpInstanceConfig, VrrpInstanceConfig, VrrpInstanceConfig];
    assert.deepEqual(i1.trackInterfaces, [
      { name: 'eth1', weight: 0, reverse: false },
      { name: 'eth2', weight: 10, reverse: false },
      { name: 'eth3', weight: -5, reverse: true },
    ]);
    assert.deepEqual(i1.trackScripts, [
      { name: 'chk_a', weight: -20, reverse: true },
      { name: 'chk_b', weight: 5, reverse: false },
      { name: 'chk_c', weight: 0, reverse: true },
    ]);
    assert.deepEqual(i1.trackFiles, [
      { name: 'tf_a', weight: 1, reverse: false },
      { name: 'tf_b', weight: 2, reverse: true },
    ]);
    assert.deepEqual(i1.notify, {
      master: { argv: ['/bin/m'] }, backup: { argv: ['/bin/b', 'x'] }, fault: { argv: ['/bin/f'] }, stop: { argv: ['/bin/s'] }, any: { argv: ['/bin/n'] }, masterRxLowerPri: { argv: ['/bin/l'] },
    });
    assert.equal('syncGroup' in i1, false);
    assert.deepEqual([i2.syncGroup, i3.syncGroup], ['G', 'G']);
    assert.deepEqual({ ...v.syncGroups[0], loc: undefined }, {
      name: 'G',
      group: ['VI_2', 'VI_3'],
      trackInterfaces: [{ name: 'eth9', weight: 0, reverse: false }],
      trackScripts: [{ name: 'chk_a', weight: 0, reverse: true }],
      trackFiles: [{ name: 'tf_a', weight: 0, reverse: false }],
      trackBfd: [],
      notify: { master: { argv: ['/bin/gm'] }, any: { argv: ['/bin/gn'] } },
      trackingWeight: false,
      loc: undefined,
    });
    assert.equal(v.notifyFifo, '/run/vrrp.fifo');
  });

  it('tracking_weight: weighted trackers in a sync group and its members', () => {
    const v = vrrp(yaml`
      scripts: [{ name: chk, script: /bin/true, weight: 10 }]
      instances:
        - { name: A, interface: eth0, virtual_router_id: 1, virtual_ipaddress: [10.0.0.1], track_scripts: [chk] }
        - { name: B, interface: eth0, virtual_router_id: 2, virtual_ipaddress: [10.0.0.2], track_interfaces: [{ name: eth1, weight: 5 }] }
      sync_groups:
        - { name: G, group: [A, B], tracking_weight: true, track_scripts: [chk] }
    `);
    assert.deepEqual([v.syncGroups[0]!.trackingWeight, v.syncGroups[0]!.trackScripts[0]!.weight], [true, 10]);
  });

  it('vrrpInstanceDigest: stable; changes with the wire identity only', () => {
    const text = (prio: number, advert: string, iface = 'eth0', peers = '[10.0.0.2]') => yaml`
      instances:
        - name: VI_1
          interface: ${iface}
          virtual_router_id: 51
          priority: ${prio}
          advert_int: ${advert}
          unicast_peers: ${peers}
          virtual_ipaddress: [10.0.0.1]
    `;
    const d = (t: string) => vrrpInstanceDigest(one(t));
    const base = d(text(100, '1s'));
    assert.equal(base, '{"interface":"eth0","vmac":null,"family":4,"vrid":51,"version":2,"unicastSrcIp":null,"unicast":true,"owner":false}');
    assert.equal(d(text(100, '1s')), base);
    assert.equal(d(text(200, '3s', 'eth0', '[10.0.0.3, 10.0.0.4]')), base, 'priority, interval and peers are reconfigured in place');
    assert.notEqual(d(text(255, '1s')), base, 'becoming the owner restarts');
    assert.notEqual(d(text(100, '1s', 'eth1')), base, 'another interface restarts');
  });

  it('examples/vrrp.yaml: the documented pair', async () => {
    const r = await loadConfigFile(new URL('../../../../examples/vrrp.yaml', import.meta.url).pathname, { euid: 0 }) // as a root daemon would check it;
    if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
    const v = r.config.vrrp!;
    assert.deepEqual(
      v.instances.map((i) => ({
        name: i.name,
        on: `${i.interface}/${i.vrid}/v${i.version}/${i.family}`,
        prio: i.priority,
        vips: i.virtualIpaddress.map((x) => `${x.address}/${x.prefix}`),
        peers: i.unicastPeers.map((p) => p.address),
        group: i.syncGroup,
      })),
      [
        { name: 'VI_FRONT', on: 'eth0/51/v3/4', prio: 150, vips: ['192.0.2.10/24', '192.0.2.11/24'], peers: [], group: 'G_EDGE' },
        { name: 'VI_BACK', on: 'eth1/52/v3/4', prio: 150, vips: ['198.51.100.1/24'], peers: ['198.51.100.3'], group: 'G_EDGE' },
      ],
    );
    assert.deepEqual(v.instances[0]!.trackInterfaces, [{ name: 'eth1', weight: 0, reverse: false }]);
    assert.deepEqual(v.syncGroups[0]!.trackScripts, [{ name: 'chk_xlb', weight: 0, reverse: false }]);
    // every service VIP is one of the VRRP addresses
    const vips = new Set(v.instances.flatMap((i) => i.virtualIpaddress.map((x) => x.address)));
    for (const s of r.config.services) assert.ok(vips.has(s.address), s.address);
  });
});

describe('schema/xlb.schema.json: vrrp', () => {
  type Json = { [k: string]: unknown };
  const defs = (SCHEMA as unknown as { $defs: Record<string, Json> }).$defs;
  /** The object schema of a $def that is a oneOf of a string and an object (vrrp_vip). */
  const objectOf = (d: Json): Json => ((d.oneOf as Json[] | undefined)?.find((x) => x.type === 'object') ?? d);

  it('has the keys the parser accepts, and the same required keys', () => {
    const objects: Record<keyof typeof VRRP_KEYS, Json> = {
      vrrp: defs.vrrp!,
      defaults: defs.vrrp_defaults!,
      instance: defs.vrrp_instance!,
      vip: objectOf(defs.vrrp_vip!),
      peer: defs.vrrp_peer!,
      authentication: defs.vrrp_authentication!,
      vmac: defs.vrrp_vmac!,
      trackInterface: defs.vrrp_track_interface!,
      trackRef: defs.vrrp_track_script!,
      syncGroup: defs.vrrp_sync_group!,
      script: defs.vrrp_script!,
      trackFile: defs.vrrp_track_file!,
      initFile: ((defs.vrrp_track_file!.properties as Json).init_file as { oneOf: Json[] }).oneOf[2]!,
    };
    for (const [name, spec] of Object.entries(VRRP_KEYS) as [keyof typeof VRRP_KEYS, (typeof VRRP_KEYS)[keyof typeof VRRP_KEYS]][]) {
      const o = objects[name];
      assert.deepEqual(Object.keys(o.properties as Json), [...spec.allowed], name);
      assert.deepEqual((o.required as string[] | undefined) ?? [], [...spec.required], name);
      assert.equal(o.additionalProperties, false, name);
    }
    assert.deepEqual(Object.keys(defs.vrrp_track_file_ref!.properties as Json), [...VRRP_KEYS.trackRef.allowed]);
  });
});

interface Case {
  name: string;
  text: string;
  errors: string[];
  codes?: string[];
}

/** An instance's first lines (5-7 of the file); its other keys start on line 8. */
const INST = '  instances:\n    - name: VI_1\n      interface: eth0\n      virtual_router_id: 51\n';

/** 256 addresses, 10.1.0.1 .. 10.1.1.0, in one flow list. */
const MANY = Array.from({ length: 256 }, (_, i) => `10.1.${(i + 1) >> 8}.${(i + 1) & 255}`).join(', ');

const cases: Case[] = [
  {
    name: 'vrrp not a mapping',
    text: '  - a\n',
    errors: [
      'lab.yaml:4:3: vrrp: expected a mapping, got a list',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'unknown vrrp key with keepalived hint',
    text: '  vrrp_instance: []\n  instance: []\n',
    errors: [
      'lab.yaml:4:3: vrrp.vrrp_instance: unknown key "vrrp_instance" (keepalived\'s vrrp_instance blocks are entries of "instances")',
      'lab.yaml:5:3: vrrp.instance: unknown key "instance" (did you mean "instances"?)',
    ],
    codes: ['XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'unknown defaults key',
    text: '  defaults:\n    vrrp_garp_master_delay: 5s\n    vrsion: 3\n',
    errors: [
      'lab.yaml:5:5: vrrp.defaults.vrrp_garp_master_delay: unknown key "vrrp_garp_master_delay" (keepalived\'s vrrp_garp_master_delay is "garp_master_delay" here)',
      'lab.yaml:6:5: vrrp.defaults.vrsion: unknown key "vrsion" (did you mean "version"?)',
    ],
    codes: ['XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'defaults version and ranges',
    text: '  defaults:\n    version: 4\n    garp_master_repeat: 0\n    garp_interval: 2s\n    garp_master_refresh: 500ms\n    down_timer_adverts: 101\n',
    errors: [
      'lab.yaml:5:14: vrrp.defaults.version: expected 2 or 3, got 4',
      'lab.yaml:6:25: vrrp.defaults.garp_master_repeat: expected an integer 1..255, got 0',
      'lab.yaml:7:20: vrrp.defaults.garp_interval: expected a duration 0s..1s, got "2s"',
      'lab.yaml:8:26: vrrp.defaults.garp_master_refresh: expected 0s (off) or a duration 1s..24h, got "500ms"',
      'lab.yaml:9:25: vrrp.defaults.down_timer_adverts: expected an integer 1..100, got 101',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'instance missing keys',
    text: '  instances:\n    - interface: eth0\n',
    errors: [
      'lab.yaml:5:7: vrrp.instances[0].name: missing required key',
      'lab.yaml:5:7: vrrp.instances[0].virtual_router_id: missing required key',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'instance bad name and vrid',
    text: '  instances:\n    - name: "VI 1"\n      interface: eth0\n      virtual_router_id: 256\n',
    errors: [
      'lab.yaml:5:13: vrrp.instances[0].name: expected a name of letters, digits, "_", ".", ":" and "-" (at most 64, starting with a letter or digit), got "VI 1"',
      'lab.yaml:7:26: vrrp.instances[0].virtual_router_id: expected an integer 1..255, got 256',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'nopreempt keyword',
    text: INST + '      nopreempt: true\n      auth_hmac: {}\n      track_interface: [eth1]\n',
    errors: [
      'lab.yaml:8:7: vrrp.instances[0].nopreempt: unknown key "nopreempt" (keepalived\'s nopreempt is "preempt: false")',
      'lab.yaml:9:7: vrrp.instances[0].auth_hmac: unknown key "auth_hmac" (auth_hmac is not supported: VRRPv2 instances may use authentication with auth_type PASS)',
      'lab.yaml:10:7: vrrp.instances[0].track_interface: unknown key "track_interface" (did you mean "track_interfaces"?)',
    ],
    codes: ['XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'duplicate instance names',
    text: '  instances:\n    - { name: VI_1, interface: eth0, virtual_router_id: 1 }\n    - { name: VI_1, interface: eth0, virtual_router_id: 2 }\n',
    errors: [
      'lab.yaml:6:15: vrrp.instances[1].name: duplicate instance name "VI_1" (first defined at lab.yaml:5:15)',
    ],
    codes: ['XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'duplicate vrid on an interface',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1 }\n    - { name: b, interface: eth0, virtual_router_id: 1 }\n',
    errors: [
      'lab.yaml:6:54: vrrp.instances[1].virtual_router_id: virtual_router_id 1 on eth0 (IPv4) is also instance a\'s (lab.yaml:5:7); instances may share one only as unicast instances whose peers do not overlap',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'vrid shared by unicast instances with a common peer',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, unicast_peers: [10.0.0.2, 10.0.0.3] }\n    - { name: b, interface: eth0, virtual_router_id: 1, unicast_peers: [10.0.0.3] }\n    - { name: c, interface: eth0, virtual_router_id: 1 }\n',
    errors: [
      'lab.yaml:6:54: vrrp.instances[1].virtual_router_id: virtual_router_id 1 on eth0 (IPv4) is also instance a\'s (lab.yaml:5:7); they share the unicast peer 10.0.0.3',
      'lab.yaml:7:54: vrrp.instances[2].virtual_router_id: virtual_router_id 1 on eth0 (IPv4) is also instance a\'s (lab.yaml:5:7); instances may share one only as unicast instances whose peers do not overlap',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'v2 advert_int not whole seconds',
    text: INST + '      advert_int: 1500ms\n',
    errors: [
      'lab.yaml:8:19: vrrp.instances[0].advert_int: advert_int "1500ms" is not a whole number of seconds, as the default version, VRRPv2, needs (use 1s or 2s; version: 3 allows 10ms steps)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'v2 advert_int explicit version',
    text: INST + '      version: 2\n      advert_int: 500ms\n',
    errors: [
      'lab.yaml:9:19: vrrp.instances[0].advert_int: expected a duration 1s..255s (VRRPv2 advertises whole seconds), got "500ms"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'v2 advert_int too long',
    text: INST + '      advert_int: 256s\n',
    errors: [
      'lab.yaml:8:19: vrrp.instances[0].advert_int: expected a duration 1s..255s (the default version, VRRPv2, advertises whole seconds), got "256s"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'v3 advert_int not 10ms steps',
    text: INST + '      version: 3\n      advert_int: 15ms\n',
    errors: [
      'lab.yaml:9:19: vrrp.instances[0].advert_int: advert_int "15ms" is not a multiple of 10ms, as VRRPv3 needs (use 10ms or 20ms)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'v3 advert_int too long, too short',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, version: 3, advert_int: 41s }\n    - { name: b, interface: eth0, virtual_router_id: 2, version: 3, advert_int: 5ms }\n    - { name: c, interface: eth0, virtual_router_id: 3, advert_int: 100 }\n',
    errors: [
      'lab.yaml:5:81: vrrp.instances[0].advert_int: expected a duration 10ms..40.95s (VRRPv3 advertises centiseconds, at most 4095), got "41s"',
      'lab.yaml:6:81: vrrp.instances[1].advert_int: expected a duration 10ms..40.95s (VRRPv3 advertises centiseconds, at most 4095), got "5ms"',
      'lab.yaml:7:69: vrrp.instances[2].advert_int: expected a duration such as 150ms or 2s, got 100',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'v2 with IPv6',
    text: INST + '      version: 2\n      virtual_ipaddress: ["fd00::1"]\n',
    errors: [
      'lab.yaml:8:16: vrrp.instances[0].version: VRRPv2 is IPv4 only: an IPv6 instance (its virtual_ipaddress) is version 3',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'mixed families',
    text: INST + '      virtual_ipaddress:\n        - 10.0.0.1\n        - fd00::1\n        - { address: 10.0.0.2/24 }\n',
    errors: [
      'lab.yaml:10:11: vrrp.instances[0].virtual_ipaddress[1]: virtual_ipaddress mixes address families: fd00::1 is IPv6 but the first entry 10.0.0.1 is IPv4 (put the other family in virtual_ipaddress_excluded)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'bad vips',
    text: INST + '      virtual_ipaddress:\n        - 10.0.0.1/33\n        - 224.0.0.5\n        - 10.0.0.1 dev eth1\n        - { address: 10.0.0.3/24, prefix: 24 }\n        - { address: 10.0.0.4, no_dad: true }\n        - { address: 10.0.0.5, label: "eth1:x" }\n        - { address: 10.0.0.6, nodad: true }\n        - 7\n',
    errors: [
      'lab.yaml:9:11: vrrp.instances[0].virtual_ipaddress[0]: expected an IPv4 address with a prefix 0..32, got "10.0.0.1/33"',
      'lab.yaml:10:11: vrrp.instances[0].virtual_ipaddress[1]: expected a unicast address (not a multicast address), got "224.0.0.5"',
      'lab.yaml:11:11: vrrp.instances[0].virtual_ipaddress[2]: expected an address or address/prefix (options such as dev or label go in a mapping: { address: 10.0.0.1/24, dev: eth1 }), got "10.0.0.1 dev eth1"',
      'lab.yaml:12:35: vrrp.instances[0].virtual_ipaddress[3].prefix: prefix repeats the /24 of the address: write it once',
      'lab.yaml:13:40: vrrp.instances[0].virtual_ipaddress[4].no_dad: no_dad applies to IPv6 addresses only (IPv4 has no duplicate address detection)',
      'lab.yaml:14:39: vrrp.instances[0].virtual_ipaddress[5].label: expected a label that is "eth0" or starts with "eth0:" (the device\'s name), got "eth1:x"',
      'lab.yaml:15:32: vrrp.instances[0].virtual_ipaddress[6].nodad: unknown key "nodad" (did you mean "no_dad"?)',
      'lab.yaml:16:11: vrrp.instances[0].virtual_ipaddress[7]: expected an address, address/prefix, or a mapping with address, got 7',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'duplicate vips',
    text: INST + '      virtual_ipaddress: [10.0.0.1, 10.0.0.1/24]\n      virtual_ipaddress_excluded: [10.0.0.1]\n    - { name: VI_2, interface: eth1, virtual_router_id: 51, virtual_ipaddress: [10.0.0.1] }\n',
    errors: [
      'lab.yaml:8:37: vrrp.instances[0].virtual_ipaddress[1]: duplicate virtual address 10.0.0.1 (first defined at lab.yaml:8:27)',
      'lab.yaml:9:36: vrrp.instances[0].virtual_ipaddress_excluded[0]: duplicate virtual address 10.0.0.1 (first defined at lab.yaml:8:27)',
      'lab.yaml:10:81: vrrp.instances[1].virtual_ipaddress[0]: duplicate virtual address 10.0.0.1 (first defined at lab.yaml:8:27)',
    ],
    codes: ['XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'preempt false with master/owner',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, state: MASTER, priority: 200, preempt: false }\n    - { name: b, interface: eth0, virtual_router_id: 2, priority: 255, preempt: false }\n    - { name: c, interface: eth0, virtual_router_id: 3, preempt: false, preempt_delay: 5s }\n    - { name: d, interface: eth0, virtual_router_id: 4, state: MASTER, preempt_delay: 5s }\n    - { name: e, interface: eth0, virtual_router_id: 5, preempt_delay: 1001s }\n',
    errors: [
      'lab.yaml:5:96: vrrp.instances[0].preempt: preempt: false needs state: BACKUP (keepalived\'s nopreempt)',
      'lab.yaml:6:81: vrrp.instances[1].preempt: preempt: false is not allowed for the address owner (priority 255), which always preempts',
      'lab.yaml:7:88: vrrp.instances[2].preempt_delay: preempt_delay has no effect with preempt: false',
      'lab.yaml:8:87: vrrp.instances[3].preempt_delay: preempt_delay has no effect with state: MASTER',
      'lab.yaml:9:72: vrrp.instances[4].preempt_delay: expected a duration 0s..1000s, got "1001s"',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'authentication problems',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, authentication: { auth_type: AH, auth_pass: secret } }\n    - { name: b, interface: eth0, virtual_router_id: 2, authentication: { auth_type: PASS, auth_pass: longer-than-8 } }\n    - { name: c, interface: eth0, virtual_router_id: 3, version: 3, authentication: { auth_type: PASS, auth_pass: pw } }\n    - { name: d, interface: eth0, virtual_router_id: 4, authentication: { auth_type: PASS, auth_pass: 1234 } }\n    - { name: e, interface: eth0, virtual_router_id: 5, authentication: { auth_pass: x } }\n',
    errors: [
      'lab.yaml:5:86: vrrp.instances[0].authentication.auth_type: expected PASS, got "AH" (IPsec AH authentication is not supported)',
      'lab.yaml:6:103: vrrp.instances[1].authentication.auth_pass: auth_pass is 13 bytes, longer than the 8 a VRRPv2 advert carries (keepalived would silently use only the first 8)',
      'lab.yaml:7:69: vrrp.instances[2].authentication: authentication is VRRPv2 only (RFC 5798 removed it; version: 3)',
      'lab.yaml:8:103: vrrp.instances[3].authentication.auth_pass: expected a string (quote it: "1234"), got 1234',
      'lab.yaml:9:73: vrrp.instances[4].authentication.auth_type: missing required key',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'interface missing',
    text: '  instances:\n    - { name: a, virtual_router_id: 1 }\n    - { name: b, virtual_router_id: 2, unicast_peers: [10.0.0.2] }\n    - { name: c, virtual_router_id: 3, unicast_src_ip: "fe80::1", unicast_peers: ["fe80::2"] }\n    - { name: d, virtual_router_id: 4, unicast_src_ip: 10.0.0.1, unicast_peers: [10.0.0.2], virtual_ipaddress: [10.0.0.9] }\n',
    errors: [
      'lab.yaml:5:7: vrrp.instances[0].interface: missing required key (only a unicast instance (unicast_peers) with a unicast_src_ip may omit it)',
      'lab.yaml:6:7: vrrp.instances[1].interface: missing required key (only a unicast instance (unicast_peers) with a unicast_src_ip may omit it)',
      'lab.yaml:7:7: vrrp.instances[2].interface: missing required key (the link-local unicast_src_ip fe80::1 needs one)',
      'lab.yaml:8:113: vrrp.instances[3].virtual_ipaddress[0].dev: missing required key (the instance has no interface to add the address to)',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'unicast peers',
    text: INST + '      unicast_src_ip: 10.0.0.1\n      unicast_peers:\n        - 10.0.0.2\n        - 10.0.0.2\n        - 10.0.0.1\n        - fd00::2\n        - { address: 10.0.0.3, min_ttl: 200, max_ttl: 100 }\n        - { address: 10.0.0.4, ttl: 3 }\n',
    errors: [
      'lab.yaml:11:11: vrrp.instances[0].unicast_peers[1]: duplicate unicast peer 10.0.0.2 (first defined at lab.yaml:10:11)',
      'lab.yaml:12:11: vrrp.instances[0].unicast_peers[2]: unicast peer 10.0.0.1 is the instance\'s own unicast_src_ip',
      'lab.yaml:13:11: vrrp.instances[0].unicast_peers[3]: unicast peer fd00::2 is IPv6 but the instance is IPv4 (its unicast_src_ip)',
      'lab.yaml:14:41: vrrp.instances[0].unicast_peers[4].min_ttl: min_ttl 200 exceeds max_ttl 100',
      'lab.yaml:15:32: vrrp.instances[0].unicast_peers[5].ttl: unknown key "ttl" (allowed: address, min_ttl, max_ttl)',
    ],
    codes: ['XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'unicast empty and check_unicast_src',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, unicast_peers: [] }\n    - { name: b, interface: eth0, virtual_router_id: 2, check_unicast_src: true }\n    - { name: c, interface: eth0, virtual_router_id: 3, check_unicast_src: false, unicast_peers: [{ address: 10.0.0.2, max_ttl: 64 }] }\n',
    errors: [
      'lab.yaml:5:72: vrrp.instances[0].unicast_peers: expected at least one peer, got an empty list (leave unicast_peers out for multicast)',
      'lab.yaml:6:57: vrrp.instances[1].check_unicast_src: check_unicast_src needs unicast_peers',
      'lab.yaml:7:76: vrrp.instances[2].check_unicast_src: check_unicast_src: false contradicts the TTL bounds of peer 10.0.0.2 (they are checked on adverts from listed peers)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'src family',
    text: INST + '      unicast_src_ip: fd00::1\n      virtual_ipaddress: [10.0.0.1]\n',
    errors: [
      'lab.yaml:8:23: vrrp.instances[0].unicast_src_ip: unicast_src_ip fd00::1 is IPv6 but the instance is IPv4 (its virtual_ipaddress)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'undefined script and file',
    text: '  scripts:\n    - { name: chk_nginx, script: /bin/true }\n' + INST + '      track_scripts: [chk_ngnix, { name: chk_other }]\n      track_files: [tf]\n',
    errors: [
      'lab.yaml:10:23: vrrp.instances[0].track_scripts[0]: no script named "chk_ngnix" in vrrp.scripts (did you mean "chk_nginx"?)',
      'lab.yaml:10:42: vrrp.instances[0].track_scripts[1].name: no script named "chk_other" in vrrp.scripts (defined: chk_nginx)',
      'lab.yaml:11:21: vrrp.instances[0].track_files[0]: no tracked file named "tf" in vrrp.track_files (vrrp.track_files defines none)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'script definition errors',
    text: '  scripts:\n    - { name: chk, script: "", interval: 1, weight: 254, rise: 0 }\n    - { name: chk, script: /bin/true }\n    - { name: chk2, command: /bin/true }\n    - { name: chk3, script: [/bin/x, 5], timeout: 5ms, user: "Not A User" }\n',
    errors: [
      'lab.yaml:5:28: vrrp.scripts[0].script: expected a command (a list of strings, or one string), got ""',
      'lab.yaml:5:42: vrrp.scripts[0].interval: expected a duration such as 150ms or 2s, got 1',
      'lab.yaml:5:53: vrrp.scripts[0].weight: expected an integer -253..253, got 254',
      'lab.yaml:5:64: vrrp.scripts[0].rise: expected an integer 1..100, got 0',
      'lab.yaml:6:15: vrrp.scripts[1].name: duplicate script name "chk" (first defined at lab.yaml:5:7)',
      'lab.yaml:7:7: vrrp.scripts[2].script: missing required key',
      'lab.yaml:7:21: vrrp.scripts[2].command: unknown key "command" (the command of a script is "script", as in keepalived)',
      'lab.yaml:8:38: vrrp.scripts[3].script[1]: expected a string (quote it: "5"), got 5',
      'lab.yaml:8:51: vrrp.scripts[3].timeout: expected a duration 10ms..1h, got "5ms"',
      'lab.yaml:8:62: vrrp.scripts[3].user: expected a user name or uid, optionally with ":group" (nobody, 65534, nobody:nogroup), got "Not A User"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'track file definition errors',
    text: '  track_files:\n    - { name: tf, file: relative/path, weight: 255 }\n    - { name: tf2, path: /run/x }\n    - { name: tf3, file: /run/y, init_file: { value: 300, overwrite: yes } }\n    - { name: tf4, file: /run/z, init_file: "yes" }\n',
    errors: [
      'lab.yaml:5:25: vrrp.track_files[0].file: expected an absolute path, got "relative/path"',
      'lab.yaml:5:48: vrrp.track_files[0].weight: expected an integer -254..254, got 255',
      'lab.yaml:6:7: vrrp.track_files[1].file: missing required key',
      'lab.yaml:6:20: vrrp.track_files[1].path: unknown key "path" (the path of a tracked file is "file", as in keepalived)',
      'lab.yaml:7:54: vrrp.track_files[2].init_file.value: expected an integer -254..254, got 300',
      'lab.yaml:7:70: vrrp.track_files[2].init_file.overwrite: expected true or false, got "yes"',
      'lab.yaml:8:45: vrrp.track_files[3].init_file: expected true, false, an integer -254..254 or a mapping, got "yes"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'track weights out of range',
    text: '  scripts: [{ name: chk, script: /bin/true }]\n  track_files: [{ name: tf, file: /run/tf }]\n' + INST + '      track_interfaces: [{ name: eth1, weight: 254 }, eth1, "bad/name"]\n      track_scripts: [{ name: chk, weight: -254 }]\n      track_files: [{ name: tf, weight: 255 }]\n',
    errors: [
      'lab.yaml:10:48: vrrp.instances[0].track_interfaces[0].weight: expected an integer -253..253, got 254',
      'lab.yaml:10:61: vrrp.instances[0].track_interfaces[2]: expected an interface name (1..15 characters, no "/", ":" or whitespace), got "bad/name"',
      'lab.yaml:11:44: vrrp.instances[0].track_scripts[0].weight: expected an integer -253..253, got -254',
      'lab.yaml:12:41: vrrp.instances[0].track_files[0].weight: expected an integer -254..254, got 255',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'owner with weighted trackers',
    text: '  scripts: [{ name: chk, script: /bin/true, weight: 10 }]\n' + INST + '      priority: 255\n      track_interfaces: [{ name: eth1, weight: -10 }, eth2]\n      track_scripts: [chk, { name: chk, weight: 0 }]\n',
    errors: [
      'lab.yaml:10:48: vrrp.instances[0].track_interfaces[0].weight: weight -10: the address owner (priority 255) is never adjusted: its trackers need weight 0',
      'lab.yaml:11:23: vrrp.instances[0].track_scripts[0]: script chk has weight 10 (lab.yaml:4:13): the address owner (priority 255) is never adjusted: its trackers need weight 0 (write weight: 0 here)',
      'lab.yaml:11:36: vrrp.instances[0].track_scripts[1]: duplicate tracked script chk (first defined at lab.yaml:11:23)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'sync group errors',
    text: '  instances:\n    - { name: A, interface: eth0, virtual_router_id: 1 }\n    - { name: B, interface: eth0, virtual_router_id: 2 }\n  sync_groups:\n    - { name: G1, group: [A, C, A] }\n    - { name: G2, group: [A, B] }\n    - { name: G1, group: [] }\n    - { name: G3, group: [Bb] }\n',
    errors: [
      'lab.yaml:8:30: vrrp.sync_groups[0].group[1]: no instance named "C" in vrrp.instances (defined: A, B)',
      'lab.yaml:8:33: vrrp.sync_groups[0].group[2]: duplicate member A (first defined at lab.yaml:8:27)',
      'lab.yaml:9:27: vrrp.sync_groups[1].group[0]: instance A is already in sync group G1 (lab.yaml:8:27); an instance is in at most one group',
      'lab.yaml:10:15: vrrp.sync_groups[2].name: duplicate sync group name "G1" (first defined at lab.yaml:8:15)',
      'lab.yaml:10:26: vrrp.sync_groups[2].group: expected at least one instance name, got an empty list',
      'lab.yaml:11:27: vrrp.sync_groups[3].group[0]: no instance named "Bb" in vrrp.instances (did you mean "B"?)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'sync group weights',
    text: '  scripts: [{ name: chk, script: /bin/true, weight: 5 }]\n  instances:\n    - { name: A, interface: eth0, virtual_router_id: 1, track_interfaces: [{ name: eth1, weight: 5 }] }\n    - { name: B, interface: eth0, virtual_router_id: 2, priority: 255 }\n  sync_groups:\n    - { name: G, group: [A], track_scripts: [chk], track_interfaces: [{ name: eth2, weight: 1 }] }\n    - { name: H, group: [B], tracking_weight: true, track_scripts: [chk] }\n',
    errors: [
      'lab.yaml:6:98: vrrp.instances[0].track_interfaces[0].weight: weight 5: instance A is in sync group G, whose members\' trackers need weight 0 unless tracking_weight: true',
      'lab.yaml:9:46: vrrp.sync_groups[0].track_scripts[0]: script chk has weight 5 (lab.yaml:4:13): a sync group\'s trackers need weight 0 unless tracking_weight: true (write weight: 0 here)',
      'lab.yaml:9:93: vrrp.sync_groups[0].track_interfaces[0].weight: weight 1: a sync group\'s trackers need weight 0 unless tracking_weight: true',
      'lab.yaml:10:69: vrrp.sync_groups[1].track_scripts[0]: script chk has weight 5 (lab.yaml:4:13): member B is the address owner (priority 255), which is never adjusted (write weight: 0 here)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'strict mode violations',
    text: '  defaults: { strict: true }\n' + INST + '      state: MASTER\n      priority: 200\n      preempt_delay: 1s\n      authentication: { auth_type: PASS, auth_pass: pw }\n      garp_lower_prio_repeat: 2\n      lower_prio_no_advert: false\n      higher_prio_send_advert: true\n      down_timer_adverts: 4\n',
    errors: [
      'lab.yaml:6:7: vrrp.instances[0].virtual_ipaddress: missing required key (strict mode (vrrp.defaults.strict) needs at least one virtual address)',
      'lab.yaml:9:14: vrrp.instances[0].state: strict mode (vrrp.defaults.strict) starts only the address owner (priority 255) as MASTER',
      'lab.yaml:11:22: vrrp.instances[0].preempt_delay: strict mode (vrrp.defaults.strict) does not allow preempt_delay',
      'lab.yaml:12:7: vrrp.instances[0].authentication: strict mode (vrrp.defaults.strict) does not allow authentication',
      'lab.yaml:13:31: vrrp.instances[0].garp_lower_prio_repeat: strict mode (vrrp.defaults.strict) sends no lower-priority GARP bursts: garp_lower_prio_repeat must be 0',
      'lab.yaml:14:29: vrrp.instances[0].lower_prio_no_advert: strict mode (vrrp.defaults.strict) never answers a lower-priority advert: lower_prio_no_advert must be true',
      'lab.yaml:15:32: vrrp.instances[0].higher_prio_send_advert: strict mode (vrrp.defaults.strict) does not advertise before yielding: higher_prio_send_advert must be false',
      'lab.yaml:16:27: vrrp.instances[0].down_timer_adverts: strict mode (vrrp.defaults.strict) uses the RFC\'s Master_Down_Interval: down_timer_adverts must be 3',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'strict mode: vips',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, strict: true }\n    - { name: b, interface: eth0, virtual_router_id: 2, strict: true, virtual_ipaddress: [] }\n    - { name: c, interface: eth0, virtual_router_id: 3, strict: true, virtual_ipaddress: ["2001:db8::1", "fe80::1"] }\n    - { name: d, interface: eth0, virtual_router_id: 4, strict: true, priority: 255, state: BACKUP, virtual_ipaddress: [10.0.0.4] }\n',
    errors: [
      'lab.yaml:5:7: vrrp.instances[0].virtual_ipaddress: missing required key (strict mode (strict: true) needs at least one virtual address)',
      'lab.yaml:6:90: vrrp.instances[1].virtual_ipaddress: strict mode (strict: true) needs at least one virtual address, got an empty list',
      'lab.yaml:7:91: vrrp.instances[2].virtual_ipaddress[0]: strict mode (strict: true): the first IPv6 virtual address must be link-local (fe80::/10, RFC 5798 §5.2.9), got 2001:db8::1',
      'lab.yaml:8:93: vrrp.instances[3].state: strict mode (strict: true) starts the address owner (priority 255) as MASTER',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'strict defaults',
    text: '  defaults:\n    strict: true\n    garp_lower_prio_delay: 2s\n    down_timer_adverts: 3\n    higher_prio_send_advert: true\n',
    errors: [
      'lab.yaml:6:28: vrrp.defaults.garp_lower_prio_delay: strict mode (vrrp.defaults.strict) sends no lower-priority GARP bursts: garp_lower_prio_delay must be 0s',
      'lab.yaml:8:30: vrrp.defaults.higher_prio_send_advert: strict mode (vrrp.defaults.strict) does not advertise before yielding: higher_prio_send_advert must be false',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'vmac problems',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, use_vmac: true }\n    - { name: b, interface: eth1, virtual_router_id: 1, use_vmac: true }\n    - { name: c, interface: eth0, virtual_router_id: 3, use_vmac: true, unicast_peers: [10.0.0.2] }\n    - { name: d, interface: eth0, virtual_router_id: 4, use_vmac: yes }\n    - { name: e, interface: eth0, virtual_router_id: 5, use_vmac: { name: "way-too-long-vmac" } }\n',
    errors: [
      'lab.yaml:6:67: vrrp.instances[1].use_vmac: duplicate VMAC interface vrrp.1 (first defined at lab.yaml:5:67)',
      'lab.yaml:7:57: vrrp.instances[2].use_vmac: use_vmac with unicast_peers is not supported (keepalived needs vmac_xmit_base for it)',
      'lab.yaml:8:67: vrrp.instances[3].use_vmac: expected true, false or a mapping with name, got "yes"',
      'lab.yaml:9:75: vrrp.instances[4].use_vmac.name: expected an interface name (1..15 characters, no "/", ":" or whitespace), got "way-too-long-vmac"',
    ],
    codes: ['XLB_ERR_CONFIG_DUPLICATE', 'XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'v3_checksum_as_v2 on v2 and IPv6',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, v3_checksum_as_v2: true }\n    - { name: b, interface: eth0, virtual_router_id: 2, v3_checksum_as_v2: true, virtual_ipaddress: ["fd00::1"] }\n',
    errors: [
      'lab.yaml:5:76: vrrp.instances[0].v3_checksum_as_v2: v3_checksum_as_v2 applies to VRRPv3 only',
      'lab.yaml:6:76: vrrp.instances[1].v3_checksum_as_v2: v3_checksum_as_v2 applies to IPv4 only (an IPv6 checksum always covers the pseudo-header)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'state and priority values',
    text: '  instances:\n    - { name: a, interface: eth0, virtual_router_id: 1, state: master, priority: 0 }\n    - { name: b, interface: eth0, virtual_router_id: 0, version: "3" }\n',
    errors: [
      'lab.yaml:5:64: vrrp.instances[0].state: expected one of MASTER, BACKUP, got "master"',
      'lab.yaml:5:82: vrrp.instances[0].priority: expected an integer 1..255, got 0',
      'lab.yaml:6:54: vrrp.instances[1].virtual_router_id: expected an integer 1..255, got 0',
      'lab.yaml:6:66: vrrp.instances[1].version: expected 2 or 3, got "3"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'notify commands',
    text: INST + '      notify_master: ""\n      notify: [/bin/x, 1]\n      notify_deleted: /bin/y\n',
    errors: [
      'lab.yaml:8:22: vrrp.instances[0].notify_master: expected a command (a list of strings, or one string), got ""',
      'lab.yaml:9:24: vrrp.instances[0].notify[1]: expected a string (quote it: "1"), got 1',
      'lab.yaml:10:7: vrrp.instances[0].notify_deleted: unknown key "notify_deleted" (notify_deleted is not supported)',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'notify fifo',
    text: '  notify_fifo: run/fifo\n',
    errors: [
      'lab.yaml:4:16: vrrp.notify_fifo: expected an absolute path, got "run/fifo"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'instances not a list',
    text: '  instances: { name: VI_1 }\n  sync_groups: [VI_1]\n',
    errors: [
      'lab.yaml:4:14: vrrp.instances: expected a list, got a mapping',
      'lab.yaml:5:17: vrrp.sync_groups[0]: expected a mapping, got "VI_1"',
    ],
    codes: ['XLB_ERR_CONFIG_INVALID', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'vip dev without interface',
    text: '  instances:\n    - { name: a, virtual_router_id: 1, unicast_src_ip: 10.0.0.1, unicast_peers: [10.0.0.2], virtual_ipaddress: [10.0.0.9] }\n',
    errors: [
      'lab.yaml:5:113: vrrp.instances[0].virtual_ipaddress[0].dev: missing required key (the instance has no interface to add the address to)',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'more addresses than an advert carries',
    text: INST + `      virtual_ipaddress: [${MANY}]\n`,
    errors: [
      'lab.yaml:8:2979: vrrp.instances[0].virtual_ipaddress[255]: virtual_ipaddress has 256 entries, more than the 255 an advert carries (put the rest in virtual_ipaddress_excluded)',
    ],
  },
];

describe('parseConfig: vrrp, invalid', () => {
  it('has at least 30 cases', () => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
  });

  for (const c of cases) {
    it(c.name, () => {
      const r = parseConfig(HEAD + c.text, F);
      assert.equal(r.ok, false, 'expected errors');
      if (r.ok) return;
      assert.deepEqual(
        r.errors.map((e) => e.message),
        c.errors,
      );
      for (const e of r.errors) {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, new RegExp(`^${F}:${e.line}:${e.col}: ${e.key.replace(/[[\]().]/g, '\\$&')}: `));
      }
      if (c.codes) assert.deepEqual(r.errors.map((e) => e.code), c.codes);
    });
  }
});
