/**
 * @module config/schema
 * The JSON Schema (draft 2020-12) of the xlb YAML config, for editors
 * (yaml-language-server: `# yaml-language-server: $schema=…/xlb.schema.json`)
 * and other tools. schema/xlb.schema.json is written from {@link SCHEMA} by
 * src/tools/gen-schema.ts, and a unit test fails when the two drift apart or
 * when the schema's keys differ from the loader's (load.ts CONFIG_KEYS).
 *
 * The loader, not this schema, is the authority: it also checks what a
 * schema cannot say well (uniqueness of services, backends and interface
 * names, address families, primality of ring_size, total counts against the
 * limits; for health checks: target: vip against the service's protocol and
 * port, connect_port on port: all services, compiling regexes, the sorry
 * server not being a backend, one weight-setting check per backend; for
 * VRRP: address families, advert_int per version, VRID clashes, references
 * to scripts, tracked files and instances, tracker weights of owners and
 * sync groups, strict mode; for BFD: address families, duplicate sessions,
 * references to sessions, TTL of single-hop sessions, secret lengths per
 * authentication type, echo on multihop or without interfaces) and
 * gives precise messages. It also reads a few YAML numbers as written
 * (`http_version: 1.1`, `payload: 0102`) that the schema wants quoted.
 *
 * Layer: control plane, pure data. No I/O.
 */
import { CHECK_TARGETS, CHECK_TYPES, DEFAULT_CHECK_TIMING, DNS_TYPES } from '../health/spec.js';
import { DURATION_PATTERN, formatDuration } from './duration.js';
import { CHECK_KEYS, CHECK_REQUIRED, USER_SPEC } from './health.js';
import {
  CHECK_TIMING_RANGES,
  DEFAULT_INSTANCE,
  DEFAULT_LIMITS,
  DEFAULT_LOG_FORMAT,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_LISTEN,
  DEFAULT_NEXT_HOP_CACHE,
  DEFAULT_PROTOCOL,
  DEFAULT_WEIGHT,
  DEFAULT_XDP_MODE,
  HEALTH_DEFAULTS,
  HEALTH_RANGES,
  IFNAME_PATTERN,
  INSTANCE_PATTERN,
  LIMIT_RANGES,
  LOG_FORMATS,
  LOG_LEVELS,
  PORT_RANGE,
  PROTOCOLS,
  ROOT_NEEDS,
  SERVICE_MODES,
  WEIGHT_RANGE,
  XDP_MODES,
} from './model.js';
import { BFD_AUTH_TYPES, BFD_DEFAULTS, BFD_NAME_PATTERN, BFD_RANGES } from './bfd-model.js';
import { VRRP_AUTH_TYPES, VRRP_DEFAULTS, VRRP_INSTANCE_DEFAULTS, VRRP_NAME_PATTERN, VRRP_RANGES, VRRP_SCOPES, VRRP_STATES, VRRP_VERSIONS } from './vrrp-model.js';

/** An integer property with a range. */
function int(description: string, r: { min: number; max: number }, dflt?: number): Record<string, unknown> {
  const s: Record<string, unknown> = { description, type: 'integer', minimum: r.min, maximum: r.max };
  if (dflt !== undefined) s.default = dflt;
  return s;
}

/** A duration property: a string with a unit, bounds in the description. */
function dur(description: string, r: { min: number; max: number }, dflt?: number): Record<string, unknown> {
  const s: Record<string, unknown> = {
    description: `${description} ${formatDuration(r.min)}..${formatDuration(r.max)}.`,
    type: 'string',
    pattern: DURATION_PATTERN,
  };
  if (dflt !== undefined) s.default = formatDuration(dflt);
  return s;
}

/** The timing keys, shared by services[].health, backends[].health and checks[] (inherited in that order; a check's own wins). */
const TIMING_PROPERTIES = {
  interval: dur('Time between the starts of two check rounds (keepalived delay_loop).', CHECK_TIMING_RANGES.intervalMs, DEFAULT_CHECK_TIMING.intervalMs),
  timeout: dur(
    'Time one attempt may take (keepalived connect_timeout; for misc, the command is killed after it).',
    CHECK_TIMING_RANGES.timeoutMs,
    DEFAULT_CHECK_TIMING.timeoutMs,
  ),
  retries: int('Extra attempts in a round after a failed one (keepalived retry); the round fails when all fail.', CHECK_TIMING_RANGES.retries, DEFAULT_CHECK_TIMING.retries),
  retry_delay: dur('Gap between a failed attempt and its retry (keepalived delay_before_retry).', CHECK_TIMING_RANGES.retryDelayMs, DEFAULT_CHECK_TIMING.retryDelayMs),
  rise: int('Consecutive successful rounds that bring a down check up.', CHECK_TIMING_RANGES.rise, DEFAULT_CHECK_TIMING.rise),
  fall: int('Consecutive failed rounds that bring an up check down.', CHECK_TIMING_RANGES.fall, DEFAULT_CHECK_TIMING.fall),
  warmup: dur('The first round starts at a random time within this; 0s = at once. Default: the interval.', CHECK_TIMING_RANGES.warmupMs),
  alpha: {
    description: 'Start down until the first successful round (keepalived alpha); otherwise start up.',
    type: 'boolean',
    default: DEFAULT_CHECK_TIMING.alpha,
  },
} as const;

/** inhibit_on_failure and slow_start: set on a service (inherited) or a backend. */
const BACKEND_OPTION_PROPERTIES = {
  inhibit_on_failure: {
    description: 'On failure set the weight to 0 (existing flows stay) instead of removing the backend (its flows are rescheduled).',
    type: 'boolean',
    default: HEALTH_DEFAULTS.inhibitOnFailure,
  },
  slow_start: dur(
    "A recovered backend's weight ramps linearly from 1 to its weight over this time; 0s = at once.",
    HEALTH_RANGES.slowStartMs,
    HEALTH_DEFAULTS.slowStartMs,
  ),
} as const;

/** A `port` that only nat takes: dr and tunnel receive the VIP's port. */
const NON_NAT_PORT = { not: { required: ['port'] } } as const;

/** A check whose target is not `vip`: only dr and tunnel services can probe through the VIP. */
const NOT_VIP_CHECKS = { type: 'array', items: { properties: { target: { not: { const: 'vip' } } } } } as const;

