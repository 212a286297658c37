/**
 * @module config/model
 * The typed, validated configuration of one xlb instance: what
 * {@link ../config/load.js} produces from YAML and what the daemon, the
 * reconciler and the CLI consume. Also the defaults and value ranges that the
 * loader, the JSON Schema (src/config/schema.ts) and the docs share.
 *
 * Layer: control plane, pure data. No I/O; imports only the health-check
 * model's types (src/health/spec.ts), which a service and a backend carry.
 *
 * Naming: the YAML format is snake_case (`xdp_mode`), the model camelCase
 * (`xdpMode`). Every address in the model is canonical text (IPv4 dotted
 * quad, IPv6 RFC 5952 compressed lowercase), so equal addresses compare equal.
 */

import type { BackendHealthSpec, CheckTiming, ServiceHealthSpec, SorryServerSpec } from '../health/spec.js';
import type { IntRange, SourceLoc } from './fields.js';
import type { BfdConfig } from './bfd-model.js';
import type { VrrpConfig } from './vrrp-model.js';

// the types and pattern of the checking machinery, for the model's users
export { IFNAME_PATTERN, type IntRange, type SourceLoc } from './fields.js';

/** Log levels, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
/** Log output: one JSON object per line, or human-readable lines. */
export type LogFormat = 'json' | 'pretty';
/** How the XDP program is attached: driver (native), skb (generic), or native with a fallback to generic (auto). */
export type XdpMode = 'native' | 'generic' | 'auto';
/** Forwarding mode of a virtual service. */
export type ServiceMode = 'dr' | 'tunnel' | 'nat';
/** Transport protocol of a virtual service. */
export type Protocol = 'tcp' | 'udp';

/** Accepted values of the enum-valued keys, in documentation order. */
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
/** Accepted `log.format` values. */
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
/** Accepted `interfaces[].xdp_mode` values. */
export const XDP_MODES: readonly XdpMode[] = ['native', 'generic', 'auto'];
/** Accepted `services[].mode` values. */
export const SERVICE_MODES: readonly ServiceMode[] = ['dr', 'tunnel', 'nat'];
/** Accepted `services[].protocol` values. */
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];

/** The whole validated configuration of one xlb instance. */
export interface XlbConfig {
  /** The file the config was read from (as given; used in messages). */
  file: string;
  /** Instance name: names the pin directory /sys/fs/bpf/xlb/<instance>/ and the socket /run/xlb/<instance>.sock. */
  instance: string;
  /**
   * Interfaces the XDP program is attached to (names unique). Empty only when
   * the file has no `interfaces` (which a file with `services` must have):
   * then no XDP program is loaded and nothing is pinned (a VRRP-only config).
   */
  interfaces: InterfaceConfig[];
  /** Prometheus endpoint. */
  metrics: {
    /** Listen address: an IP address (canonical) or a host name. */
    host: string;
    /** Listen port, 1..65535. */
    port: number;
  };
  /** Logging. */
  log: {
    /** Least severe level written. */
    level: LogLevel;
    /** Output format. */
    format: LogFormat;
  };
  /** Map sizes and data-path knobs, fixed at load time. */
  limits: Limits;
  /** Outer headers of tunnel-mode services. */
  tunnel: {
    /** IPv4 outer source address for IPv4 tunnel VIPs; absent = the kernel's choice. */
    source4?: string;
    /** IPv6 outer source address for IPv6 tunnel VIPs; absent = the kernel's choice. */
    source6?: string;
    /** Put the flow hash in the low bits of the outer source address (RSS entropy on the backend). */
    sourceEntropy: boolean;
  };
  /** Who runs the commands (misc checks, notify, quorum, VRRP scripts), and their security check; absent = neither key written (the defaults). */
  scripts?: {
    /** `script_user`: the user of every command without its own `user` (`name[:group]` or a uid); absent = the daemon's. */
    user?: string;
    /**
     * `allow_unsafe_scripts`: skip the ownership and mode check of commands
     * (a command that a non-root user can change then runs as root). Default false.
     */
    allowUnsafe: boolean;
  };
  /** Virtual services, in file order (none in a VRRP-only config). */
  services: ServiceConfig[];
  /** VRRP instances, sync groups and trackers (./vrrp-model.ts); absent when the file has no `vrrp` key. */
  vrrp?: VrrpConfig;
  /** BFD sessions (./bfd-model.ts); absent when the file has no `bfd` key. */
  bfd?: BfdConfig;
}

