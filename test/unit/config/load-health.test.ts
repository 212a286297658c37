/**
 * Health checks, quorum and the sorry server in the config: resolved
 * inheritance (service -> backend -> check), defaults, hex and mask parsing,
 * command splitting, status lists; and invalid health configs, each with
 * every message (file:line:col, key, text) in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { CommandError, parseHex, parseStatusList, splitCommand, StatusListError } from '../../../src/config/health.js';
import { parseConfig } from '../../../src/config/load.js';
import type { XlbConfig } from '../../../src/config/model.js';
import type { CheckSpec } from '../../../src/health/spec.js';
import { yaml } from './yaml-text.js';

const F = 'lab.yaml';

/** Parses `text`, failing the test with every message if it is invalid. */
function ok(text: string): XlbConfig {
  const r = parseConfig(text, F);
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** The timing every check gets when nothing is set. */
const T = { intervalMs: 2000, timeoutMs: 1000, retries: 0, retryDelayMs: 1000, rise: 1, fall: 1, alpha: false, warmupMs: 2000 };

describe('parseConfig: health, valid', () => {
  it('a config without health keys: no checks, quorum 1, no sorry server', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - { address: 10.9.0.1, port: 80, mode: dr, backends: [{ address: 10.0.0.10 }, { address: 10.0.0.11 }] }
    `);
    const s = c.services[0]!;
    assert.deepEqual(s.health, { quorum: 1, hysteresis: 0 });
    assert.equal('sorryServer' in s, false);
    for (const b of s.backends) assert.deepEqual(b.health, { checks: [], inhibitOnFailure: false, slowStartMs: 0 });
  });

  it('fills the defaults of every check type', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: tcp
              - type: http
              - type: https
              - type: udp
              - type: icmp
              - type: dns
              - type: smtp
              - { type: misc, command: /bin/true }
              - { type: file, path: /run/w }
          backends: [{ address: 10.0.0.10 }]
    `);
    const net = { fwmark: 0, target: 'backend' };
    const http = { ...net, path: '/', httpVersion: '1.0', status: [{ min: 200, max: 299 }], regexNoMatch: false, maxBodyBytes: 1_048_576 };
    const want: CheckSpec[] = [
      { type: 'tcp', ...T, ...net } as CheckSpec,
      { type: 'http', ...T, ...http } as CheckSpec,
      { type: 'https', ...T, ...http, tls: { verify: true } } as CheckSpec,
      { type: 'udp', ...T, ...net, requireReply: false, minReplyLength: 0, maxReplyLength: 65_507 } as CheckSpec,
      { type: 'icmp', ...T, ...net } as CheckSpec,
      { type: 'dns', ...T, ...net, queryType: 'SOA', queryName: '.', expect: [] } as CheckSpec,
      { type: 'smtp', ...T, ...net, heloName: 'xlb.healthcheck' } as CheckSpec,
      { type: 'misc', ...T, command: ['/bin/true'], dynamic: false },
      { type: 'file', ...T, path: '/run/w', weight: 1, reverse: false },
    ];
    assert.deepEqual(c.services[0]!.backends[0]!.health.checks, want);
  });

  it('resolves inheritance: check over backend over service over defaults', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            interval: 10s
            timeout: 3s
            retries: 2
            inhibit_on_failure: true
            slow_start: 1m
            checks:
              - type: tcp
                timeout: 500ms
              - type: icmp
          backends:
            - address: 10.0.0.10          # the service's checks and options
            - address: 10.0.0.11          # the service's checks, its own timing and options
              health:
                interval: 4s
                rise: 3
                inhibit_on_failure: false
            - address: 10.0.0.12          # its own checks
              health:
                fall: 5
                checks:
                  - { type: http, warmup: 0s, retries: 0 }
            - address: 10.0.0.13          # no checks at all
              health: { checks: [] }
    `);
    const [b0, b1, b2, b3] = c.services[0]!.backends.map((b) => b.health);
    const net = { fwmark: 0, target: 'backend' };
    const svc = { ...T, intervalMs: 10_000, timeoutMs: 3000, retries: 2, warmupMs: 10_000 };
    assert.deepEqual(b0, {
      checks: [
        { type: 'tcp', ...svc, timeoutMs: 500, ...net },
        { type: 'icmp', ...svc, ...net },
      ],
      inhibitOnFailure: true,
      slowStartMs: 60_000,
    });
    const be1 = { ...svc, intervalMs: 4000, warmupMs: 4000, rise: 3 };
    assert.deepEqual(b1, {
      checks: [
        { type: 'tcp', ...be1, timeoutMs: 500, ...net },
        { type: 'icmp', ...be1, ...net },
      ],
      inhibitOnFailure: false,
      slowStartMs: 60_000,
    });
    assert.equal(b2!.checks.length, 1);
    assert.deepEqual(
      { ...b2!.checks[0]!, status: undefined, path: undefined, httpVersion: undefined, regexNoMatch: undefined, maxBodyBytes: undefined },
      { type: 'http', ...svc, fall: 5, warmupMs: 0, retries: 0, ...net, status: undefined, path: undefined, httpVersion: undefined, regexNoMatch: undefined, maxBodyBytes: undefined },
    );
    assert.deepEqual(b3, { checks: [], inhibitOnFailure: true, slowStartMs: 60_000 });
  });

  it('warmup: a service-level warmup survives a check-level interval; default = the resolved interval', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            warmup: 1s
            checks: [{ type: tcp, interval: 30s }]
          backends: [{ address: 10.0.0.10 }]
        - address: 10.9.0.1
          port: 81
          mode: dr
          health:
            checks: [{ type: tcp, interval: 30s }]
          backends: [{ address: 10.0.0.10 }]
    `);
    const w = c.services.map((s) => [s.backends[0]!.health.checks[0]!.intervalMs, s.backends[0]!.health.checks[0]!.warmupMs]);
    assert.deepEqual(w, [[30_000, 1000], [30_000, 30_000]]);
  });

  it('each backend gets its own copy of an inherited check', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 53
          protocol: udp
          mode: tunnel
          health:
            checks: [{ type: udp, payload: "00ff", expect: "0X" }]
          backends: [{ address: 10.0.0.10 }, { address: 10.0.0.11 }]
    `);
    const [a, b] = c.services[0]!.backends.map((x) => x.health.checks[0]!);
    assert.deepEqual(a, b);
    assert.notEqual(a, b);
    assert.notEqual((a as { payload: Uint8Array }).payload, (b as { payload: Uint8Array }).payload);
  });

  it('quorum, hysteresis, commands and the sorry server', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 443
          mode: nat
          health:
            quorum: 3
            hysteresis: 1
            quorum_up: /usr/bin/logger -t xlb "quorum \\"up\\"" ok
            quorum_down: [/usr/bin/logger, -t, xlb, quorum down]
          sorry_server: { address: 10.0.0.99, port: 8443 }
          backends:
            - address: 10.0.0.10
              health:
                notify_up: 'a "" b"c d"e'
                notify_down: ["/bin/echo", ""]
        - address: "fd00::1"
          port: 80
          mode: tunnel
          sorry_server: { address: "FD00:0::99" }
          backends: []
    `);
    const [s0, s1] = c.services;
    assert.deepEqual(s0!.health, {
      quorum: 3,
      hysteresis: 1,
      quorumUp: { argv: ['/usr/bin/logger', '-t', 'xlb', 'quorum "up"', 'ok'] },
      quorumDown: { argv: ['/usr/bin/logger', '-t', 'xlb', 'quorum down'] },
    });
    assert.deepEqual(s0!.sorryServer, { address: '10.0.0.99', port: 8443 });
    assert.deepEqual(s0!.backends[0]!.health.notifyUp, { argv: ['a', '', 'bc de'] });
    assert.deepEqual(s0!.backends[0]!.health.notifyDown, { argv: ['/bin/echo', ''] });
    assert.deepEqual(s1!.sorryServer, { address: 'fd00::99', port: 0 });
  });

  it('http: status forms, digest lowercased, version as a YAML number, tls', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 443
          mode: nat
          health:
            checks:
              - type: http
                status: 200-299 400-499,503
                http_version: 1.1
                digest: 5D41402ABC4B2A76B9719D911017C592
                regex: ^ok$
                regex_no_match: true
                max_body: 0
              - type: https
                status: [200, "300-302", 404]
                http_version: "1.0"
                host: api.example.com
                path: /v1/health?deep=1
                tls: { verify: false, ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/c.key, server_name: api.example.com }
              - { type: http, status: 204 }
          backends: [{ address: 10.0.0.10 }]
    `);
    const [h, s, one] = c.services[0]!.backends[0]!.health.checks as unknown as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    assert.deepEqual(h.status, [{ min: 200, max: 299 }, { min: 400, max: 499 }, { min: 503, max: 503 }]);
    assert.equal(h.httpVersion, '1.1');
    assert.equal(h.digest, '5d41402abc4b2a76b9719d911017c592');
    assert.deepEqual([h.regex, h.regexNoMatch, h.maxBodyBytes, 'tls' in h], ['^ok$', true, 0, false]);
    assert.deepEqual(s.status, [{ min: 200, max: 200 }, { min: 300, max: 302 }, { min: 404, max: 404 }]);
    assert.deepEqual([s.httpVersion, s.host, s.path], ['1.0', 'api.example.com', '/v1/health?deep=1']);
    assert.deepEqual(s.tls, { verify: false, caFile: '/etc/ca.pem', certFile: '/etc/c.pem', keyFile: '/etc/c.key', serverName: 'api.example.com' });
    assert.deepEqual(one.status, [{ min: 204, max: 204 }]);
  });

  it('udp: payload hex (also when YAML reads it as a number), expect with wildcard nibbles and its mask', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 53
          protocol: udp
          mode: dr
          health:
            checks:
              - { type: udp, payload: 0102, expect: "aBxX0x", min_reply_length: 3, max_reply_length: 512 }
              - { type: udp, payload: DEADbeef, require_reply: true }
          backends: [{ address: 10.0.0.10 }]
    `);
    const [a, b] = c.services[0]!.backends[0]!.health.checks as unknown as [Record<string, unknown>, Record<string, unknown>];
    assert.deepEqual(a.payload, new Uint8Array([0x01, 0x02]));
    assert.deepEqual(a.expect, new Uint8Array([0xab, 0x00, 0x00]));
    assert.deepEqual(a.expectMask, new Uint8Array([0xff, 0x00, 0xf0]));
    assert.deepEqual([a.requireReply, a.minReplyLength, a.maxReplyLength], [true, 3, 512]);
    assert.deepEqual(b.payload, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual([b.requireReply, 'expect' in b, 'expectMask' in b], [true, false, false]);
  });

  it('dns: expected answers normalised by the query type', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: "fd00::53"
          port: 53
          protocol: udp
          mode: tunnel
          health:
            checks:
              - { type: dns, query_type: AAAA, query_name: www.example.com., expect: ["FD00:0::1", "2001:db8::0:1"] }
              - { type: dns, query_type: NS, query_name: example.com, expect: [ns1.example.com., ns2.example.com] }
              - { type: dns, query_type: TXT, query_name: _x._tcp.example.com, expect: ["v=spf1 -all"] }
          backends: [{ address: "fd00::10" }]
    `);
    const checks = c.services[0]!.backends[0]!.health.checks as unknown as { queryType: string; queryName: string; expect: string[] }[];
    assert.deepEqual(
      checks.map((k) => [k.queryType, k.queryName, k.expect]),
      [
        ['AAAA', 'www.example.com.', ['fd00::1', '2001:db8::1']],
        ['NS', 'example.com', ['ns1.example.com', 'ns2.example.com']],
        ['TXT', '_x._tcp.example.com', ['v=spf1 -all']],
      ],
    );
  });

  it('network keys: addresses canonical, connect_port on a port: all service, bind_interface and fwmark on icmp', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: "fd00::1"
          port: all
          mode: dr
          health:
            checks:
              - type: tcp
                target: backend
                connect_port: 22
              - type: http
                connect_address: "FD00:0::AB"
                connect_port: 8080
                bind_address: "fd00::0:2"
              - { type: icmp, target: backend, bind_interface: eth1, fwmark: 4294967295 }
          backends: [{ address: "fd00::10" }]
    `);
    const [t, h, i] = c.services[0]!.backends[0]!.health.checks as unknown as Record<string, unknown>[];
    assert.deepEqual([t!.target, t!.connectPort, 'connectAddress' in t!], ['backend', 22, false]);
    assert.deepEqual([h!.connectAddress, h!.connectPort, h!.bindAddress], ['fd00::ab', 8080, 'fd00::2']);
    assert.deepEqual([i!.target, 'connectPort' in i!, i!.bindInterface, i!.fwmark], ['backend', false, 'eth1', 4294967295]);
  });

  it('target: vip, bind_interface and fwmark on udp and dns checks of a udp service', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.2
          port: 53
          protocol: udp
          mode: tunnel
          health:
            checks: [{ type: dns, target: vip }, { type: udp, bind_interface: eth1, fwmark: 3 }]
          backends: [{ address: 10.0.0.10 }]
    `);
    const checks = c.services[0]!.backends[0]!.health.checks as unknown as Record<string, unknown>[];
    assert.deepEqual(checks.map((k) => k.target), ['vip', 'backend']);
    assert.deepEqual([checks[1]!.bindInterface, checks[1]!.fwmark], ['eth1', 3]);
  });

  it('target: vip on a udp check of a tcp service is a conflict', () => {
    const r = parseConfig(
      yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.2
          port: 53
          mode: dr
          health:
            checks: [{ type: udp, target: vip }]
          backends: [{ address: 10.0.0.10, interface: eth0 }]
    `,
      'lab.yaml',
    );
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors.map((e) => e.message), [
      'lab.yaml:7:37: services[0].health.checks[0].target: target: vip needs a check of the service\'s protocol: a udp check is udp, the service is tcp',
    ]);
  });

  it('target: vip on tcp, http, https and smtp checks of dr and tunnel services; fwmark and bind_interface on tcp checks', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.2
          port: 80
          mode: dr
          health:
            checks: [{ type: http, target: vip }, { type: tcp, target: vip }, { type: smtp, target: vip }, { type: tcp, bind_interface: eth1, fwmark: 3 }]
          backends: [{ address: 10.0.0.10, interface: eth0 }]
    `);
    const checks = c.services[0]!.backends[0]!.health.checks as unknown as Record<string, unknown>[];
    assert.deepEqual(checks.map((k) => k.target), ['vip', 'vip', 'vip', 'backend']);
    assert.deepEqual([checks[3]!.bindInterface, checks[3]!.fwmark], ['eth1', 3]);
  });

  it('target: vip with fwmark is a conflict (xlb marks those probes)', () => {
    const r = parseConfig(
      yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.2
          port: 80
          mode: tunnel
          health:
            checks: [{ type: tcp, target: vip, fwmark: 3 }]
          backends: [{ address: 10.0.0.10 }]
    `,
      'lab.yaml',
    );
    assert.deepEqual(!r.ok && r.errors.map((e) => e.message), [
      'lab.yaml:7:42: services[0].health.checks[0].fwmark: fwmark cannot be combined with target: vip (xlb marks those probes itself, to steer them)',
    ]);
  });

  it('misc and file: command forms, user as a name or a uid, weights', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - { type: misc, command: '  /usr/bin/check  --name "my web"  ', dynamic: true, user: www-data }
              - { type: misc, command: [sh, -c, "exit 0"], user: 33 }
              - { type: file, path: /run/xlb/maint, weight: 0, reverse: true }
              - { type: file, path: /run/xlb/down, weight: 0 }
          backends: [{ address: 10.0.0.10 }]
    `);
    const [m1, m2, f1, f2] = c.services[0]!.backends[0]!.health.checks as unknown as Record<string, unknown>[];
    assert.deepEqual([m1!.command, m1!.dynamic, m1!.user], [['/usr/bin/check', '--name', 'my web'], true, 'www-data']);
    assert.deepEqual([m2!.command, m2!.dynamic, m2!.user], [['sh', '-c', 'exit 0'], false, '33']);
    assert.deepEqual([f1!.path, f1!.weight, f1!.reverse], ['/run/xlb/maint', 0, true]);
    assert.deepEqual([f2!.weight, f2!.reverse], [0, false]);
  });

  it('the boundary values of the timing keys', () => {
    const c = ok(yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            interval: 1h
            timeout: 5m
            retries: 100
            retry_delay: 0s
            rise: 100
            fall: 100
            warmup: 1h
            alpha: true
            slow_start: 1h
            quorum: 4294967295
            hysteresis: 4294967295
            checks: [{ type: tcp, interval: 1ms, timeout: 1ms }]
          backends: [{ address: 10.0.0.10 }]
    `);
    const s = c.services[0]!;
    assert.deepEqual(s.health, { quorum: 4_294_967_295, hysteresis: 4_294_967_295 });
    const k = s.backends[0]!.health.checks[0]!;
    assert.deepEqual(
      [k.intervalMs, k.timeoutMs, k.retries, k.retryDelayMs, k.rise, k.fall, k.warmupMs, k.alpha],
      [1, 1, 100, 0, 100, 100, 3_600_000, true],
    );
    assert.equal(s.backends[0]!.health.slowStartMs, 3_600_000);
  });
});