/** The GARP keys: in vrrp.defaults and (overriding them) in an instance. */
const VRRP_GARP_PROPERTIES = {
  garp_master_delay: dur(
    'After becoming MASTER, a second burst of gratuitous ARPs / unsolicited NAs this long after the first; 0s = none.',
    VRRP_RANGES.garpDelayMs,
    VRRP_DEFAULTS.garp.masterDelayMs,
  ),
  garp_master_repeat: int('GARPs / NAs per address in each burst after becoming MASTER.', VRRP_RANGES.garpRepeat, VRRP_DEFAULTS.garp.masterRepeat),
  garp_master_refresh: {
    description: `Repeat a burst this often while MASTER, to keep switches and neighbours current; 0s = off, else ${formatDuration(VRRP_RANGES.garpRefreshMs.min)}..${formatDuration(VRRP_RANGES.garpRefreshMs.max)}.`,
    type: 'string',
    pattern: DURATION_PATTERN,
    default: formatDuration(VRRP_DEFAULTS.garp.masterRefreshMs),
  },
  garp_master_refresh_repeat: int('GARPs / NAs per address in a refresh burst.', VRRP_RANGES.garpRepeat, VRRP_DEFAULTS.garp.masterRefreshRepeat),
  garp_lower_prio_delay: dur(
    'While MASTER, after a lower-priority advert (split-brain recovery), a second burst this long after the first; 0s = none. Default: garp_master_delay. Strict mode: 0s.',
    VRRP_RANGES.garpDelayMs,
  ),
  garp_lower_prio_repeat: int(
    'While MASTER, GARPs / NAs per address after a lower-priority advert; 0 = none. Default: garp_master_repeat. Strict mode: 0.',
    VRRP_RANGES.garpLowerPrioRepeat,
  ),
} as const;

/** The tracker keys of instances and sync groups. */
const VRRP_TRACK_PROPERTIES = {
  track_interfaces: {
    description: 'Tracked interfaces: a name (weight 0: FAULT while it is down) or { name, weight, reverse }.',
    type: 'array',
    items: { oneOf: [{ $ref: '#/$defs/ifname' }, { $ref: '#/$defs/vrrp_track_interface' }] },
  },
  track_scripts: {
    description: 'Tracked scripts of vrrp.scripts: a name (the script\'s weight) or { name, weight, reverse }.',
    type: 'array',
    items: { oneOf: [{ $ref: '#/$defs/vrrp_name' }, { $ref: '#/$defs/vrrp_track_script' }] },
  },
  track_files: {
    description: 'Tracked files of vrrp.track_files: a name (the file\'s weight) or { name, weight, reverse }.',
    type: 'array',
    items: { oneOf: [{ $ref: '#/$defs/vrrp_name' }, { $ref: '#/$defs/vrrp_track_file_ref' }] },
  },
  track_bfd: {
    description: "Tracked BFD sessions of bfd.instances (keepalived's track_bfd): a name (the session's weight and reverse) or { name, weight, reverse }.",
    type: 'array',
    items: { oneOf: [{ $ref: '#/$defs/bfd_name' }, { $ref: '#/$defs/vrrp_track_bfd' }] },
  },
} as const;

/** The notify keys of instances and sync groups. */
const VRRP_NOTIFY_PROPERTIES = {
  notify_master: { $ref: '#/$defs/command', description: 'Run on becoming MASTER.' },
  notify_backup: { $ref: '#/$defs/command', description: 'Run on becoming BACKUP.' },
  notify_fault: { $ref: '#/$defs/command', description: 'Run on entering FAULT.' },
  notify_stop: { $ref: '#/$defs/command', description: 'Run when the instance stops.' },
  notify: {
    $ref: '#/$defs/command',
    description: 'Run on every change, after the specific command, with INSTANCE|GROUP <name> MASTER|BACKUP|FAULT|STOP <priority> appended.',
  },
} as const;

/** `weight` of a tracked interface or script reference. */
const TRACK_WEIGHT = int(
  'Added to the priority while the object is up (weight > 0) or while it is down (weight < 0); 0 = FAULT while it is down. An address owner (priority 255) is never adjusted.',
  VRRP_RANGES.trackWeight,
);
/** `reverse` of a tracker. */
const TRACK_REVERSE = { description: 'Swap up and down (weight 0: FAULT while the object is up), or negate the adjustment.', type: 'boolean' } as const;