/** One interface the XDP program is attached to. */
export interface InterfaceConfig {
  /** Linux interface name (1..15 characters). */
  name: string;
  /** Attach mode. */
  xdpMode: XdpMode;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** Map sizes and data-path knobs. Changing any of them needs a reload of the BPF object. */
export interface Limits {
  /** Most virtual services (xlb_vips, xlb_stats_vip entries), 1..65535. */
  maxVips: number;
  /** Size of the backend table; backend ids are 1..maxBackends - 1 (0 means "none"). */
  maxBackends: number;
  /** IPv4 connection-table entries (LRU). */
  maxConns: number;
  /** IPv6 connection-table entries (LRU); defaults to maxConns. */
  maxConns6: number;
  /** NAT reverse entries (LRU); defaults to maxConns. */
  maxNat: number;
  /** Maglev ring size M, entries per VIP; prime. */
  ringSize: number;
  /** New flows recorded in the connection table per second per CPU; 0 = unlimited. */
  connRateLimit: number;
  /** Flow cache entries per CPU, a power of 2; 0 = no flow cache. */
  flowCache: number;
  /** Lifetime of a cached next hop, milliseconds; 0 = a FIB lookup per packet. */
  nextHopCacheMs: number;
}

/** One virtual service (VIP). */
export interface ServiceConfig {
  /** Unique name; default `<address>:<port|all>/<protocol>` (IPv6 address in brackets). */
  name: string;
  /** VIP address, canonical text. */
  address: string;
  /** Address family of {@link address}. */
  family: 4 | 6;
  /** VIP port 1..65535; 0 = all ports. */
  port: number;
  /** Transport protocol. */
  protocol: Protocol;
  /** Forwarding mode. */
  mode: ServiceMode;
  /** Hash the client source address only, so a client sticks to one backend across connections. */
  persistence: boolean;
  /** Backends, in file order (may be empty). */
  backends: BackendConfig[];
  /** Quorum of the service (`services[].health`); defaults filled when absent. */
  health: ServiceHealthSpec;
  /** Used alone while the quorum is lost; same family as the service, never one of its backends. */
  sorryServer?: SorryServerSpec;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** One backend (real server) of a service. */
export interface BackendConfig {
  /** Backend address, canonical text; same family as the service. */
  address: string;
  /** Destination port (nat only); 0 = the VIP's port. */
  port: number;
  /** Maglev weight 0..65535; 0 drains the backend (existing flows stay, no new ones). */
  weight: number;
  /** dr only: the interface the backend is reached on (informative). */
  interface?: string;
  /**
   * Health checks and their options, inheritance resolved (check over backend
   * over service over defaults). No checks = always up.
   */
  health: BackendHealthSpec;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** Default instance name. */
export const DEFAULT_INSTANCE = 'default';
/** Default `interfaces[].xdp_mode`. */
export const DEFAULT_XDP_MODE: XdpMode = 'native';
/** Default metrics listener: loopback only, so /metrics is not exposed by accident. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9901';
/** Default log level. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/** Default log format. */
export const DEFAULT_LOG_FORMAT: LogFormat = 'json';
/** Default `services[].protocol`. */
export const DEFAULT_PROTOCOL: Protocol = 'tcp';
/** Default backend weight. */
export const DEFAULT_WEIGHT = 1;
/** Default `limits.next_hop_cache`, as written in YAML (100 ms = 25 jiffies at HZ=250, the data path's default). */
export const DEFAULT_NEXT_HOP_CACHE = '100ms';

/**
 * Defaults of {@link Limits}. `maxConns6` and `maxNat` default to the
 * configured `maxConns`, not to this table's value.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  /** VIP table entries: Katran's MAX_VIPS. */
  maxVips: 512,
  /** backend table entries (ids 1..4095). */
  maxBackends: 4096,
  /** 1 Mi IPv4 connection entries. */
  maxConns: 1_048_576,
  maxConns6: 1_048_576,
  maxNat: 1_048_576,
  /** Maglev M, prime, as Katran and Cilium. */
  ringSize: 65_537,
  /** new flows per second per CPU, Katran's MAX_CONN_RATE. */
  connRateLimit: 125_000,
  /** 16 Ki entries of 128 bytes: 2 MiB per CPU. */
  flowCache: 16_384,
  /** milliseconds. */
  nextHopCacheMs: 100,
});

/** Accepted ranges of the `limits` keys (`nextHopCacheMs` in milliseconds). */
export const LIMIT_RANGES: Readonly<Record<keyof Limits, IntRange>> = Object.freeze({
  /** the VIP id is a u16 slot. */
  maxVips: { min: 1, max: 65_535 },
  /** at least one backend id besides the reserved 0. */
  maxBackends: { min: 2, max: 1_048_576 },
  /** 1 Ki .. 64 Mi entries (2^26). */
  maxConns: { min: 1024, max: 1 << 26 },
  maxConns6: { min: 1024, max: 1 << 26 },
  maxNat: { min: 1024, max: 1 << 26 },
  /** primes only; 16777213 is the largest prime ≤ 2^24 (src/lb/maglev.ts MAX_RING_SIZE). */
  ringSize: { min: 3, max: 16_777_213 },
  /** a u32 in the data path. */
  connRateLimit: { min: 0, max: 4_294_967_295 },
  /** 0 or a power of 2 up to 2^24 (1 GiB per CPU). */
  flowCache: { min: 0, max: 1 << 24 },
  /** 0 s .. 10 s. */
  nextHopCacheMs: { min: 0, max: 10_000 },
});

/** Port range of VIPs and nat backends. */
export const PORT_RANGE: IntRange = { min: 1, max: 65_535 };
/** Backend weight range (ipvsadm's). */
export const WEIGHT_RANGE: IntRange = { min: 0, max: 65_535 };

/**
 * Accepted ranges of the health-check timing keys (durations in
 * milliseconds). `timeout` is bounded on its own, not by `interval`.
 */
export const CHECK_TIMING_RANGES: Readonly<Record<Exclude<keyof CheckTiming, 'alpha'>, IntRange>> = Object.freeze({
  /** 1 ms .. 1 h. */
  intervalMs: { min: 1, max: 3_600_000 },
  /** 1 ms .. 5 min. */
  timeoutMs: { min: 1, max: 300_000 },
  retries: { min: 0, max: 100 },
  /** 0 s .. 1 h. */
  retryDelayMs: { min: 0, max: 3_600_000 },
  rise: { min: 1, max: 100 },
  fall: { min: 1, max: 100 },
  /** 0 s .. 1 h; 0 = the first round starts at once. */
  warmupMs: { min: 0, max: 3_600_000 },
});

/** Accepted ranges of the other health keys. */
export const HEALTH_RANGES = Object.freeze({
  /** `slow_start`, milliseconds: 0 s .. 1 h. */
  slowStartMs: { min: 0, max: 3_600_000 },
  /** `quorum`: a live weight, u32 (keepalived 1..UINT_MAX); capped at run time to the backends' total weight. */
  quorum: { min: 1, max: 4_294_967_295 },
  /** `hysteresis`: clamped at run time to quorum - 1. */
  hysteresis: { min: 0, max: 4_294_967_295 },
  /** `fwmark`: SO_MARK is a u32. */
  fwmark: { min: 0, max: 4_294_967_295 },
  /** `max_body`, bytes: 0 (status only) .. 64 MiB. */
  maxBodyBytes: { min: 0, max: 64 * 1024 * 1024 },
  /** `min_reply_length`, `max_reply_length`, and the payload: a UDP datagram's payload over IPv4. */
  udpLength: { min: 0, max: 65_507 },
  /** file check `weight`: value x weight becomes the backend's weight (clamped to 0..65535). */
  fileWeight: { min: -65_535, max: 65_535 },
  /** misc `user` given as a uid. */
  uid: { min: 0, max: 4_294_967_294 },
} satisfies Record<string, IntRange>);

/** Defaults of the health keys that have one (CheckTiming defaults: src/health/spec.ts DEFAULT_CHECK_TIMING). */
export const HEALTH_DEFAULTS = Object.freeze({
  quorum: 1,
  hysteresis: 0,
  inhibitOnFailure: false,
  slowStartMs: 0,
  fwmark: 0,
  target: 'backend',
  path: '/',
  httpVersion: '1.0',
  /** As written in YAML. */
  status: '200-299',
  maxBodyBytes: 1_048_576,
  tlsVerify: true,
  minReplyLength: 0,
  maxReplyLength: 65_507,
  queryType: 'SOA',
  queryName: '.',
  heloName: 'xlb.healthcheck',
  fileWeight: 1,
} as const);

/** The health of a service without a `health` key: quorum 1, no hysteresis, no commands. */
export function defaultServiceHealth(): ServiceHealthSpec {
  return { quorum: HEALTH_DEFAULTS.quorum, hysteresis: HEALTH_DEFAULTS.hysteresis };
}

/** The health of a backend without checks: always up. */
export function defaultBackendHealth(): BackendHealthSpec {
  return { checks: [], inhibitOnFailure: HEALTH_DEFAULTS.inhibitOnFailure, slowStartMs: HEALTH_DEFAULTS.slowStartMs };
}

/**
 * What the root needs besides its keys' own checks: something to run
 * (services to balance, or VRRP alone: keepalived's floating address for an
 * HAProxy or nginx pair), BFD alone (standalone sessions: monitoring, their
 * state in status and /metrics), and interfaces for the XDP program when
 * there are services. The loader (load.ts) and the JSON Schema (schema.ts) read it.
 */
export const ROOT_NEEDS = {
  /** `services`, `vrrp`, `bfd`, or any of them together. */
  anyOf: ['services', 'vrrp', 'bfd'],
  /** key -> the keys it needs. */
  dependentRequired: { services: ['interfaces'] },
  /** The messages, after "missing required key". */
  why: {
    services: 'a config balances services, runs vrrp alone (a floating address, as keepalived -P does), runs bfd sessions alone (monitoring), or any of these',
    interfaces: 'the XDP program that forwards the services is attached to these interfaces',
  },
} as const;

/**
 * Whether a config needs the XDP data plane: it names interfaces to run it
 * on (which every config with services does). Without (a VRRP-only config)
 * no program is loaded and nothing is pinned. A config with interfaces and
 * `services: []` keeps the program attached with no VIP: forwarding stops,
 * the pins (connection table included) stay for services added back.
 */
export function needsDataplane(config: Pick<XlbConfig, 'interfaces'>): boolean {
  return config.interfaces.length > 0;
}

/** Instance names: they become path components and socket names. */
export const INSTANCE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/**
 * The stable identity of a service, used by the reconciler to match old and
 * new configs: `${address}|${port}|${protocol}`.
 * @param s a service (canonical address)
 * @returns the key, e.g. `10.9.0.1|80|tcp`
 */
export function serviceKey(s: Pick<ServiceConfig, 'address' | 'port' | 'protocol'>): string {
  return `${s.address}|${s.port}|${s.protocol}`;
}

/**
 * The identity of a backend within a service: `${address}:${port}`. This is
 * the Maglev key the ring's permutation derives from, so it must not change
 * while the backend does not.
 * @param b a backend (canonical address; port 0 = the VIP's)
 * @returns the key, e.g. `10.0.0.10:0`
 */
export function backendKey(b: Pick<BackendConfig, 'address' | 'port'>): string {
  return `${b.address}:${b.port}`;
}

/**
 * An address and port as people write them: `10.0.0.1:80`, `[fd00::1]:80`.
 * @param address canonical address
 * @param port a port, or `all` / undefined (address alone)
 */
export function formatHostPort(address: string, port?: number | 'all'): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? address : `${host}:${port}`;
}

/**
 * The default name of a service: `<address>:<port|all>/<protocol>`, IPv6
 * addresses in brackets (`[fd99::10]:80/tcp`).
 * @param s a service (canonical address; port 0 = all)
 */
export function defaultServiceName(s: Pick<ServiceConfig, 'address' | 'port' | 'protocol'>): string {
  return `${formatHostPort(s.address, s.port === 0 ? 'all' : s.port)}/${s.protocol}`;
}