describe('health helpers', () => {
  it('parseStatusList', () => {
    assert.deepEqual(parseStatusList('200-299 400-499 503'), [{ min: 200, max: 299 }, { min: 400, max: 499 }, { min: 503, max: 503 }]);
    assert.deepEqual(parseStatusList(' 100,599 '), [{ min: 100, max: 100 }, { min: 599, max: 599 }]);
    assert.deepEqual(parseStatusList('200'), [{ min: 200, max: 200 }]);
    assert.deepEqual(parseStatusList('200,204'), [{ min: 200, max: 200 }, { min: 204, max: 204 }]);
    assert.deepEqual(parseStatusList(' 200 , 301-302\t'), [{ min: 200, max: 200 }, { min: 301, max: 302 }]);
    for (const [bad, why] of [
      ['', 'no status code'],
      [' , ', 'no status code'],
      ['20x', '"20x" is not a code or a range'],
      ['2000', '2000 is outside 100..599'],
      ['099', '99 is outside 100..599'],
      ['200-600', '600 is outside 100..599'],
      ['200 - 299', '"-" is not a code or a range'],
      ['600', '600 is outside 100..599'],
      ['200-', '"200-" is not a code or a range'],
      ['299-200', '299-200 runs backwards'],
      ['2xx', '"2xx" is not a code or a range'],
    ] as const) {
      assert.throws(() => parseStatusList(bad), (e: unknown) => e instanceof StatusListError && e.message === why, bad);
    }
  });

  it('splitCommand', () => {
    assert.deepEqual(splitCommand('a  b\tc'), ['a', 'b', 'c']);
    assert.deepEqual(splitCommand('say "hello world"'), ['say', 'hello world']);
    assert.deepEqual(splitCommand('x"y z"w ""'), ['xy zw', '']);
    assert.deepEqual(splitCommand('"a \\"q\\" \\\\ \\n"'), ['a "q" \\ \\n']);
    assert.deepEqual(splitCommand("it's a\\ b"), ["it's", 'a\\', 'b']);
    assert.deepEqual(splitCommand('   '), []);
    assert.throws(() => splitCommand('a "b'), CommandError);
  });

  it('parseHex', () => {
    assert.deepEqual(parseHex('00fF', false), { bytes: new Uint8Array([0, 255]), mask: new Uint8Array([255, 255]) });
    assert.deepEqual(parseHex('Xa5x', true), { bytes: new Uint8Array([0x0a, 0x50]), mask: new Uint8Array([0x0f, 0xf0]) });
    assert.equal(parseHex('0aX0', false), undefined);
    assert.equal(parseHex('abc', true), undefined);
    assert.equal(parseHex('', true), undefined);
  });
});