/** The VRRP definitions, merged into {@link SCHEMA} `$defs`. */
const VRRP_DEFS = {
  vrrp: {
    description:
      "VRRP (RFC 3768 v2, RFC 5798 v3), as keepalived: instances move their virtual addresses between nodes. keepalived's vrrp_instance, vrrp_sync_group, vrrp_script, track_file and the vrrp_* keys of global_defs.",
    type: 'object',
    additionalProperties: false,
    properties: {
      defaults: { $ref: '#/$defs/vrrp_defaults', description: "What every instance takes unless it sets its own (keepalived's global_defs)." },
      instances: {
        description: 'VRRP instances (virtual routers). Names unique; (interface, virtual_router_id, family) unique unless unicast with disjoint peers.',
        type: 'array',
        items: { $ref: '#/$defs/vrrp_instance' },
      },
      sync_groups: {
        description: 'Sync groups: their instances go to MASTER together or not at all; one in FAULT puts all in FAULT.',
        type: 'array',
        items: { $ref: '#/$defs/vrrp_sync_group' },
      },
      scripts: {
        description: "Scripts instances and sync groups track by name (keepalived's vrrp_script).",
        type: 'array',
        items: { $ref: '#/$defs/vrrp_script' },
      },
      track_files: {
        description: "Files holding an integer that instances and sync groups track by name (keepalived's track_file).",
        type: 'array',
        items: { $ref: '#/$defs/vrrp_track_file' },
      },
      notify_fifo: {
        $ref: '#/$defs/abs_path',
        description: 'A FIFO every state change is written to, in order: INSTANCE "VI_1" MASTER 100, GROUP "G1" BACKUP 0.',
      },
    },
  },
  vrrp_name: {
    description: 'A name: letters, digits, "_", ".", ":" and "-", at most 64, starting with a letter or digit.',
    type: 'string',
    pattern: VRRP_NAME_PATTERN.source,
  },
  vrrp_defaults: {
    description: "Defaults of every instance (keepalived's global_defs vrrp_* keys, without the prefix).",
    type: 'object',
    additionalProperties: false,
    properties: {
      version: { description: 'VRRP version of instances that set none. IPv6 instances are always 3.', enum: [...VRRP_VERSIONS], default: VRRP_DEFAULTS.version },
      ...VRRP_GARP_PROPERTIES,
      garp_interval: dur('Pause between two gratuitous ARPs on one interface; 0s = none.', VRRP_RANGES.garpIntervalMs, VRRP_DEFAULTS.garpIntervalMs),
      gna_interval: dur('Pause between two unsolicited neighbour adverts on one interface; 0s = none.', VRRP_RANGES.garpIntervalMs, VRRP_DEFAULTS.gnaIntervalMs),
      rt_priority: int(
        "SCHED_FIFO priority of the VRRP thread (keepalived's vrrp_rt_priority); 0 = normal scheduling. Scripts and notify commands it starts run normally.",
        VRRP_RANGES.rtPriority,
        VRRP_DEFAULTS.rtPriority,
      ),
      down_timer_adverts: int(
        'Master_Down_Interval = down_timer_adverts x advert interval + skew (RFC: 3). Strict mode: 3.',
        VRRP_RANGES.downTimerAdverts,
        VRRP_DEFAULTS.downTimerAdverts,
      ),
      lower_prio_no_advert: {
        description: 'While MASTER, do not answer a lower-priority advert with an advert (pre-RFC 9568 behaviour). Strict mode: true.',
        type: 'boolean',
        default: VRRP_DEFAULTS.lowerPrioNoAdvert,
      },
      higher_prio_send_advert: {
        description: 'While MASTER, send one advert before yielding to a higher-priority master. Strict mode: false.',
        type: 'boolean',
        default: VRRP_DEFAULTS.higherPrioSendAdvert,
      },
      check_unicast_src: { description: 'Unicast instances accept adverts only from a listed peer.', type: 'boolean', default: VRRP_DEFAULTS.checkUnicastSrc },
      skip_check_adv_addr: {
        description: 'Do not compare the addresses in adverts of the master already known.',
        type: 'boolean',
        default: VRRP_DEFAULTS.skipCheckAdvAddr,
      },
      v3_checksum_as_v2: {
        description: 'VRRPv3 over IPv4: checksum without the IPv4 pseudo-header, as RFC 9568 and Cisco/Juniper do.',
        type: 'boolean',
        default: VRRP_DEFAULTS.v3ChecksumAsV2,
      },
      notify_priority_changes: {
        description: 'Write MASTER_PRIORITY / BACKUP_PRIORITY lines to notify_fifo when the effective priority changes.',
        type: 'boolean',
        default: VRRP_DEFAULTS.notifyPriorityChanges,
      },
      strict: {
        description:
          "RFC strict mode (keepalived's vrrp_strict): virtual addresses required (IPv6: the first link-local), state MASTER only for priority 255, no authentication, no preempt_delay, no lower-priority GARP bursts, lower_prio_no_advert, down_timer_adverts 3; an owner ignores adverts.",
        type: 'boolean',
        default: VRRP_DEFAULTS.strict,
      },
    },
  },
  vrrp_instance: {
    description: 'A VRRP instance (virtual router) and the addresses it moves.',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'virtual_router_id'],
    properties: {
      name: { $ref: '#/$defs/vrrp_name', description: 'Unique name (VI_1); used in FIFO lines, notify arguments and sync groups.' },
      interface: {
        $ref: '#/$defs/ifname',
        description: 'Interface adverts are sent and received on, and the addresses added to. Optional only with unicast_peers and a unicast_src_ip that is not link-local.',
      },
      virtual_router_id: int('VRID, the same on every node of the router.', VRRP_RANGES.vrid),
      priority: int(
        '255 = the address owner (never adjusted by trackers). Default: 100, or 255 with state: MASTER.',
        VRRP_RANGES.priority,
      ),
      state: {
        description: 'The state wanted at start. Default: MASTER for priority 255, else BACKUP. A MASTER that is not the owner still waits for the down timer.',
        enum: [...VRRP_STATES],
      },
      version: { description: 'VRRP version. Default: vrrp.defaults.version; IPv6 instances are 3.', enum: [...VRRP_VERSIONS] },
      advert_int: {
        description: 'Advert interval. VRRPv2: whole seconds 1s..255s; VRRPv3: 10ms steps 10ms..40.95s (other values are errors, not rounded).',
        type: 'string',
        pattern: DURATION_PATTERN,
        default: formatDuration(VRRP_INSTANCE_DEFAULTS.advertIntMs),
      },
      preempt: {
        description: "Take over from a lower-priority master. false = keepalived's nopreempt: needs state BACKUP; not for priority 255.",
        type: 'boolean',
        default: VRRP_INSTANCE_DEFAULTS.preempt,
      },
      preempt_delay: dur(
        'Wait this long (from start, or from seeing a lower-priority master) before preempting. Not with preempt: false, state: MASTER or strict mode.',
        VRRP_RANGES.preemptDelayMs,
        VRRP_INSTANCE_DEFAULTS.preemptDelayMs,
      ),
      virtual_ipaddress: {
        description: `Addresses carried in the adverts and added on MASTER: one family (the instance's), at most ${VRRP_RANGES.vips.max}, unique.`,
        type: 'array',
        maxItems: VRRP_RANGES.vips.max,
        items: { $ref: '#/$defs/vrrp_vip' },
      },
      virtual_ipaddress_excluded: {
        description: 'Addresses added on MASTER but not advertised; any family (dual stack), any number.',
        type: 'array',
        items: { $ref: '#/$defs/vrrp_vip' },
      },
      unicast_src_ip: { $ref: '#/$defs/address', description: "Source address of the adverts (keepalived's unicast_src_ip / mcast_src_ip). Default: the interface's primary address." },
      unicast_peers: {
        description: 'Send adverts to these peers instead of the multicast group (at least one; unique).',
        type: 'array',
        minItems: 1,
        items: { oneOf: [{ $ref: '#/$defs/address' }, { $ref: '#/$defs/vrrp_peer' }] },
      },
      check_unicast_src: {
        description: 'Accept adverts only from a listed peer. Default: vrrp.defaults.check_unicast_src, or true when a peer has TTL bounds.',
        type: 'boolean',
      },
      authentication: { $ref: '#/$defs/vrrp_authentication', description: 'VRRPv2 only: a simple password. Not in strict mode.' },
      v3_checksum_as_v2: { description: 'VRRPv3 over IPv4 only: checksum without the pseudo-header. Default: vrrp.defaults.', type: 'boolean' },
      use_vmac: {
        description: 'Use a virtual MAC (00:00:5e:00:01:<vrid>, a macvlan on the interface): true (named vrrp.<vrid>, IPv6 vrrp6.<vrid>) or { name }. Not with unicast_peers.',
        oneOf: [{ type: 'boolean' }, { $ref: '#/$defs/vrrp_vmac' }],
        default: false,
      },
      ...VRRP_TRACK_PROPERTIES,
      dont_track_primary: { description: "Ignore faults of the instance's own interface.", type: 'boolean', default: false },
      bfd_peer: {
        $ref: '#/$defs/bfd_name',
        description:
          'BFD peering (beyond keepalived): the session of bfd.instances to the other VRRP node. A BACKUP whose session goes Down treats the master as gone at once, without waiting for Master_Down_Interval. With unicast_peers, its neighbor_ip is one of them.',
      },
      ...VRRP_NOTIFY_PROPERTIES,
      notify_master_rx_lower_pri: { $ref: '#/$defs/command', description: 'Run when, as MASTER, the instance receives a lower-priority advert.' },
      notify_priority_changes: { description: 'Write priority changes to notify_fifo. Default: vrrp.defaults.', type: 'boolean' },
      ...VRRP_GARP_PROPERTIES,
      down_timer_adverts: int('Master_Down_Interval multiplier. Default: vrrp.defaults.', VRRP_RANGES.downTimerAdverts),
      lower_prio_no_advert: { description: 'Do not answer a lower-priority advert. Default: vrrp.defaults.', type: 'boolean' },
      higher_prio_send_advert: { description: 'Advertise once before yielding. Default: vrrp.defaults.', type: 'boolean' },
      skip_check_adv_addr: { description: "Do not compare the known master's advertised addresses. Default: vrrp.defaults.", type: 'boolean' },
      strict: { description: 'RFC strict mode for this instance. Default: vrrp.defaults.strict.', type: 'boolean' },
    },
    allOf: [
      {
        description: 'preempt: false needs state BACKUP and a priority below 255.',
        if: { required: ['preempt'], properties: { preempt: { const: false } } },
        then: { properties: { state: { const: 'BACKUP' }, priority: { maximum: 254 } } },
      },
      {
        description: 'authentication is VRRPv2 only.',
        if: { required: ['version'], properties: { version: { const: 3 } } },
        then: { not: { required: ['authentication'] } },
      },
      {
        description: 'Without an interface: unicast, with a source address.',
        if: { not: { required: ['interface'] } },
        then: { required: ['unicast_src_ip', 'unicast_peers'] },
      },
    ],
  },
  vrrp_vip: {
    description: 'A virtual address: "10.0.0.1/24" (no prefix: /32 or /128), or a mapping with options.',
    oneOf: [
      { type: 'string', pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['address'],
        properties: {
          address: { description: 'The address, with or without /prefix.', type: 'string', pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' },
          prefix: { description: 'Prefix length, when address has none: 0..32 (IPv4), 0..128 (IPv6).', type: 'integer', minimum: 0, maximum: 128 },
          dev: { $ref: '#/$defs/ifname', description: "Interface to add it to. Default: the VMAC, else the instance's interface." },
          label: { description: 'IPv4 only: the label (ip addr ... label), the device name or it and ":x".', type: 'string', maxLength: 15 },
          no_dad: { description: 'IPv6 only: skip duplicate address detection (nodad).', type: 'boolean', default: false },
          scope: { description: 'Address scope.', enum: [...VRRP_SCOPES], default: VRRP_INSTANCE_DEFAULTS.scope },
        },
      },
    ],
  },
  vrrp_peer: {
    description: 'A unicast peer with the TTL (hop limit) range accepted from it; TTL bounds imply check_unicast_src.',
    type: 'object',
    additionalProperties: false,
    required: ['address'],
    properties: {
      address: { $ref: '#/$defs/address', description: "The peer's address; the instance's family." },
      min_ttl: int('Smallest TTL accepted.', VRRP_RANGES.ttl, VRRP_INSTANCE_DEFAULTS.minTtl),
      max_ttl: int('Largest TTL accepted.', VRRP_RANGES.ttl, VRRP_INSTANCE_DEFAULTS.maxTtl),
    },
  },
  vrrp_authentication: {
    description: 'VRRPv2 simple password authentication (RFC 2338). AH and auth_hmac are not supported.',
    type: 'object',
    additionalProperties: false,
    required: ['auth_type', 'auth_pass'],
    properties: {
      auth_type: { description: 'PASS: a cleartext password.', enum: [...VRRP_AUTH_TYPES] },
      auth_pass: {
        description: 'The password, 1..8 bytes (longer is an error: keepalived silently truncates it).',
        type: 'string',
        minLength: 1,
        maxLength: VRRP_RANGES.authPass.max,
      },
    },
  },
  vrrp_vmac: {
    description: 'A virtual MAC interface.',
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { $ref: '#/$defs/ifname', description: 'Name of the macvlan. Default: vrrp.<vrid> (IPv6: vrrp6.<vrid>).' },
    },
  },
  vrrp_track_interface: {
    description: 'A tracked interface with a weight.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { $ref: '#/$defs/ifname', description: 'Interface name.' },
      weight: { ...TRACK_WEIGHT, default: 0 },
      reverse: { ...TRACK_REVERSE, default: false },
    },
  },
  vrrp_track_script: {
    description: 'A tracked script, overriding its weight.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { $ref: '#/$defs/vrrp_name', description: 'A script of vrrp.scripts.' },
      weight: { ...TRACK_WEIGHT, description: "Overrides the script's weight. " + TRACK_WEIGHT.description },
      reverse: { ...TRACK_REVERSE, description: "Overrides the script's reverse. " + TRACK_REVERSE.description },
    },
  },
  vrrp_track_file_ref: {
    description: 'A tracked file, overriding its weight.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { $ref: '#/$defs/vrrp_name', description: 'A file of vrrp.track_files.' },
      weight: int("Overrides the file's weight: the file's value x weight is added; 0 = FAULT while the value is not 0.", VRRP_RANGES.trackFileWeight),
      reverse: { ...TRACK_REVERSE, description: "Overrides the file's reverse: negate the value." },
    },
  },
  vrrp_track_bfd: {
    description: 'A tracked BFD session, overriding its weight.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { $ref: '#/$defs/bfd_name', description: 'A session of bfd.instances.' },
      weight: { ...TRACK_WEIGHT, description: "Overrides the session's weight. " + TRACK_WEIGHT.description },
      reverse: { ...TRACK_REVERSE, description: "Overrides the session's reverse. " + TRACK_REVERSE.description },
    },
  },
  vrrp_sync_group: {
    description: "A sync group (keepalived's vrrp_sync_group).",
    type: 'object',
    additionalProperties: false,
    required: ['name', 'group'],
    properties: {
      name: { $ref: '#/$defs/vrrp_name', description: 'Unique name among sync groups.' },
      group: {
        description: 'Member instances, by name; each in at most one group.',
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { $ref: '#/$defs/vrrp_name' },
      },
      ...VRRP_TRACK_PROPERTIES,
      ...VRRP_NOTIFY_PROPERTIES,
      tracking_weight: {
        description:
          "Allow weighted trackers on the group and its members (keepalived's sync_group_tracking_weight); otherwise they need weight 0. Members should keep equal priorities, or elections loop.",
        type: 'boolean',
        default: false,
      },
    },
  },
  vrrp_script: {
    description: "A tracked script (keepalived's vrrp_script): exit 0 = success.",
    type: 'object',
    additionalProperties: false,
    required: ['name', 'script'],
    properties: {
      name: { $ref: '#/$defs/vrrp_name', description: 'Unique name among scripts.' },
      script: { $ref: '#/$defs/argv', description: 'The command; never run through a shell.' },
      interval: dur('Time between two runs.', VRRP_RANGES.scriptIntervalMs, VRRP_INSTANCE_DEFAULTS.scriptIntervalMs),
      timeout: dur('A run still going after this is killed and fails. Default: the interval.', VRRP_RANGES.scriptTimeoutMs),
      weight: { ...TRACK_WEIGHT, default: VRRP_INSTANCE_DEFAULTS.scriptWeight },
      reverse: { ...TRACK_REVERSE, default: false },
      rise: int('Successes in a row that make a failed script good.', VRRP_RANGES.rise, VRRP_INSTANCE_DEFAULTS.scriptRise),
      fall: int('Failures in a row that make a good script failed.', VRRP_RANGES.fall, VRRP_INSTANCE_DEFAULTS.scriptFall),
      init_fail: { description: 'Start failed (otherwise unknown until the first result).', type: 'boolean', default: false },
      user: { $ref: '#/$defs/user', description: "Run as this user (name, uid, or name:group). Default: script_user, else the daemon's user." },
    },
  },
  vrrp_track_file: {
    description: "A tracked file (keepalived's track_file): holds an integer, re-read when it changes.",
    type: 'object',
    additionalProperties: false,
    required: ['name', 'file'],
    properties: {
      name: { $ref: '#/$defs/vrrp_name', description: 'Unique name among tracked files.' },
      file: { $ref: '#/$defs/abs_path', description: 'The file.' },
      weight: int(
        "The file's value x weight is added to the priority; 0 = FAULT while the value is not 0.",
        VRRP_RANGES.trackFileWeight,
        VRRP_INSTANCE_DEFAULTS.trackFileWeight,
      ),
      reverse: { description: 'Negate the value.', type: 'boolean', default: false },
      init_file: {
        description: 'At start, create the file when it does not exist: true (value 0), a value, or { value, overwrite } (overwrite: also when it exists).',
        oneOf: [
          { type: 'boolean' },
          int('The value written.', VRRP_RANGES.trackFileInit),
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              value: int('The value written.', VRRP_RANGES.trackFileInit, 0),
              overwrite: { description: 'Write it even when the file exists.', type: 'boolean', default: false },
            },
          },
        ],
      },
    },
  },
} as const;

