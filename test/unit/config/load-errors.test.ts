/**
 * Invalid configs: each case asserts the exact messages (file:line:col, key,
 * text), all of them, in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { yaml } from './yaml-text.js';

const F = 'lab.yaml';

interface Case {
  name: string;
  text: string;
  errors: string[];
  /** codes of the errors, when the case is about them */
  codes?: string[];
}

/** Interfaces block most cases share (lines 1-2). */
const IF = 'interfaces:\n  - name: eth0\n';

const cases: Case[] = [
  // ------------------------------------------------------------ YAML itself
  {
    name: 'unclosed flow sequence',
    text: yaml`
      interfaces: [ {name: eth0}
      services: []
    `,
    errors: ['lab.yaml:2:1: interfaces[0]: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    codes: ['XLB_ERR_CONFIG_SYNTAX'],
  },
  {
    name: 'unterminated quoted string',
    text: yaml`
      interfaces:
        - name: "eth0
      services: []
    `,
    errors: ['lab.yaml:4:1: interfaces[0].name: YAML syntax error: Missing closing "quote'],
  },
  {
    name: 'tab indentation',
    text: 'interfaces:\n\t- name: eth0\nservices: []\n',
    errors: ['lab.yaml:2:1: (root): YAML syntax error: Tabs are not allowed as indentation'],
  },
  {
    name: 'two documents',
    text: yaml`
      interfaces: []
      ---
      services: []
    `,
    errors: ['lab.yaml:2:1: (root): YAML syntax error: a config is one YAML document; found a second one after "---"'],
  },
  {
    name: 'mapping items at different columns',
    text: yaml`
      interfaces:
        - name: eth0
      services: []
        mode: dr
    `,
    errors: ['lab.yaml:4:1: services: YAML syntax error: All mapping items must start at the same column'],
  },
  {
    name: 'unknown tag',
    text: `instance: !foo lab\n${IF}services: []\n`,
    errors: ['lab.yaml:1:11: (root): YAML syntax error: Unresolved tag: !foo'],
  },
  {
    name: 'alias without anchor',
    text: `${IF}services: *web\n`,
    errors: ['lab.yaml:3:11: services: YAML syntax error: alias *web names no anchor (define it first with &web)'],
  },
  {
    name: 'duplicate key at the root',
    text: `${IF}services: []\nservices: []\n`,
    errors: ['lab.yaml:4:1: services: duplicate key "services" (first defined at lab.yaml:3:1)'],
    codes: ['XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'duplicate key in a backend',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
              weight: 1
              weight: 2
    `,
    errors: ['lab.yaml:10:9: services[0].backends[0].weight: duplicate key "weight" (first defined at lab.yaml:9:9)'],
  },
  // ------------------------------------------------------------------ root
  {
    name: 'empty document',
    text: '# nothing yet\n',
    errors: ['lab.yaml:1:1: services: missing required key (a config balances services, runs vrrp alone (a floating address, as keepalived -P does), runs bfd sessions alone (monitoring), or any of these)'],
    codes: ['XLB_ERR_CONFIG_MISSING'],
  },
  {
    name: 'root is a list',
    text: '- name: eth0\n',
    errors: ['lab.yaml:1:1: (root): expected a mapping, got a list'],
    codes: ['XLB_ERR_CONFIG_INVALID'],
  },
  {
    name: 'root is a scalar',
    text: 'hello\n',
    errors: ['lab.yaml:1:1: (root): expected a mapping, got "hello"'],
  },
  {
    name: 'missing services and vrrp (points at the parent mapping)',
    text: IF,
    errors: ['lab.yaml:1:1: services: missing required key (a config balances services, runs vrrp alone (a floating address, as keepalived -P does), runs bfd sessions alone (monitoring), or any of these)'],
  },
  {
    name: 'unknown root key with a suggestion',
    text: `${IF}service: []\n`,
    errors: [
      'lab.yaml:1:1: services: missing required key (a config balances services, runs vrrp alone (a floating address, as keepalived -P does), runs bfd sessions alone (monitoring), or any of these)',
      'lab.yaml:3:1: service: unknown key "service" (did you mean "services"?)',
    ],
    codes: ['XLB_ERR_CONFIG_MISSING', 'XLB_ERR_CONFIG_UNKNOWN_KEY'],
  },
  {
    name: 'unknown root key without a suggestion',
    text: `${IF}services: []\ncolour: blue\n`,
    errors: ['lab.yaml:4:1: colour: unknown key "colour" (allowed: instance, interfaces, metrics, log, limits, tunnel, script_user, allow_unsafe_scripts, services, vrrp, bfd)'],
  },
  {
    name: 'key in the wrong case',
    text: 'Interfaces:\n  - name: eth0\nservices: []\n',
    // same position: discovery order (the key, then what its absence means)
    errors: [
      'lab.yaml:1:1: Interfaces: unknown key "Interfaces" (did you mean "interfaces"?)',
      'lab.yaml:1:1: interfaces: missing required key (the XDP program that forwards the services is attached to these interfaces)',
    ],
  },
  {
    name: 'instance with capitals',
    text: `instance: Lab\n${IF}services: []\n`,
    errors: ['lab.yaml:1:11: instance: expected an instance name matching [a-z0-9][a-z0-9_-]{0,31}, got "Lab"'],
  },
  {
    name: 'instance is a list',
    text: `instance: [a]\n${IF}services: []\n`,
    errors: ['lab.yaml:1:11: instance: expected an instance name matching [a-z0-9][a-z0-9_-]{0,31}, got a list'],
  },
  {
    name: 'a key that is a list',
    text: `${IF}services: []\n[a]: 1\n`,
    errors: ['lab.yaml:4:1: (root): expected a key name, got a list'],
  },
  // ------------------------------------------------------------ interfaces
  {
    name: 'interfaces is a mapping',
    text: 'interfaces:\n  name: eth0\nservices: []\n',
    errors: ['lab.yaml:2:3: interfaces: expected a list, got a mapping'],
  },
  {
    name: 'interfaces is empty',
    text: 'interfaces: []\nservices: []\n',
    errors: ['lab.yaml:1:13: interfaces: expected at least one interface'],
  },
  {
    name: 'interfaces has no value',
    text: 'interfaces:\nservices: []\n',
    errors: ['lab.yaml:1:1: interfaces: expected a list, got an empty value'],
  },
  {
    name: 'interface given as a bare name',
    text: 'interfaces:\n  - eth0\nservices: []\n',
    errors: ['lab.yaml:2:5: interfaces[0]: expected a mapping, got "eth0"'],
  },
  {
    name: 'interface name too long',
    text: 'interfaces:\n  - name: a-very-long-ifname\nservices: []\n',
    errors: ['lab.yaml:2:11: interfaces[0].name: expected an interface name (1..15 characters, no "/", ":" or whitespace), got "a-very-long-ifname"'],
  },
  {
    name: 'interface name with a slash',
    text: 'interfaces:\n  - name: eth0/1\nservices: []\n',
    errors: ['lab.yaml:2:11: interfaces[0].name: expected an interface name (1..15 characters, no "/", ":" or whitespace), got "eth0/1"'],
  },
  {
    name: 'interface name is a number',
    text: 'interfaces:\n  - name: 7\nservices: []\n',
    errors: ['lab.yaml:2:11: interfaces[0].name: expected an interface name (1..15 characters, no "/", ":" or whitespace), got 7'],
  },
  {
    name: 'bad xdp_mode',
    text: 'interfaces:\n  - name: eth0\n    xdp_mode: driver\nservices: []\n',
    errors: ['lab.yaml:3:15: interfaces[0].xdp_mode: expected one of native, generic, auto, got "driver"'],
  },
  {
    name: 'camelCase key (underscore-insensitive suggestion)',
    text: 'interfaces:\n  - name: eth0\n    xdpMode: generic\nservices: []\n',
    errors: ['lab.yaml:3:5: interfaces[0].xdpMode: unknown key "xdpMode" (did you mean "xdp_mode"?)'],
  },
  {
    name: 'duplicate interface',
    text: 'interfaces:\n  - name: eth0\n  - name: eth1\n  - name: eth0\nservices: []\n',
    errors: ['lab.yaml:4:11: interfaces[2].name: duplicate interface eth0 (first defined at lab.yaml:2:5)'],
    codes: ['XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'interface without a name',
    text: 'interfaces:\n  - xdp_mode: auto\nservices: []\n',
    errors: ['lab.yaml:2:5: interfaces[0].name: missing required key'],
  },
  // ------------------------------------------------------- metrics and log
  {
    name: 'metrics.listen without a port',
    text: `${IF}services: []\nmetrics:\n  listen: 127.0.0.1\n`,
    errors: ['lab.yaml:5:11: metrics.listen: expected host:port or [v6]:port, got "127.0.0.1"'],
  },
  {
    name: 'metrics.listen port out of range',
    text: `${IF}services: []\nmetrics:\n  listen: 127.0.0.1:70000\n`,
    errors: ['lab.yaml:5:11: metrics.listen: expected host:port or [v6]:port (port 1..65535), got "127.0.0.1:70000"'],
  },
  {
    name: 'metrics.listen with an unbracketed IPv6 address',
    text: `${IF}services: []\nmetrics:\n  listen: "::1:9901"\n`,
    errors: ['lab.yaml:5:11: metrics.listen: expected host:port or [v6]:port, got "::1:9901"'],
  },
  {
    name: 'metrics.listen with a bad IPv4 address',
    text: `${IF}services: []\nmetrics:\n  listen: 127.0.0.256:9901\n`,
    errors: ['lab.yaml:5:11: metrics.listen: expected host:port or [v6]:port (not an IPv4 address: 127.0.0.256), got "127.0.0.256:9901"'],
  },
  {
    name: 'metrics is a number',
    text: `${IF}services: []\nmetrics: 9901\n`,
    errors: ['lab.yaml:4:10: metrics: expected a mapping, got 9901'],
  },
  {
    name: 'bad log level',
    text: `${IF}services: []\nlog:\n  level: verbose\n  format: text\n`,
    errors: [
      'lab.yaml:5:10: log.level: expected one of trace, debug, info, warn, error, got "verbose"',
      'lab.yaml:6:11: log.format: expected one of json, pretty, got "text"',
    ],
  },
  // ----------------------------------------------------------------- limits
  {
    name: 'max_vips 0',
    text: `${IF}services: []\nlimits:\n  max_vips: 0\n`,
    errors: ['lab.yaml:5:13: limits.max_vips: expected an integer 1..65535, got 0'],
  },
  {
    name: 'max_backends not a number',
    text: `${IF}services: []\nlimits:\n  max_backends: many\n`,
    errors: ['lab.yaml:5:17: limits.max_backends: expected an integer 2..1048576, got "many"'],
  },
  {
    name: 'max_conns below range, max_nat fractional',
    text: `${IF}services: []\nlimits:\n  max_conns: 100\n  max_nat: 2048.5\n`,
    errors: [
      'lab.yaml:5:14: limits.max_conns: expected an integer 1024..67108864, got 100',
      'lab.yaml:6:12: limits.max_nat: expected an integer 1024..67108864, got 2048.5',
    ],
  },
  {
    name: 'ring_size not prime',
    text: `${IF}services: []\nlimits:\n  ring_size: 65536\n`,
    errors: ['lab.yaml:5:14: limits.ring_size: ring_size 65536 is not prime (try 65537)'],
  },
  {
    name: 'ring_size too large',
    text: `${IF}services: []\nlimits:\n  ring_size: 16777217\n`,
    errors: ['lab.yaml:5:14: limits.ring_size: expected an integer 3..16777213, got 16777217'],
  },
  {
    name: 'flow_cache not a power of 2',
    text: `${IF}services: []\nlimits:\n  flow_cache: 3000\n`,
    errors: ['lab.yaml:5:15: limits.flow_cache: flow_cache 3000 is not a power of 2 from 2 (try 4096, or 0 for none)'],
  },
  {
    name: 'flow_cache 1 (a cache of one entry per CPU)',
    text: `${IF}services: []\nlimits:\n  flow_cache: 1\n`,
    errors: ['lab.yaml:5:15: limits.flow_cache: flow_cache 1 is not a power of 2 from 2 (try 2, or 0 for none)'],
  },
  {
    name: 'flow_cache too large',
    text: `${IF}services: []\nlimits:\n  flow_cache: 33554432\n`,
    errors: ['lab.yaml:5:15: limits.flow_cache: expected an integer 0..16777216, got 33554432'],
  },
  {
    name: 'conn_rate_limit negative',
    text: `${IF}services: []\nlimits:\n  conn_rate_limit: -1\n`,
    errors: ['lab.yaml:5:20: limits.conn_rate_limit: expected an integer 0..4294967295, got -1'],
  },
  {
    name: 'next_hop_cache as a bare number',
    text: `${IF}services: []\nlimits:\n  next_hop_cache: 100\n`,
    errors: ['lab.yaml:5:19: limits.next_hop_cache: expected a duration such as 150ms or 2s, got 100'],
  },
  {
    name: 'next_hop_cache as a quoted bare number',
    text: `${IF}services: []\nlimits:\n  next_hop_cache: "100"\n`,
    errors: ['lab.yaml:5:19: limits.next_hop_cache: expected a duration such as 150ms or 2s, got "100" (a number needs a unit: us, ms, s, m, h)'],
  },
  {
    name: 'next_hop_cache with an unknown unit',
    text: `${IF}services: []\nlimits:\n  next_hop_cache: 2sec\n`,
    errors: ['lab.yaml:5:19: limits.next_hop_cache: unknown unit "sec" in duration "2sec" (use us, ms, s, m, h)'],
  },
  {
    name: 'next_hop_cache above 10s',
    text: `${IF}services: []\nlimits:\n  next_hop_cache: 1m\n`,
    errors: ['lab.yaml:5:19: limits.next_hop_cache: expected a duration 0s..10s, got "1m"'],
  },
  {
    name: 'misspelt limit',
    text: `${IF}services: []\nlimits:\n  max_vip: 10\n`,
    errors: ['lab.yaml:5:3: limits.max_vip: unknown key "max_vip" (did you mean "max_vips"?)'],
  },
  // ----------------------------------------------------------------- tunnel
  {
    name: 'tunnel sources of the wrong family, entropy not a boolean',
    text: `${IF}services: []\ntunnel:\n  source4: fd00::1\n  source6: 10.0.0.1\n  source_entropy: yes\n`,
    errors: [
      'lab.yaml:5:12: tunnel.source4: expected an IPv4 address, got "fd00::1"',
      'lab.yaml:6:12: tunnel.source6: expected an IPv6 address, got "10.0.0.1"',
      'lab.yaml:7:19: tunnel.source_entropy: expected true or false, got "yes"',
    ],
  },
  // --------------------------------------------------------------- services
  {
    name: 'services is a mapping',
    text: `${IF}services:\n  web: {}\n`,
    errors: ['lab.yaml:4:3: services: expected a list, got a mapping'],
  },
  {
    name: 'service is a scalar',
    text: `${IF}services:\n  - 10.9.0.1:80\n`,
    errors: ['lab.yaml:4:5: services[0]: expected a mapping, got "10.9.0.1:80"'],
  },
  {
    name: 'service missing mode and backends',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
    `,
    errors: ['lab.yaml:4:5: services[0].mode: missing required key', 'lab.yaml:4:5: services[0].backends: missing required key'],
  },
  {
    name: 'port as a word',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: eighty
          mode: dr
          backends: []
    `,
    errors: ['lab.yaml:5:11: services[0].port: expected an integer 1..65535 or "all", got "eighty"'],
  },
  {
    name: 'port 0 and 65536',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - { address: 10.9.0.1, port: 0, mode: dr, backends: [] }
        - { address: 10.9.0.1, port: 65536, mode: dr, backends: [] }
    `,
    errors: [
      'lab.yaml:4:32: services[0].port: expected an integer 1..65535 or "all", got 0',
      'lab.yaml:5:32: services[1].port: expected an integer 1..65535 or "all", got 65536',
    ],
  },
  {
    name: 'port with no value (points at the key)',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port:
          mode: dr
          backends: []
    `,
    errors: ['lab.yaml:5:5: services[0].port: expected an integer 1..65535 or "all", got an empty value'],
  },
  {
    name: 'mode direct, protocol sctp',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          protocol: sctp
          mode: direct
          backends: []
    `,
    errors: [
      'lab.yaml:6:15: services[0].protocol: expected one of tcp, udp, got "sctp"',
      'lab.yaml:7:11: services[0].mode: expected one of dr, tunnel, nat, got "direct"',
    ],
  },
  {
    name: 'bad VIP address, persistence not a boolean',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.256
          port: 80
          mode: dr
          persistence: "true"
          backends: []
    `,
    errors: [
      'lab.yaml:4:14: services[0].address: expected an IPv4 or IPv6 address, got "10.9.0.256"',
      'lab.yaml:7:18: services[0].persistence: expected true or false, got "true"',
    ],
  },
  {
    name: 'backends null',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends: null
    `,
    errors: ['lab.yaml:7:15: services[0].backends: expected a list, got null'],
  },
  {
    name: 'backend instead of backends',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backend:
            - address: 10.0.0.10
    `,
    errors: [
      'lab.yaml:4:5: services[0].backends: missing required key',
      'lab.yaml:7:5: services[0].backend: unknown key "backend" (did you mean "backends"?)',
    ],
  },
  {
    name: 'duplicate service',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends: []
        - name: again
          address: 10.9.0.1
          port: 80
          mode: tunnel
          backends: []
    `,
    errors: ['lab.yaml:8:5: services[1]: duplicate service 10.9.0.1:80/tcp (first defined at lab.yaml:4:5)'],
    codes: ['XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'duplicate IPv6 service spelt differently',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - { address: "fd99::10", port: all, protocol: udp, mode: dr, backends: [] }
        - { address: "FD99:0:0::0010", port: all, protocol: udp, mode: dr, backends: [] }
    `,
    errors: ['lab.yaml:5:5: services[1]: duplicate service [fd99::10]:all/udp (first defined at lab.yaml:4:5)'],
  },
  {
    name: 'duplicate service name',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - { name: web, address: 10.9.0.1, port: 80, mode: dr, backends: [] }
        - { name: web, address: 10.9.0.1, port: 443, mode: dr, backends: [] }
    `,
    errors: ['lab.yaml:5:13: services[1].name: duplicate service name "web" (first defined at lab.yaml:4:13)'],
  },
  {
    name: 'explicit name equal to another service default name',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - { address: 10.9.0.1, port: 80, mode: dr, backends: [] }
        - { name: "10.9.0.1:80/tcp", address: 10.9.0.2, port: 80, mode: dr, backends: [] }
    `,
    errors: ['lab.yaml:5:13: services[1].name: duplicate service name "10.9.0.1:80/tcp" (first defined at lab.yaml:4:5)'],
  },
  {
    name: 'empty service name',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - { name: "", address: 10.9.0.1, port: 80, mode: dr, backends: [] }
    `,
    errors: ['lab.yaml:4:13: services[0].name: expected a service name (1..128 characters, no control characters), got ""'],
  },
  {
    name: 'nat with port all',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: all
          mode: nat
          backends: []
    `,
    errors: ['lab.yaml:5:11: services[0].port: port: all is not supported in nat mode'],
    codes: ['XLB_ERR_CONFIG_CONFLICT'],
  },
  {
    name: 'more services than max_vips',
    text: yaml`
      interfaces:
        - name: eth0
      limits:
        max_vips: 2
      services:
        - { address: 10.9.0.1, port: 80, mode: dr, backends: [] }
        - { address: 10.9.0.1, port: 81, mode: dr, backends: [] }
        - { address: 10.9.0.1, port: 82, mode: dr, backends: [] }
        - { address: 10.9.0.1, port: 83, mode: dr, backends: [] }
    `,
    errors: ['lab.yaml:8:5: services[2]: 4 services exceed limits.max_vips (2)'],
  },
  // --------------------------------------------------------------- backends
  {
    name: 'backend of the other family',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: tunnel
          backends:
            - address: 10.0.0.10
            - address: fd00::10
    `,
    errors: ['lab.yaml:9:18: services[0].backends[1].address: backend address fd00::10 is IPv6 but the service address 10.9.0.1 is IPv4'],
  },
  {
    name: 'backend port in dr mode (points at the key)',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
              port: 8080
    `,
    errors: ["lab.yaml:9:9: services[0].backends[0].port: port is only used in nat mode: dr and tunnel backends receive the VIP's port"],
  },
  {
    name: 'backend interface in tunnel mode',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: tunnel
          backends:
            - { address: 10.0.0.10, interface: eth1 }
    `,
    errors: ['lab.yaml:8:31: services[0].backends[0].interface: interface is only used in dr mode: tunnel backends are reached by routing'],
  },
  {
    name: 'backend interface name invalid',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - { address: 10.0.0.10, interface: "eth 1" }
    `,
    errors: ['lab.yaml:8:42: services[0].backends[0].interface: expected an interface name (1..15 characters, no "/", ":" or whitespace), got "eth 1"'],
  },
  {
    name: 'backend address with a leading zero (not an address)',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
            - address: 10.0.0.11
            - address: 10.0.0.010
    `,
    errors: ['lab.yaml:10:18: services[0].backends[2].address: expected an IPv4 or IPv6 address, got "10.0.0.010"'],
  },
  {
    name: 'duplicate backend (same address)',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.10
            - address: 10.0.0.11
            - address: 10.0.0.10
              weight: 5
    `,
    errors: ['lab.yaml:10:9: services[0].backends[2]: duplicate backend 10.0.0.10:80 (first defined at lab.yaml:8:9)'],
    codes: ['XLB_ERR_CONFIG_DUPLICATE'],
  },
  {
    name: 'duplicate nat backend: default port equals an explicit one',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: "fd99::10"
          port: 8081
          mode: nat
          backends:
            - address: "fd99:1::11"
            - { address: "fd99:1::11", port: 8081 }
    `,
    errors: ['lab.yaml:9:9: services[0].backends[1]: duplicate backend [fd99:1::11]:8081 (first defined at lab.yaml:8:9)'],
  },
  {
    name: 'weight out of range and fractional',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - { address: 10.0.0.10, weight: 70000 }
            - { address: 10.0.0.11, weight: 1.5 }
    `,
    errors: [
      'lab.yaml:8:39: services[0].backends[0].weight: expected an integer 0..65535, got 70000',
      'lab.yaml:9:39: services[0].backends[1].weight: expected an integer 0..65535, got 1.5',
    ],
  },
  {
    name: 'nat backend port as a word',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 8081
          mode: nat
          backends:
            - { address: 10.0.0.10, port: http }
    `,
    errors: ['lab.yaml:8:37: services[0].backends[0].port: expected an integer 1..65535, got "http"'],
  },
  {
    name: 'backend without an address, backend as a scalar',
    text: yaml`
      interfaces:
        - name: eth0
      services:
        - address: 10.9.0.1
          port: 80
          mode: dr
          backends:
            - weight: 2
            - 10.0.0.11
    `,
    errors: [
      'lab.yaml:8:9: services[0].backends[0].address: missing required key',
      'lab.yaml:9:9: services[0].backends[1]: expected a mapping, got "10.0.0.11"',
    ],
  },
  {
    name: 'more backends than max_backends - 1 (across services)',
    text: yaml`
      interfaces:
        - name: eth0
      limits:
        max_backends: 3
      services:
        - { address: 10.9.0.1, port: 80, mode: dr, backends: [{ address: 10.0.0.10 }] }
        - address: 10.9.0.1
          port: 81
          mode: dr
          backends:
            - address: 10.0.0.10
            - address: 10.0.0.11
            - address: 10.0.0.12
    `,
    errors: ['lab.yaml:12:9: services[1].backends[1]: 4 backends in total exceed limits.max_backends - 1 (2; backend id 0 is reserved)'],
  },
  // -------------------------------------------------- several in one file
  {
    name: 'several errors, all reported in file order',
    text: yaml`
      instance: "my lab"
      interfaces:
        - name: eth0
          xdp_mode: fast
      limits:
        ring_size: 1000
      services:
        - address: 10.9.0.1
          port: eighty
          mode: direct
          backends:
            - { address: "fd00::1", weight: -1 }
        - address: 10.9.0.2
          port: 80
          mode: dr
          backends:
            - address: 10.0.0.1
              port: 8080
              wieght: 3
    `,
    errors: [
      'lab.yaml:1:11: instance: expected an instance name matching [a-z0-9][a-z0-9_-]{0,31}, got "my lab"',
      'lab.yaml:4:15: interfaces[0].xdp_mode: expected one of native, generic, auto, got "fast"',
      'lab.yaml:6:14: limits.ring_size: ring_size 1000 is not prime (try 1009)',
      'lab.yaml:9:11: services[0].port: expected an integer 1..65535 or "all", got "eighty"',
      'lab.yaml:10:11: services[0].mode: expected one of dr, tunnel, nat, got "direct"',
      'lab.yaml:12:20: services[0].backends[0].address: backend address fd00::1 is IPv6 but the service address 10.9.0.1 is IPv4',
      'lab.yaml:12:39: services[0].backends[0].weight: expected an integer 0..65535, got -1',
      "lab.yaml:18:9: services[1].backends[0].port: port is only used in nat mode: dr and tunnel backends receive the VIP's port",
      'lab.yaml:19:9: services[1].backends[0].wieght: unknown key "wieght" (did you mean "weight"?)',
    ],
  },
];

describe('parseConfig: invalid configs', () => {
  it('has at least 45 cases', () => {
    assert.ok(cases.length >= 45, `${cases.length} cases`);
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

  it('never throws, whatever the input', () => {
    for (const text of ['', '\0', ':', '- - -', '{', '"', '? a\n: b', '&a [*a]', 'a: !!binary x', '%YAML 9.9\n---\n']) {
      const r = parseConfig(text, F);
      assert.equal(r.ok, false, JSON.stringify(text));
    }
  });
});

describe('loadConfigFile', () => {
  it('reports an unreadable file as one error', async () => {
    const r = await loadConfigFile('/nonexistent/xlb.yaml');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.code, 'XLB_ERR_CONFIG_READ');
    assert.match(r.errors[0]!.message, /^\/nonexistent\/xlb\.yaml:1:1: \(root\): cannot read config file: ENOENT/);
  });
});