interface Case {
  name: string;
  text: string;
  errors: string[];
  codes?: string[];
}

const cases: Case[] = [
  // ------------------------------------------------------ services[].health
  {
    name: 'health is a list',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            - type: tcp
          backends: []
    `,
    errors: ['lab.yaml:7:7: services[0].health: expected a mapping, got a list'],
  },
  {
    name: 'misspelt timing key (did you mean)',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            intervall: 5s
            retry-delay: 1s
          backends: []
    `,
    errors: [
      'lab.yaml:7:7: services[0].health.intervall: unknown key "intervall" (did you mean "interval"?)',
      'lab.yaml:8:7: services[0].health.retry-delay: unknown key "retry-delay" (did you mean "retry_delay"?)',
    ],
    codes: ['XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'a backend key in the service health, a check key directly in health',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            notify_up: /bin/true
            type: http
          backends: []
    `,
    errors: [
      "lab.yaml:7:7: services[0].health.notify_up: \"notify_up\" belongs in a backend's health, not the service's",
      'lab.yaml:8:7: services[0].health.type: "type" belongs in an entry of checks, not directly in health',
    ],
  },
  {
    name: 'a service key in a backend health',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
              health:
                quorum: 2
    `,
    errors: ["lab.yaml:9:11: services[0].backends[0].health.quorum: \"quorum\" belongs in the service's health, not a backend's"],
  },
  {
    name: 'an unknown key in health, without a suggestion',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
              health: { colour: red }
    `,
    errors: [
      'lab.yaml:8:19: services[0].backends[0].health.colour: unknown key "colour" (allowed: interval, timeout, retries, retry_delay, rise, fall, warmup, alpha, inhibit_on_failure, slow_start, notify_up, notify_down, checks)',
    ],
  },
  {
    name: 'interval as a bare number, timeout with an unknown unit',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            interval: 5
            timeout: 2sec
          backends: []
    `,
    errors: [
      'lab.yaml:7:17: services[0].health.interval: expected a duration such as 150ms or 2s, got 5',
      'lab.yaml:8:16: services[0].health.timeout: unknown unit "sec" in duration "2sec" (use us, ms, s, m, h)',
    ],
  },
  {
    name: 'interval 0s and 2h, timeout 10m',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            interval: 0s
            timeout: 10m
            checks:
              - { type: tcp, interval: 2h }
          backends: []
    `,
    errors: [
      'lab.yaml:7:17: services[0].health.interval: expected a duration 1ms..1h, got "0s"',
      'lab.yaml:8:16: services[0].health.timeout: expected a duration 1ms..5m, got "10m"',
      'lab.yaml:10:34: services[0].health.checks[0].interval: expected a duration 1ms..1h, got "2h"',
    ],
  },
  {
    name: 'interval below 1ms',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health: { interval: 500us }
          backends: []
    `,
    errors: ['lab.yaml:6:25: services[0].health.interval: expected a duration 1ms..1h, got "500us"'],
  },
  {
    name: 'retries, rise and fall out of range',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            retries: 101
            rise: 0
            fall: 1.5
          backends: []
    `,
    errors: [
      'lab.yaml:7:16: services[0].health.retries: expected an integer 0..100, got 101',
      'lab.yaml:8:13: services[0].health.rise: expected an integer 1..100, got 0',
      'lab.yaml:9:13: services[0].health.fall: expected an integer 1..100, got 1.5',
    ],
  },
  {
    name: 'negative warmup, retry_delay above 1h, alpha not a boolean',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            warmup: -1s
            retry_delay: 61m
            alpha: "yes"
          backends: []
    `,
    errors: [
      'lab.yaml:7:15: services[0].health.warmup: a duration cannot be negative, got "-1s"',
      'lab.yaml:8:20: services[0].health.retry_delay: expected a duration 0s..1h, got "61m"',
      'lab.yaml:9:14: services[0].health.alpha: expected true or false, got "yes"',
    ],
  },
  {
    name: 'quorum 0, hysteresis negative, slow_start too long, inhibit_on_failure not a boolean',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            quorum: 0
            hysteresis: -1
            slow_start: 2h
            inhibit_on_failure: 1
          backends: []
    `,
    errors: [
      'lab.yaml:7:15: services[0].health.quorum: expected an integer 1..4294967295, got 0',
      'lab.yaml:8:19: services[0].health.hysteresis: expected an integer 0..4294967295, got -1',
      'lab.yaml:9:19: services[0].health.slow_start: expected a duration 0s..1h, got "2h"',
      'lab.yaml:10:27: services[0].health.inhibit_on_failure: expected true or false, got 1',
    ],
  },
  // --------------------------------------------------------------- commands
  {
    name: 'quorum_up with an unclosed quote, quorum_down an empty list',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            quorum_up: /usr/bin/page "quorum up
            quorum_down: []
          backends: []
    `,
    errors: [
      'lab.yaml:7:18: services[0].health.quorum_up: expected a command (a list of strings, or one string), got "/usr/bin/page \\"quorum up" (a double quote is not closed)',
      'lab.yaml:8:20: services[0].health.quorum_down: expected a command (a list of strings, or one string), got an empty list',
    ],
  },
  {
    name: 'notify_up with an unquoted number, notify_down a mapping',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
              health:
                notify_up: [/usr/bin/page, --port, 8080]
                notify_down: { run: /bin/false }
    `,
    errors: [
      'lab.yaml:9:46: services[0].backends[0].health.notify_up[2]: expected a string (quote it: "8080"), got 8080',
      'lab.yaml:10:24: services[0].backends[0].health.notify_down.command: missing required key',
      'lab.yaml:10:26: services[0].backends[0].health.notify_down.run: unknown key "run" (allowed: command, user)',
    ],
  },
  {
    name: 'commands that name no program',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            quorum_up: "   "
            quorum_down: ['', x]
            checks:
              - { type: misc, command: '"" x' }
          backends: []
    `,
    errors: [
      'lab.yaml:7:18: services[0].health.quorum_up: expected a command (a list of strings, or one string), got "   "',
      'lab.yaml:8:21: services[0].health.quorum_down[0]: expected a program name, got ""',
      'lab.yaml:10:34: services[0].health.checks[0].command: expected a command whose first word names a program, got "\\"\\" x"',
    ],
  },
  // ----------------------------------------------------------------- checks
  {
    name: 'checks is a mapping',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              type: tcp
          backends: []
    `,
    errors: ['lab.yaml:8:9: services[0].health.checks: expected a list, got a mapping'],
  },
  {
    name: 'check without a type, check as a bare word',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - path: /healthz
              - tcp
          backends: []
    `,
    errors: [
      'lab.yaml:8:11: services[0].health.checks[0].type: missing required key',
      'lab.yaml:9:11: services[0].health.checks[1]: expected a mapping, got "tcp"',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'unknown check type (its other keys are still checked)',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: htpp
                pth: /
          backends: []
    `,
    errors: [
      'lab.yaml:8:17: services[0].health.checks[0].type: expected one of tcp, http, https, udp, icmp, dns, smtp, misc, file, bfd, got "htpp"',
      'lab.yaml:9:11: services[0].health.checks[0].pth: unknown key "pth" (did you mean "path"?)',
    ],
  },
  {
    name: 'a key of another check type names the type',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: tcp
                digest: 5d41402abc4b2a76b9719d911017c592
              - type: misc
                command: /bin/true
                connect_port: 80
              - type: icmp
                connect_port: 80
          backends: []
    `,
    errors: [
      'lab.yaml:9:11: services[0].health.checks[0].digest: "digest" is not a key of a tcp check (only of http and https checks)',
      'lab.yaml:12:11: services[0].health.checks[1].connect_port: "connect_port" is not a key of a misc check (only of tcp, http, https, udp, dns and smtp checks)',
      'lab.yaml:14:11: services[0].health.checks[2].connect_port: "connect_port" is not a key of an icmp check (only of tcp, http, https, udp, dns and smtp checks)',
    ],
    codes: ['XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'tls on an http check',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: http
                tls: { verify: false }
          backends: []
    `,
    errors: ['lab.yaml:9:11: services[0].health.checks[0].tls: "tls" is not a key of an http check (only of https checks)'],
  },
  {
    name: 'a misspelt check key gets a suggestion among its type keys',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: udp
                connect_prot: 53
          backends: []
    `,
    errors: ['lab.yaml:9:11: services[0].health.checks[0].connect_prot: unknown key "connect_prot" (did you mean "connect_port"?)'],
  },
  {
    name: 'duplicate key in a check',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: tcp
                type: http
          backends: []
    `,
    errors: ['lab.yaml:9:11: services[0].health.checks[0].type: duplicate key "type" (first defined at lab.yaml:8:11)'],
  },
  // ------------------------------------------------------------ http, https
  {
    name: 'http path without a slash, host with a space, version 2.0',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: http
                path: healthz
                host: www example
                http_version: 2.0
          backends: []
    `,
    errors: [
      'lab.yaml:9:17: services[0].health.checks[0].path: expected a request path starting with "/" (no spaces or control characters), got "healthz"',
      'lab.yaml:10:17: services[0].health.checks[0].host: expected a Host header value (no spaces or control characters), got "www example"',
      'lab.yaml:11:25: services[0].health.checks[0].http_version: expected "1.0" or "1.1", got 2.0',
    ],
  },
  {
    name: 'status out of range, backwards, not a code',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - { type: http, status: 200-299 600 }
              - { type: http, status: [200, "300-200"] }
              - { type: http, status: [2xx] }
              - { type: http, status: 99 }
              - { type: http, status: [] }
          backends: []
    `,
    errors: [
      'lab.yaml:8:33: services[0].health.checks[0].status: expected status codes 100..599 and ranges such as "200-299 404", got "200-299 600" (600 is outside 100..599)',
      'lab.yaml:9:39: services[0].health.checks[1].status[1]: expected a status code 100..599 or a range such as "200-299", got "300-200" (300-200 runs backwards)',
      'lab.yaml:10:34: services[0].health.checks[2].status[0]: expected a status code 100..599 or a range such as "200-299", got "2xx" ("2xx" is not a code or a range)',
      'lab.yaml:11:33: services[0].health.checks[3].status: expected a status code 100..599 or a range such as "200-299", got 99 (99 is outside 100..599)',
      'lab.yaml:12:33: services[0].health.checks[4].status: expected at least one status code, got an empty list',
    ],
  },
  {
    name: 'digest of the wrong length, regex that does not compile',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: http
                digest: 5d41402abc4b2a76b9719d911017c59
                regex: "ok ("
          backends: []
    `,
    errors: [
      'lab.yaml:9:19: services[0].health.checks[0].digest: expected an MD5 digest (32 hex digits, as genhash prints it), got "5d41402abc4b2a76b9719d911017c59"',
      'lab.yaml:10:18: services[0].health.checks[0].regex: expected an ECMAScript regular expression (Unterminated group), got "ok ("',
    ],
  },
  {
    name: 'regex_no_match without regex, max_body negative',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: http
                regex_no_match: true
                max_body: -1
          backends: []
    `,
    errors: [
      'lab.yaml:9:11: services[0].health.checks[0].regex_no_match: regex_no_match needs a regex to invert',
      'lab.yaml:10:21: services[0].health.checks[0].max_body: expected an integer 0..67108864, got -1',
    ],
  },
  {
    name: 'https: cert without key, relative ca, verify not a boolean, server_name an address',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 443
          mode: dr
          health:
            checks:
              - type: https
                tls:
                  verify: "no"
                  ca: certs/ca.pem
                  cert: /etc/xlb/c.pem
                  server_name: 10.0.0.1
          backends: []
    `,
    errors: [
      'lab.yaml:10:13: services[0].health.checks[0].tls.key: missing required key (cert and key go together)',
      'lab.yaml:10:21: services[0].health.checks[0].tls.verify: expected true or false, got "no"',
      'lab.yaml:11:17: services[0].health.checks[0].tls.ca: expected an absolute path, got "certs/ca.pem"',
      'lab.yaml:13:26: services[0].health.checks[0].tls.server_name: expected a host name (SNI takes no IP address), got "10.0.0.1"',
    ],
  },
  {
    name: 'https: unknown tls key',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 443
          mode: dr
          health:
            checks:
              - type: https
                tls: { sni: api.example.com }
          backends: []
    `,
    errors: ['lab.yaml:9:18: services[0].health.checks[0].tls.sni: unknown key "sni" (allowed: verify, ca, cert, key, server_name)'],
  },
  // -------------------------------------------------------------------- udp
  {
    name: 'udp: odd payload, bad wildcard in expect',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 53
          protocol: udp
          mode: dr
          health:
            checks:
              - type: udp
                payload: abc
                expect: 0aG0
          backends: []
    `,
    errors: [
      'lab.yaml:10:20: services[0].health.checks[0].payload: expected hex bytes such as "0a1b2c" (an even number of hex digits, at most 65507 bytes), got "abc"',
      'lab.yaml:11:19: services[0].health.checks[0].expect: expected hex bytes such as "0a1bXX" (an even number of hex digits; X is any digit), got "0aG0"',
    ],
  },
  {
    name: 'udp: a payload YAML reads as a number is shown as written',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 53
          protocol: udp
          mode: dr
          health:
            checks:
              - { type: udp, payload: 0x1f }
          backends: []
    `,
    errors: [
      'lab.yaml:9:33: services[0].health.checks[0].payload: expected hex bytes such as "0a1b2c" (an even number of hex digits, at most 65507 bytes), got 0x1f',
    ],
  },
  {
    name: 'udp: require_reply false with expect, min above max, expect longer than max',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 53
          protocol: udp
          mode: dr
          health:
            checks:
              - { type: udp, expect: "0102", require_reply: false }
              - { type: udp, min_reply_length: 100, max_reply_length: 50 }
              - { type: udp, expect: "010203", max_reply_length: 2 }
              - { type: udp, max_reply_length: 65508 }
          backends: []
    `,
    errors: [
      'lab.yaml:9:55: services[0].health.checks[0].require_reply: require_reply: false contradicts expect (a reply that must match is required)',
      'lab.yaml:10:42: services[0].health.checks[1].min_reply_length: min_reply_length 100 exceeds max_reply_length 50',
      'lab.yaml:11:32: services[0].health.checks[2].expect: expect is 3 bytes, longer than max_reply_length 2',
      'lab.yaml:12:42: services[0].health.checks[3].max_reply_length: expected an integer 0..65507, got 65508',
    ],
  },
  // -------------------------------------------------------------- dns, smtp
  {
    name: 'dns: lower-case type, bad name, IPv6 answer for A',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 53
          protocol: udp
          mode: dr
          health:
            checks:
              - { type: dns, query_type: a }
              - { type: dns, query_name: "exa mple.com" }
              - { type: dns, query_type: A, expect: [10.0.0.1, "fd00::1"] }
              - { type: dns, query_type: MX, expect: mail.example.com }
          backends: []
    `,
    errors: [
      'lab.yaml:9:36: services[0].health.checks[0].query_type: expected one of A, AAAA, NS, CNAME, SOA, MX, TXT, PTR, SRV, got "a"',
      'lab.yaml:10:36: services[0].health.checks[1].query_name: expected a domain name such as example.com or ".", got "exa mple.com"',
      'lab.yaml:11:58: services[0].health.checks[2].expect[1]: expected an IPv4 address, got "fd00::1"',
      'lab.yaml:12:48: services[0].health.checks[3].expect: expected a list, got "mail.example.com"',
    ],
  },
  {
    name: 'smtp: helo_name with an underscore',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 25
          mode: dr
          health:
            checks:
              - { type: smtp, helo_name: lb_1.example.com }
          backends: []
    `,
    errors: ['lab.yaml:8:36: services[0].health.checks[0].helo_name: expected a host name, got "lb_1.example.com"'],
  },
  // ------------------------------------------------------------- misc, file
  {
    name: 'misc without a command, file without a path',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: misc
                dynamic: true
              - type: file
                weight: 2
          backends: []
    `,
    errors: [
      'lab.yaml:8:11: services[0].health.checks[0].command: missing required key (a misc check needs command)',
      'lab.yaml:10:11: services[0].health.checks[1].path: missing required key (a file check needs path)',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'misc: bad user, dynamic not a boolean',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - { type: misc, command: /bin/true, user: "web user", dynamic: 1 }
              - { type: misc, command: /bin/true, user: -1 }
          backends: []
    `,
    errors: [
      'lab.yaml:8:51: services[0].health.checks[0].user: expected a user name or uid, optionally with ":group" (nobody, 65534, nobody:nogroup), got "web user"',
      'lab.yaml:8:72: services[0].health.checks[0].dynamic: expected true or false, got 1',
      'lab.yaml:9:51: services[0].health.checks[1].user: expected an integer 0..4294967294 or a user name, got -1',
    ],
  },
  {
    name: 'file: relative path, weight out of range, reverse not a boolean',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - { type: file, path: run/xlb/w, weight: 70000, reverse: yes }
          backends: []
    `,
    errors: [
      'lab.yaml:8:31: services[0].health.checks[0].path: expected an absolute path, got "run/xlb/w"',
      'lab.yaml:8:50: services[0].health.checks[0].weight: expected an integer -65535..65535, got 70000',
      'lab.yaml:8:66: services[0].health.checks[0].reverse: expected true or false, got "yes"',
    ],
  },
  {
    name: 'two checks that set the weight',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
              health:
                checks:
                  - { type: misc, command: /usr/bin/w, dynamic: true }
                  - { type: file, path: /run/maint, weight: 0 }
                  - { type: file, path: /run/weight }
    `,
    errors: [
      "lab.yaml:12:15: services[0].backends[0].health.checks[2]: only one check may set the backend's weight, and checks[0] already does (a misc check with dynamic: true, or a file check with a weight other than 0)",
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  // ----------------------------------------------------------- network keys
  {
    name: 'bad connect_address, connect_port, bind_interface, fwmark, target',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - type: tcp
                connect_address: 10.0.0.300
                connect_port: 0
                bind_interface: "eth 0"
                fwmark: -1
                target: vips
          backends: []
    `,
    errors: [
      'lab.yaml:9:28: services[0].health.checks[0].connect_address: expected an IPv4 or IPv6 address, got "10.0.0.300"',
      'lab.yaml:10:25: services[0].health.checks[0].connect_port: expected an integer 1..65535, got 0',
      'lab.yaml:11:27: services[0].health.checks[0].bind_interface: expected an interface name (1..15 characters, no "/", ":" or whitespace), got "eth 0"',
      'lab.yaml:12:19: services[0].health.checks[0].fwmark: expected an integer 0..4294967295, got -1',
      'lab.yaml:13:19: services[0].health.checks[0].target: expected one of backend, vip, got "vips"',
    ],
  },
  {
    name: 'bind_address of another family than connect_address, and than the backends',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - { type: tcp, connect_address: "fd00::10", bind_address: 10.0.0.1 }
              - { type: icmp, bind_address: "fd00::1" }
          backends: []
    `,
    errors: [
      'lab.yaml:8:67: services[0].health.checks[0].bind_address: bind_address 10.0.0.1 is IPv4 but connect_address fd00::10 is IPv6',
      'lab.yaml:9:39: services[0].health.checks[1].bind_address: bind_address fd00::1 is IPv6 but the backends are IPv4',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'target: vip in a nat service',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: nat
          backends:
            - address: 10.0.0.10
              health:
                checks: [{ type: tcp, target: vip }]
    `,
    errors: [
      'lab.yaml:9:41: services[0].backends[0].health.checks[0].target: target: vip is only for dr and tunnel services (nat backends are probed directly)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'target: vip for icmp, for a udp check of a tcp service',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks:
              - { type: icmp, target: vip }
              - { type: dns, target: vip }
          backends: []
    `,
    errors: [
      'lab.yaml:8:33: services[0].health.checks[0].target: target: vip does not work for icmp checks (xlb answers pings to a VIP itself)',
      "lab.yaml:9:32: services[0].health.checks[1].target: target: vip needs a check of the service's protocol: a dns check is udp, the service is tcp",
    ],
  },
  {
    name: 'target: vip with connect_address and connect_port',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: tunnel
          health:
            checks:
              - type: http
                target: vip
                connect_address: 10.0.0.10
                connect_port: 8080
          backends: []
    `,
    errors: [
      'lab.yaml:10:11: services[0].health.checks[0].connect_address: connect_address cannot be combined with target: vip (the check goes to the VIP)',
      "lab.yaml:11:11: services[0].health.checks[0].connect_port: connect_port cannot be combined with target: vip (the check goes to the VIP's port 80)",
    ],
  },
  {
    name: 'a port: all service: checks need connect_port',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: all
          mode: dr
          health:
            checks:
              - type: icmp
              - type: tcp
              - { type: http, target: backend }
          backends: []
    `,
    errors: [
      'lab.yaml:9:11: services[0].health.checks[1].connect_port: missing required key (the service has port: all, so a tcp check needs connect_port)',
      'lab.yaml:10:11: services[0].health.checks[2].connect_port: missing required key (the service has port: all, so an http check needs connect_port)',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'an error in the service checks is reported once, not per backend',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health:
            checks: [{ type: http, path: x }]
          backends:
            - address: 10.0.0.10
            - address: 10.0.0.11
            - address: 10.0.0.12
    `,
    errors: [
      'lab.yaml:7:36: services[0].health.checks[0].path: expected a request path starting with "/" (no spaces or control characters), got "x"',
    ],
  },
  {
    name: 'errors in a backend check name the backend',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
            - address: 10.0.0.11
              health:
                interval: 1d
                checks:
                  - { type: tcp, retries: many }
    `,
    errors: [
      'lab.yaml:10:21: services[0].backends[1].health.interval: unknown unit "d" in duration "1d" (use us, ms, s, m, h)',
      'lab.yaml:12:37: services[0].backends[1].health.checks[0].retries: expected an integer 0..100, got "many"',
    ],
  },
  {
    name: 'an invalid backend address does not hide its health errors',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.300
              health: { rise: 0 }
    `,
    errors: [
      'lab.yaml:7:18: services[0].backends[0].address: expected an IPv4 or IPv6 address, got "10.0.0.300"',
      'lab.yaml:8:25: services[0].backends[0].health.rise: expected an integer 1..100, got 0',
    ],
  },
  {
    name: 'a bad network key does not hide the errors of the type keys',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: nat
          health:
            checks:
              - { type: http, target: vip, path: x }
          backends: []
    `,
    errors: [
      'lab.yaml:8:33: services[0].health.checks[0].target: target: vip is only for dr and tunnel services (nat backends are probed directly)',
      'lab.yaml:8:44: services[0].health.checks[0].path: expected a request path starting with "/" (no spaces or control characters), got "x"',
    ],
  },
  {
    name: 'health with no value, health null',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          health: null
          backends:
            - address: 10.0.0.10
              health:
    `,
    errors: [
      'lab.yaml:6:13: services[0].health: expected a mapping, got null',
      'lab.yaml:9:9: services[0].backends[0].health: expected a mapping, got an empty value',
    ],
  },
  // ------------------------------------------------------------ sorry server
  {
    name: 'sorry server of the other family, with a port in dr mode',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          sorry_server:
            address: "fd00::99"
            port: 8080
          backends: []
    `,
    errors: [
      'lab.yaml:7:16: services[0].sorry_server.address: sorry server address fd00::99 is IPv6 but the service address 10.9.0.1 is IPv4',
      "lab.yaml:8:7: services[0].sorry_server.port: port is only used in nat mode: dr and tunnel sorry servers receive the VIP's port",
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT', 'XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'sorry server that is a backend (nat: default port equals the explicit one)',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 8080
          mode: nat
          backends:
            - address: 10.0.0.10
            - address: 10.0.0.11
          sorry_server: { address: 10.0.0.11, port: 8080 }
    `,
    errors: [
      'lab.yaml:9:19: services[0].sorry_server: the sorry server 10.0.0.11:8080 is also a backend of this service (lab.yaml:8:9)',
    ],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'sorry server without an address, with an unknown key, as a scalar',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          sorry_server: { adress: 10.0.0.99 }
          backends: []
        - address: 10.9.0.1
          port: 81
          mode: dr
          sorry_server: 10.0.0.99
          backends: []
    `,
    errors: [
      'lab.yaml:6:19: services[0].sorry_server.address: missing required key',
      'lab.yaml:6:21: services[0].sorry_server.adress: unknown key "adress" (did you mean "address"?)',
      'lab.yaml:11:19: services[1].sorry_server: expected a mapping, got "10.0.0.99"',
    ],
  },
  {
    name: 'sorry servers count against max_backends',
    text: yaml`
      interfaces: [{ name: eth0 }]
      limits: { max_backends: 3 }
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends: [{ address: 10.0.0.10 }, { address: 10.0.0.11 }]
          sorry_server: { address: 10.0.0.99 }
    `,
    errors: [
      'lab.yaml:8:19: services[0].sorry_server: 3 backends and sorry servers in total exceed limits.max_backends - 1 (2; backend id 0 is reserved)',
    ],
  },
  // -------------------------------------------------- several in one file
  {
    name: 'several health errors, all reported in file order',
    text: yaml`
      interfaces: [{ name: eth0 }]
      services:
        - address: 10.9.0.1
          port: 443
          mode: nat
          health:
            quorum: none
            checks:
              - type: https
                status: "2OO"
                tls: { cert: /etc/c.pem, key: /etc/c.key, verfy: true }
              - type: udp
                helo_name: x
          sorry_server: { address: 10.0.0.10 }
          backends:
            - address: 10.0.0.10
              health:
                checks: [{ type: file, path: /x, target: vip }]
    `,
    errors: [
      'lab.yaml:7:15: services[0].health.quorum: expected an integer 1..4294967295, got "none"',
      'lab.yaml:10:19: services[0].health.checks[0].status: expected status codes 100..599 and ranges such as "200-299 404", got "2OO" ("2OO" is not a code or a range)',
      'lab.yaml:11:53: services[0].health.checks[0].tls.verfy: unknown key "verfy" (did you mean "verify"?)',
      'lab.yaml:13:11: services[0].health.checks[1].helo_name: "helo_name" is not a key of a udp check (only of smtp checks)',
      'lab.yaml:14:19: services[0].sorry_server: the sorry server 10.0.0.10:443 is also a backend of this service (lab.yaml:16:9)',
      'lab.yaml:18:44: services[0].backends[0].health.checks[0].target: "target" is not a key of a file check (only of tcp, http, https, udp, icmp, dns and smtp checks)',
    ],
  },
];

describe('parseConfig: invalid health configs', () => {
  it('has at least 40 cases', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
  });

  for (const c of cases) {
    it(c.name, () => {
      const r = parseConfig(c.text, F);
      assert.equal(r.ok, false, 'expected errors');
      if (r.ok) return;
      assert.deepEqual(
        r.errors.map((e) => e.message),
        c.errors,
      );
      for (const e of r.errors) {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.file, F);
        assert.match(e.message, new RegExp(`^${F}:${e.line}:${e.col}: ${e.key.replace(/[[\]().]/g, '\\$&')}: `));
      }
      if (c.codes) assert.deepEqual(r.errors.map((e) => e.code), c.codes);
    });
  }
});