/** A µs duration property: bounds in the description, from a µs range. */
function durUs(description: string, r: { min: number; max: number }, dfltUs?: number): Record<string, unknown> {
  return dur(`${description} Whole microseconds;`, { min: r.min / 1000, max: r.max / 1000 }, dfltUs === undefined ? undefined : dfltUs / 1000);
}

/** The BFD definitions, merged into {@link SCHEMA} `$defs`. */
const BFD_DEFS = {
  bfd: {
    description:
      "BFD (RFC 5880, 5881 single hop, 5883 multihop): sessions that VRRP instances (track_bfd, bfd_peer) and health checks (type: bfd) follow. keepalived's bfd_instance, plus authentication and echo.",
    type: 'object',
    additionalProperties: false,
    properties: {
      rt_priority: int(
        "SCHED_FIFO priority of the BFD worker thread (keepalived's bfd_rt_priority); 0 = normal scheduling.",
        BFD_RANGES.rtPriority,
        BFD_DEFAULTS.rtPriority,
      ),
      instances: {
        description: 'Sessions. Names unique; (neighbor_ip, source_ip, multihop) unique, a session without source_ip clashing with every other to its neighbor.',
        type: 'array',
        items: { $ref: '#/$defs/bfd_instance' },
      },
    },
  },
  bfd_name: {
    description: 'A session name: letters, digits, "_", ".", ":" and "-", at most 31 (keepalived BFD_INAME_MAX), starting with a letter or digit.',
    type: 'string',
    pattern: BFD_NAME_PATTERN.source,
  },
  bfd_instance: {
    description: "A BFD session (keepalived's bfd_instance). neighbor_ip (or neighbour_ip) is required.",
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    oneOf: [{ required: ['neighbor_ip'] }, { required: ['neighbour_ip'] }],
    not: { required: ['ttl', 'hoplimit'] },
    properties: {
      name: { $ref: '#/$defs/bfd_name', description: 'Unique name; track_bfd, bfd_peer and type: bfd checks use it.' },
      neighbor_ip: { $ref: '#/$defs/address', description: 'The peer: a unicast IPv4 or IPv6 address.' },
      neighbour_ip: { $ref: '#/$defs/address', description: "keepalived's other spelling of neighbor_ip; write one of them." },
      source_ip: { $ref: '#/$defs/address', description: "Local address the session's packets are sent from; the neighbor's family. Required for multihop." },
      min_rx: durUs('Required Min RX Interval: how often the peer may send while Up.', BFD_RANGES.intervalUs, BFD_DEFAULTS.minRxUs),
      min_tx: durUs('Desired Min TX Interval while Up; the negotiated interval is the larger of it and the peer\'s min_rx.', BFD_RANGES.intervalUs, BFD_DEFAULTS.minTxUs),
      idle_tx: durUs('Desired Min TX Interval while not Up (RFC 5880 slow start).', BFD_RANGES.idleTxUs, BFD_DEFAULTS.idleTxUs),
      multiplier: int('Detect Mult: the peer declares the session down after this many intervals without a packet.', BFD_RANGES.multiplier, BFD_DEFAULTS.multiplier),
      passive: { description: 'Send nothing until the peer has spoken.', type: 'boolean', default: BFD_DEFAULTS.passive },
      multihop: { description: 'RFC 5883 multihop: UDP port 4784 instead of 3784; needs source_ip; no echo.', type: 'boolean', default: BFD_DEFAULTS.multihop },
      ttl: int(
        'Multihop only: outgoing TTL (IPv4) or hop limit (IPv6); default 255 (IPv4) / 64 (IPv6). A single-hop session always sends 255 (RFC 5881).',
        BFD_RANGES.ttl,
      ),
      hoplimit: int("keepalived's other spelling of ttl; write one of them.", BFD_RANGES.ttl),
      max_hops: int(
        "keepalived's GTSM rule: a packet whose TTL + max_hops is below ttl is dropped; 255 disables the check. Default 0 (single hop: only TTL 255, RFC 5881) or 255 (multihop).",
        BFD_RANGES.maxHops,
      ),
      weight: int(
        'Default weight of track_bfd references: 0 = FAULT while the session is down; > 0 added to the priority while Up; < 0 added while down.',
        BFD_RANGES.weight,
        BFD_DEFAULTS.weight,
      ),
      reverse: { description: "Default reverse of track_bfd references: swap Up and down (keepalived's weight N reverse).", type: 'boolean', default: BFD_DEFAULTS.reverse },
      auth: { $ref: '#/$defs/bfd_auth', description: 'Authentication (RFC 5880 §6.7; keepalived has none). Default: none.' },
      echo: { $ref: '#/$defs/bfd_echo', description: 'The echo function (RFC 5880 §6.4; keepalived has none), in the XDP program. Single hop only.' },
    },
  },
  bfd_auth: {
    description: 'Authentication of a session. Both ends need the same type, key_id and secret.',
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    oneOf: [{ required: ['secret'] }, { required: ['secret_file'] }],
    properties: {
      type: {
        description: 'simple: a password in clear; keyed-md5, keyed-sha1: a digest, sequence numbers; meticulous-: the sequence number advances on every packet.',
        enum: [...BFD_AUTH_TYPES],
      },
      key_id: int('Auth Key ID.', BFD_RANGES.keyId, 0),
      secret: { description: 'The password or key: simple and MD5 1..16 bytes, SHA1 1..20. secret_file keeps it out of the config.', type: 'string', minLength: 1 },
      secret_file: {
        $ref: '#/$defs/abs_path',
        description: "A file holding the secret (one trailing newline is dropped). Owned by root or the daemon's user, and not readable or writable by group or others.",
      },
    },
  },
  bfd_echo: {
    description: 'The echo function, in the XDP program: needs interfaces; single hop only.',
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { description: 'Send own echo packets to the peer (when it advertises a Required Min Echo RX); XDP times the ones that return.', type: 'boolean', default: BFD_DEFAULTS.echoEnabled },
      interval: durUs('Transmit interval of own echo packets.', BFD_RANGES.echoIntervalUs, BFD_DEFAULTS.echoIntervalUs),
      reflect: {
        description: "XDP reflects this peer's echo packets back to it. The Required Min Echo RX Interval advertised to the peer is non-zero only while this is on.",
        type: 'boolean',
        default: BFD_DEFAULTS.echoReflect,
      },
    },
  },
} as const;

/** The schema, as a value; see the module comment. */
export const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'xlb configuration',
  description:
    'Configuration of one xlb instance: an XDP/eBPF L4 load balancer. Keys are snake_case; durations are strings with a unit (150ms, 2s).',
  type: 'object',
  additionalProperties: false,
  // services, vrrp or bfd (any of them together); interfaces with services (model.ts ROOT_NEEDS)
  anyOf: ROOT_NEEDS.anyOf.map((k) => ({ required: [k] })),
  dependentRequired: ROOT_NEEDS.dependentRequired,
  properties: {
    instance: {
      description:
        'Instance name. Names the BPF pin directory /sys/fs/bpf/xlb/<instance>/ and the control socket /run/xlb/<instance>.sock, so several instances can run on one machine.',
      type: 'string',
      pattern: INSTANCE_PATTERN.source,
      default: DEFAULT_INSTANCE,
    },
    interfaces: {
      description: 'Interfaces the XDP program is attached to: where client packets arrive. At least one; names unique. Required with services. Without interfaces (a VRRP-only or BFD-only config) no XDP program is loaded and nothing is pinned.',
      type: 'array',
      minItems: 1,
      items: { $ref: '#/$defs/interface' },
    },
    metrics: {
      description: 'The Prometheus /metrics endpoint.',
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: {
          description: 'Listen address, host:port or [v6]:port; host is an IP address or a host name. Loopback by default so metrics are not exposed by accident.',
          type: 'string',
          pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5}$',
          default: DEFAULT_METRICS_LISTEN,
        },
      },
    },
    log: {
      description: 'Logging.',
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { description: 'Least severe level written.', enum: [...LOG_LEVELS], default: DEFAULT_LOG_LEVEL },
        format: {
          description: 'json: one JSON object per line (for log shippers); pretty: human-readable lines.',
          enum: [...LOG_FORMATS],
          default: DEFAULT_LOG_FORMAT,
        },
      },
    },
    limits: {
      description: 'Map sizes and data-path knobs. Fixed when the BPF object is loaded: changing one needs `xlb load`, not `xlb reload`.',
      type: 'object',
      additionalProperties: false,
      properties: {
        max_vips: int('Most services (VIPs).', LIMIT_RANGES.maxVips, DEFAULT_LIMITS.maxVips),
        max_backends: int(
          'Size of the backend table. Backend ids are 1..max_backends-1 (0 is reserved), so all services together hold at most max_backends-1 backends.',
          LIMIT_RANGES.maxBackends,
          DEFAULT_LIMITS.maxBackends,
        ),
        max_conns: int('IPv4 connection-table entries (LRU).', LIMIT_RANGES.maxConns, DEFAULT_LIMITS.maxConns),
        max_conns6: int('IPv6 connection-table entries (LRU). Default: max_conns.', LIMIT_RANGES.maxConns6),
        max_nat: int('NAT reverse entries (LRU), one per nat flow. Default: max_conns.', LIMIT_RANGES.maxNat),
        ring_size: int(
          'Maglev ring size M, entries per service. Must be prime; larger rings balance better (M > 100 x backends per service) and cost 4 bytes per entry per service.',
          LIMIT_RANGES.ringSize,
          DEFAULT_LIMITS.ringSize,
        ),
        conn_rate_limit: int(
          'New flows recorded in the connection table per second per CPU; beyond it flows follow the ring unrecorded, so a SYN flood cannot flush the table (nat flows are always recorded). 0 = unlimited.',
          LIMIT_RANGES.connRateLimit,
          DEFAULT_LIMITS.connRateLimit,
        ),
        flow_cache: int(
          'Flow cache entries per CPU (128 bytes each), 0 or a power of 2: copies of connection-table entries (and of a dr flow\'s next hop) that spare a flow\'s packets the table lookup. Size it well above the flows one CPU carries at once; it takes flow_cache x 128 bytes per possible CPU. 0 = no cache.',
          LIMIT_RANGES.flowCache,
          DEFAULT_LIMITS.flowCache,
        ),
        next_hop_cache: {
          description: 'How long a backend\'s route and neighbour stay cached per CPU, 0s..10s; 0s = a FIB lookup per packet.',
          type: 'string',
          pattern: DURATION_PATTERN,
          default: DEFAULT_NEXT_HOP_CACHE,
        },
      },
    },
    tunnel: {
      description: 'Outer headers of tunnel-mode services (IPIP for IPv4, IP6IP6 for IPv6).',
      type: 'object',
      additionalProperties: false,
      properties: {
        source4: {
          description: "IPv4 outer source address for IPv4 tunnel services. Default: the kernel's choice (the egress interface's address).",
          type: 'string',
          format: 'ipv4',
        },
        source6: {
          description: "IPv6 outer source address for IPv6 tunnel services. Default: the kernel's choice.",
          type: 'string',
          format: 'ipv6',
        },
        source_entropy: {
          description: 'Put the flow hash in the low bits of the outer source address, so backends spread tunnelled flows over their receive queues (RSS).',
          type: 'boolean',
          default: false,
        },
      },
    },
    script_user: {
      $ref: '#/$defs/user',
      description:
        "keepalived's script_user: the user of every command (misc checks, notify_up/notify_down, quorum_up/quorum_down, VRRP scripts and notify commands) without a user of its own. Switching users needs the daemon to run as root. Default: the daemon's user.",
    },
    allow_unsafe_scripts: {
      description:
        'Run commands that a user other than root can change (the file, a directory on its path, a symbolic link on the way or its #! interpreter owned by another user, or writable by group or others). Anyone who can write to them then runs code as the command\'s user, root by default. Default: false (such a config is refused).',
      type: 'boolean',
      default: false,
    },
    services: {
      description: 'Virtual services (VIPs). (address, port, protocol) and names are unique. services, vrrp or both are required: vrrp alone (no services, no interfaces) is a floating address, e.g. for an HAProxy or nginx pair, with no XDP program.',
      type: 'array',
      items: { $ref: '#/$defs/service' },
    },
    vrrp: { $ref: '#/$defs/vrrp', description: 'VRRP instances that move the VIPs between xlb nodes (keepalived vrrp_instance and friends).' },
    bfd: { $ref: '#/$defs/bfd', description: 'BFD sessions (keepalived bfd_instance), followed by VRRP and health checks, or standalone for monitoring.' },
  },
  $defs: {
    ifname: {
      description: 'A Linux interface name: 1..15 characters, no "/", ":" or whitespace.',
      type: 'string',
      pattern: IFNAME_PATTERN.source,
    },
    address: {
      description: 'An IPv4 or IPv6 address.',
      type: 'string',
      anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }],
    },
    interface: {
      description: 'An interface the XDP program is attached to.',
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { $ref: '#/$defs/ifname', description: 'Interface name.' },
        xdp_mode: {
          description: 'native: in the driver (fastest); generic: after the kernel built the skb (any driver, slow); auto: native, falling back to generic.',
          enum: [...XDP_MODES],
          default: DEFAULT_XDP_MODE,
        },
      },
    },
    service: {
      description: 'A virtual service: clients connect to address:port; xlb picks a backend by Maglev hashing and forwards by mode.',
      type: 'object',
      additionalProperties: false,
      required: ['address', 'port', 'mode', 'backends'],
      properties: {
        name: {
          description: 'Unique name, used in logs and metrics labels. Default: <address>:<port|all>/<protocol>, an IPv6 address in brackets.',
          type: 'string',
          minLength: 1,
          maxLength: 128,
        },
        address: { $ref: '#/$defs/address', description: 'The virtual IP address (VIP), IPv4 or IPv6.' },
        port: {
          description: 'The VIP port, or "all" for an all-ports service (an exact port on the same address and protocol wins over "all").',
          oneOf: [int('A port.', PORT_RANGE), { const: 'all' }],
        },
        protocol: { description: 'Transport protocol.', enum: [...PROTOCOLS], default: DEFAULT_PROTOCOL },
        mode: {
          description:
            'dr: direct return, only the destination MAC is rewritten (backends on-link, holding the VIP); tunnel: IPIP/IP6IP6 encapsulation to the backend (which holds the VIP); nat: destination address and port rewritten, replies return through xlb.',
          enum: [...SERVICE_MODES],
        },
        persistence: {
          description: 'Hash the client source address only, so a client reaches the same backend on every connection (like IPVS sh).',
          type: 'boolean',
          default: false,
        },
        backends: {
          description: 'The backends (real servers). May be empty (the service then drops its traffic). (address, port) unique within the service.',
          type: 'array',
          items: { $ref: '#/$defs/backend' },
        },
        health: {
          $ref: '#/$defs/service_health',
          description: "Health-check defaults every backend inherits (timing, options, checks), and the service's quorum.",
        },
        sorry_server: {
          $ref: '#/$defs/sorry_server',
          description: 'Used alone while the quorum is lost (keepalived sorry_server). Not one of the backends.',
        },
      },
      allOf: [
        {
          description: 'nat needs a port to map: "all" is not supported; dr and tunnel backends take no port.',
          if: { required: ['mode'], properties: { mode: { const: 'nat' } } },
          then: { properties: { port: { type: 'integer' } } },
          else: { properties: { backends: { items: NON_NAT_PORT }, sorry_server: NON_NAT_PORT } },
        },
        {
          description: 'target: vip is for dr and tunnel services only.',
          if: { required: ['mode'], properties: { mode: { const: 'nat' } } },
          then: {
            properties: {
              health: { properties: { checks: NOT_VIP_CHECKS } },
              backends: { items: { properties: { health: { properties: { checks: NOT_VIP_CHECKS } } } } },
            },
          },
        },
        {
          description: 'interface is for dr backends only.',
          if: { required: ['mode'], properties: { mode: { enum: ['tunnel', 'nat'] } } },
          then: { properties: { backends: { items: { not: { required: ['interface'] } } } } },
        },
      ],
    },
    backend: {
      description: 'A backend of a service. Same address family as the service.',
      type: 'object',
      additionalProperties: false,
      required: ['address'],
      properties: {
        address: { $ref: '#/$defs/address', description: 'Backend address; same family as the service address.' },
        port: int("nat only: the backend port the VIP's port is mapped to. Default: the VIP's port. dr and tunnel backends receive the VIP's port.", PORT_RANGE),
        weight: int(
          'Maglev weight: the backend\'s share of new flows relative to the others. 0 drains it (its existing flows stay, it gets no new ones).',
          WEIGHT_RANGE,
          DEFAULT_WEIGHT,
        ),
        interface: {
          $ref: '#/$defs/ifname',
          description: 'dr only, informative: the interface the backend is reached on.',
        },
        health: {
          $ref: '#/$defs/backend_health',
          description: "The backend's health checks and options; each key overrides the service's health.",
        },
      },
    },
    duration: {
      description: 'A duration: a number and a unit (us, ms, s, m, h), e.g. 150ms, 2s, 1m30s.',
      type: 'string',
      pattern: DURATION_PATTERN,
    },
    argv: {
      description:
        'A command, run without a shell: a list of strings (argv), or one string split on whitespace where "double quotes" keep spaces. argv[0] is an absolute path, or a name looked up in PATH when the config is loaded. The file, its directories and symbolic links must be owned by root and writable by neither group nor others (see allow_unsafe_scripts).',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string' } },
      ],
    },
    command: {
      description: 'A command (argv: a list, or one string), or { command, user } to run it as another user.',
      oneOf: [
        { $ref: '#/$defs/argv' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['command'],
          properties: {
            command: { $ref: '#/$defs/argv', description: 'The command.' },
            user: { $ref: '#/$defs/user', description: "Run it as this user. Default: script_user, else the daemon's user." },
          },
        },
      ],
    },
    user: {
      description: 'A user: a name or a uid, optionally with :group (a name or a gid): nobody, 65534, nobody:nogroup. It must exist when the config is loaded.',
      oneOf: [{ type: 'string', pattern: USER_SPEC.source }, int('A uid.', HEALTH_RANGES.uid)],
    },
    abs_path: {
      description: 'An absolute file path.',
      type: 'string',
      pattern: '^/',
    },
    service_health: {
      description:
        'Health-check defaults for every backend of the service (each backend inherits them; a backend, then a check, may override), and the quorum: the least live weight for the service to count as up (keepalived quorum).',
      type: 'object',
      additionalProperties: false,
      properties: {
        ...TIMING_PROPERTIES,
        ...BACKEND_OPTION_PROPERTIES,
        quorum: int(
          "Least total weight of live backends for the service to be up; capped at run time to the backends' total weight. While it is lost the sorry server, if any, takes all traffic.",
          HEALTH_RANGES.quorum,
          HEALTH_DEFAULTS.quorum,
        ),
        hysteresis: int(
          'Quorum is gained at quorum + hysteresis and lost below quorum - hysteresis; clamped at run time to quorum - 1.',
          HEALTH_RANGES.hysteresis,
          HEALTH_DEFAULTS.hysteresis,
        ),
        quorum_up: { $ref: '#/$defs/command', description: 'Run when the quorum is gained.' },
        quorum_down: { $ref: '#/$defs/command', description: 'Run when the quorum is lost.' },
        checks: {
          description: 'Checks of every backend that has no checks of its own. A backend is up while all its checks are up; without checks it is always up.',
          type: 'array',
          items: { $ref: '#/$defs/check' },
        },
      },
    },
    backend_health: {
      description: "A backend's health checks and options. Keys not set here come from the service's health.",
      type: 'object',
      additionalProperties: false,
      properties: {
        ...TIMING_PROPERTIES,
        ...BACKEND_OPTION_PROPERTIES,
        notify_up: { $ref: '#/$defs/command', description: 'Run when the backend goes up.' },
        notify_down: { $ref: '#/$defs/command', description: 'Run when the backend goes down.' },
        checks: {
          description: "The backend's checks; replaces the service's list ([] = no checks: always up).",
          type: 'array',
          items: { $ref: '#/$defs/check' },
        },
      },
    },
    check: {
      description:
        'One health check. The keys allowed depend on the type; timing keys override the backend\'s and the service\'s.',
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: {
          description:
            'tcp: connect; http, https: GET; udp: a datagram (and a reply); icmp: echo; dns: a query; smtp: banner and HELO; misc: run a command; file: read a number from a file; bfd: the state of a BFD session.',
          enum: [...CHECK_TYPES],
        },
        ...TIMING_PROPERTIES,
        connect_address: { $ref: '#/$defs/address', description: "Address probed. Default: the backend's." },
        connect_port: int("Port probed. Default: the backend's port (nat), else the service's; required when the service has port: all. Not for icmp.", PORT_RANGE),
        bind_address: { $ref: '#/$defs/address', description: 'Source address of the probe; the same family as the address probed.' },
        bind_interface: { $ref: '#/$defs/ifname', description: 'Bind the probe to this interface (needed for IPv6 link-local addresses).' },
        fwmark: int('SO_MARK on the probe socket, for policy routing; 0 = none.', HEALTH_RANGES.fwmark, HEALTH_DEFAULTS.fwmark),
        target: {
          description:
            "backend: probe the backend's address. vip: probe the VIP and port through the data path to this backend (dr and tunnel services; a check of the service's protocol; no connect_address), which also catches a backend that does not hold the VIP.",
          enum: [...CHECK_TARGETS],
          default: HEALTH_DEFAULTS.target,
        },
        path: {
          description: 'http, https: the request path, starting with "/" (default "/"). file: the absolute path of a file holding an integer (required).',
          type: 'string',
          pattern: '^/',
        },
        host: { description: 'http, https: the Host header. Default: the address probed, and the port unless 80/443.', type: 'string', minLength: 1 },
        http_version: {
          description: 'http, https: 1.0 (as keepalived), or 1.1 with Connection: close.',
          enum: ['1.0', '1.1'],
          default: HEALTH_DEFAULTS.httpVersion,
        },
        status: {
          description: 'http, https: accepted status codes, "200-299 400-499 503" or a list of codes and ranges; each 100..599.',
          oneOf: [
            { type: 'string', pattern: '^[0-9]{3}(-[0-9]{3})?([\\s,]+[0-9]{3}(-[0-9]{3})?)*$' },
            { type: 'integer', minimum: 100, maximum: 599 },
            {
              type: 'array',
              minItems: 1,
              items: { oneOf: [{ type: 'integer', minimum: 100, maximum: 599 }, { type: 'string', pattern: '^[0-9]{3}(-[0-9]{3})?$' }] },
            },
          ],
          default: HEALTH_DEFAULTS.status,
        },
        digest: { description: 'http, https: MD5 of the body, 32 hex digits, as genhash prints it.', type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
        regex: { description: 'http, https: an ECMAScript regular expression the body must match.', type: 'string' },
        regex_no_match: { description: 'http, https: the body must not match regex.', type: 'boolean', default: false },
        max_body: int('http, https: most body bytes read; digest and regex see this prefix.', HEALTH_RANGES.maxBodyBytes, HEALTH_DEFAULTS.maxBodyBytes),
        tls: { $ref: '#/$defs/tls', description: 'https only: TLS options.' },
        payload: { description: 'udp: the datagram, hex bytes. Default: 16 random bytes per attempt.', type: 'string', pattern: '^([0-9a-fA-F]{2})+$' },
        require_reply: { description: 'udp: a reply is required (otherwise only an ICMP error fails). Default: true with expect, else false.', type: 'boolean' },
        expect: {
          description:
            'udp: hex bytes the reply must start with, X = any hex digit ("0aXX"). dns: answers that must all be present (addresses for A/AAAA, names for NS/CNAME/PTR/MX, text otherwise).',
          oneOf: [
            { type: 'string', pattern: '^([0-9a-fA-FxX]{2})+$' },
            { type: 'array', items: { type: 'string', minLength: 1 } },
          ],
        },
        min_reply_length: int('udp: shortest accepted reply, bytes.', HEALTH_RANGES.udpLength, HEALTH_DEFAULTS.minReplyLength),
        max_reply_length: int('udp: longest accepted reply, bytes.', HEALTH_RANGES.udpLength, HEALTH_DEFAULTS.maxReplyLength),
        query_type: { description: 'dns: the record type asked for.', enum: [...DNS_TYPES], default: HEALTH_DEFAULTS.queryType },
        query_name: { description: 'dns: the name asked for.', type: 'string', default: HEALTH_DEFAULTS.queryName },
        helo_name: { description: 'smtp: the name sent with HELO.', type: 'string', default: HEALTH_DEFAULTS.heloName },
        command: { $ref: '#/$defs/argv', description: 'misc (required): the command. Exit 0 = up, 1 = down.' },
        dynamic: {
          description: "misc: exit codes 2..255 mean up, with the backend's weight set to code - 2 (keepalived misc_dynamic).",
          type: 'boolean',
          default: false,
        },
        user: { $ref: '#/$defs/user', description: "misc: run the command as this user (name, uid, or name:group). Default: script_user, else the daemon's user." },
        weight: int(
          "file: the backend's weight becomes the file's number x weight (clamped to 0..65535; negative = down). 0: any number but 0 means down, 0 means up.",
          HEALTH_RANGES.fileWeight,
          HEALTH_DEFAULTS.fileWeight,
        ),
        reverse: { description: "file: use the negated number (keepalived's reverse).", type: 'boolean', default: false },
        name: {
          $ref: '#/$defs/bfd_name',
          description: "bfd (required): the session of bfd.instances; the backend is down while it is not Up (keepalived's BFD_CHECK). Only alpha of the timing keys applies.",
        },
      },
      allOf: CHECK_TYPES.map((t) => ({
        if: { required: ['type'], properties: { type: { const: t } } },
        then: { propertyNames: { enum: [...CHECK_KEYS[t]] }, required: ['type', ...(CHECK_REQUIRED[t] ?? [])] },
      })),
    },
    tls: {
      description: 'TLS options of an https check. The server certificate is verified by default (keepalived never verifies).',
      type: 'object',
      additionalProperties: false,
      properties: {
        verify: { description: 'Verify the certificate chain and name.', type: 'boolean', default: HEALTH_DEFAULTS.tlsVerify },
        ca: { $ref: '#/$defs/abs_path', description: "PEM CA bundle to verify against. Default: the system's CAs." },
        cert: { $ref: '#/$defs/abs_path', description: 'Client certificate (PEM); with key.' },
        key: { $ref: '#/$defs/abs_path', description: 'Client certificate key (PEM); with cert.' },
        server_name: { description: 'SNI and the name verified. Default: host when it is a name.', type: 'string' },
      },
      dependentRequired: { cert: ['key'], key: ['cert'] },
    },
    sorry_server: {
      description: 'The sorry server: takes all traffic while the quorum is lost. Same family as the service.',
      type: 'object',
      additionalProperties: false,
      required: ['address'],
      properties: {
        address: { $ref: '#/$defs/address', description: "The sorry server's address; same family as the service address." },
        port: int("nat only: the port the VIP's port is mapped to. Default: the VIP's port.", PORT_RANGE),
      },
    },
    ...VRRP_DEFS,
    ...BFD_DEFS,
  },
} as const;

/**
 * The committed text of schema/xlb.schema.json: {@link SCHEMA}, two-space
 * indented, with a final newline.
 */
export function renderSchema(): string {
  return `${JSON.stringify(SCHEMA, null, 2)}\n`;
}
