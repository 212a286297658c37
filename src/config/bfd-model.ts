/**
 * @module config/bfd-model
 * The typed, validated `bfd:` part of the configuration (keepalived's
 * `bfd_instance`, plus xlb's own `auth` and `echo`): what ./bfd.ts produces
 * from YAML and what the BFD runtime, its reload logic and the CLI consume.
 * Also the defaults and value ranges that the parser, the JSON Schema
 * (./schema.ts) and the docs share.
 *
 * Layer: control plane, pure data. No I/O; imports only the protocol's
 * constants (src/bfd/spec.ts), never the FSM, the codec or the runtime.
 *
 * Every default is resolved. Intervals are in wire units, whole
 * microseconds, as src/bfd/fsm.ts BfdSessionConfig takes them (keepalived
 * has µs resolution): `min_tx: 10ms` is `minTxUs: 10000`. Addresses are
 * canonical text, as in ./model.ts.
 */

import type { IntRange, SourceLoc } from './fields.js';
import {
  BFD_AUTH_KEY_ID_MAX,
  BFD_AUTH_KEY_ID_MIN,
  BFD_AUTH_TYPE_NAMES,
  BFD_ECHO_INTERVAL_DEFAULT_MS,
  BFD_ECHO_INTERVAL_MAX_US,
  BFD_ECHO_INTERVAL_MIN_US,
  BFD_IDLE_TX_DEFAULT_MS,
  BFD_IDLE_TX_MIN_MS,
  BFD_INTERVAL_MAX_US,
  BFD_INTERVAL_MIN_US,
  BFD_MAX_HOPS_DEFAULT,
  BFD_MAX_HOPS_MAX,
  BFD_MAX_HOPS_MIN,
  BFD_MAX_HOPS_MULTIHOP_DEFAULT,
  BFD_MD5_KEY_MAX,
  BFD_MIN_RX_DEFAULT_MS,
  BFD_MIN_TX_DEFAULT_MS,
  BFD_MULTIPLIER_DEFAULT,
  BFD_MULTIPLIER_MAX,
  BFD_MULTIPLIER_MIN,
  BFD_NAME_MAX,
  BFD_PASSWORD_MAX,
  BFD_PASSWORD_MIN,
  BFD_SHA1_KEY_MAX,
  BFD_TTL,
  BFD_TTL_DEFAULT_V4,
  BFD_HOPLIMIT_DEFAULT_V6,
  BFD_WEIGHT_MAX,
  BFD_WEIGHT_MIN,
  type BfdAuthType,
} from '../bfd/spec.js';

/** Config spelling of an authentication type (src/bfd/spec.ts BFD_AUTH_TYPE_NAMES). */
export type BfdAuthTypeName = 'simple' | 'keyed-md5' | 'meticulous-keyed-md5' | 'keyed-sha1' | 'meticulous-keyed-sha1';

/** Accepted `auth.type` values, in the RFC's order (Auth Type 1..5). */
export const BFD_AUTH_TYPES: readonly BfdAuthTypeName[] = Object.values(BFD_AUTH_TYPE_NAMES) as BfdAuthTypeName[];

/** Auth Type number of each config spelling. */
export const BFD_AUTH_TYPE_BY_NAME: Readonly<Record<BfdAuthTypeName, BfdAuthType>> = Object.freeze(
  Object.fromEntries(Object.entries(BFD_AUTH_TYPE_NAMES).map(([n, name]) => [name, Number(n)])) as Record<BfdAuthTypeName, BfdAuthType>,
);

/** The whole `bfd:` section. */
export interface BfdConfig {
  /**
   * SCHED_FIFO priority of the BFD worker thread, 1..99; 0 = normal
   * scheduling (keepalived `bfd_rt_priority`, off by default there; xlb
   * defaults to 1, as VRRP's `rt_priority`, so 10 ms timers hold while the
   * machine is busy).
   */
  rtPriority: number;
  /** Sessions (keepalived `bfd_instance`), in file order; names unique, demux keys unique. */
  instances: BfdInstanceConfig[];
}

/** A session's authentication (RFC 5880 §6.7; keepalived has none). */
export interface BfdAuthInstanceConfig {
  /** bfd.AuthType, as the config spells it. */
  type: BfdAuthTypeName;
  /** Auth Type number, 1..5 (RFC 5880 §4.1). */
  typeNumber: BfdAuthType;
  /** Auth Key ID, 0..255. */
  keyId: number;
  /**
   * The password or key, its length checked for the type (simple 1..16
   * bytes, MD5 1..16, SHA1 1..20). Written inline (`secret`), or read from
   * `secretFile` by loadConfigFile (./bfd-secret.ts); absent only in what
   * the pure parseConfig returns for a `secret_file`.
   */
  secret?: Uint8Array;
  /** `secret_file`: absolute path of the file holding the secret (its bytes, one trailing newline dropped). */
  secretFile?: string;
  /** Where the `secret_file` value is written, for the load-time check's errors. */
  secretFileLoc?: SourceLoc;
}

/** Echo function (RFC 5880 §6.4, RFC 5881 §4; keepalived has none). Single hop only. */
export interface BfdEchoConfig {
  /** Send own echo packets towards the peer (when it advertises a non-zero Required Min Echo RX). */
  enabled: boolean;
  /** Transmit interval of own echo packets, µs, >= 1 ms. */
  intervalUs: number;
  /**
   * XDP reflects this peer's echo packets (UDP 3785) back to it. The
   * advertised Required Min Echo RX Interval is non-zero only while this is on.
   */
  reflect: boolean;
}

/** One session (keepalived `bfd_instance`), every default resolved. */
export interface BfdInstanceConfig {
  /** Unique name, 1..31 characters (BFD_INAME_MAX); track_bfd, `type: bfd` checks and bfd_peer use it. */
  name: string;
  /** The peer, canonical text. */
  neighborIp: string;
  /** Local address packets are sent from, canonical text; the neighbor's family. Required for multihop. */
  sourceIp?: string;
  /** Address family of the session. */
  family: 4 | 6;
  /** Required Min RX Interval, µs, 1 ms..2^32-1 µs (keepalived `min_rx`). */
  minRxUs: number;
  /** Desired Min TX Interval while Up, µs, 1 ms..2^32-1 µs (keepalived `min_tx`). */
  minTxUs: number;
  /** Desired Min TX Interval while not Up, µs, >= 1 s (keepalived `idle_tx`). */
  idleTxUs: number;
  /** Detect Mult, 1..255. */
  multiplier: number;
  /** Send nothing until the peer has spoken. */
  passive: boolean;
  /** RFC 5883 multihop: UDP 4784 instead of 3784. */
  multihop: boolean;
  /** Outgoing TTL (IPv4) or hop limit (IPv6): 255 for single hop (RFC 5881 §5); multihop default 255 (IPv4) / 64 (IPv6). */
  ttl: number;
  /**
   * keepalived's GTSM rule: a packet is dropped when its TTL + maxHops <
   * {@link ttl} (keepalived assumes both ends send the same TTL). -1..255;
   * 255 disables the check.
   * Default 0 for single hop (RFC 5881 §5: only TTL 255 is accepted), 255 for multihop.
   */
  maxHops: number;
  /** Default weight of `track_bfd` references, -253..253 (0 = FAULT while down). */
  weight: number;
  /** Default `reverse` of `track_bfd` references: the adjustment (or FAULT) applies while the session is Up. */
  reverse: boolean;
  /** Authentication; absent = none (keepalived's only mode). */
  auth?: BfdAuthInstanceConfig;
  /** Echo function. */
  echo: BfdEchoConfig;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** Defaults of instance keys that have one. */
export const BFD_DEFAULTS = Object.freeze({
  rtPriority: 1,
  minRxUs: BFD_MIN_RX_DEFAULT_MS * 1000,
  minTxUs: BFD_MIN_TX_DEFAULT_MS * 1000,
  idleTxUs: BFD_IDLE_TX_DEFAULT_MS * 1000,
  multiplier: BFD_MULTIPLIER_DEFAULT,
  passive: false,
  multihop: false,
  /** Single hop, both families: RFC 5881 §5. */
  ttlSingleHop: BFD_TTL,
  ttlMultihopV4: BFD_TTL_DEFAULT_V4,
  ttlMultihopV6: BFD_HOPLIMIT_DEFAULT_V6,
  maxHopsSingleHop: BFD_MAX_HOPS_DEFAULT,
  maxHopsMultihop: BFD_MAX_HOPS_MULTIHOP_DEFAULT,
  weight: 0,
  reverse: false,
  echoEnabled: false,
  echoIntervalUs: BFD_ECHO_INTERVAL_DEFAULT_MS * 1000,
  echoReflect: false,
});

/** Ranges of the BFD keys (intervals in µs). */
export const BFD_RANGES = Object.freeze({
  rtPriority: { min: 0, max: 99 },
  nameLength: { min: 1, max: BFD_NAME_MAX },
  intervalUs: { min: BFD_INTERVAL_MIN_US, max: BFD_INTERVAL_MAX_US },
  idleTxUs: { min: BFD_IDLE_TX_MIN_MS * 1000, max: BFD_INTERVAL_MAX_US },
  echoIntervalUs: { min: BFD_ECHO_INTERVAL_MIN_US, max: BFD_ECHO_INTERVAL_MAX_US },
  multiplier: { min: BFD_MULTIPLIER_MIN, max: BFD_MULTIPLIER_MAX },
  ttl: { min: 1, max: 255 },
  maxHops: { min: BFD_MAX_HOPS_MIN, max: BFD_MAX_HOPS_MAX },
  weight: { min: BFD_WEIGHT_MIN, max: BFD_WEIGHT_MAX },
  keyId: { min: BFD_AUTH_KEY_ID_MIN, max: BFD_AUTH_KEY_ID_MAX },
} satisfies Record<string, IntRange>);

/** Secret length in bytes per authentication type (RFC 5880 §4.2-4.4). */
export function bfdSecretRange(type: BfdAuthTypeName): IntRange {
  if (type === 'simple') return { min: BFD_PASSWORD_MIN, max: BFD_PASSWORD_MAX };
  return { min: 1, max: type.endsWith('md5') ? BFD_MD5_KEY_MAX : BFD_SHA1_KEY_MAX };
}

/**
 * Instance names: 1..31 characters (keepalived BFD_INAME_MAX 32 with the
 * NUL) of letters, digits, `_`, `.`, `:` and `-`, starting with a letter or
 * digit (VRRP's name characters: they appear in logs, metrics labels and
 * status).
 */
export const BFD_NAME_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,${BFD_NAME_MAX - 1}}$`);

/**
 * The demultiplexing key of a session when the peer's packets carry Your
 * Discriminator 0 (keepalived, RFC 5881 §3): (neighbor, source, multihop).
 * Two sessions with one key could not be told apart.
 * @param s a resolved instance
 * @returns e.g. `10.0.0.2|10.0.0.1|single`; the source `*` when absent
 */
export function bfdDemuxKey(s: Pick<BfdInstanceConfig, 'neighborIp' | 'sourceIp' | 'multihop'>): string {
  return `${s.neighborIp}|${s.sourceIp ?? '*'}|${s.multihop ? 'multi' : 'single'}`;
}

/**
 * What references to a session (VRRP `track_bfd` and `bfd_peer`, `type: bfd`
 * checks) need to know of it, by name. `value` is null when the entry named
 * it but did not parse: a reference to it is not reported a second time.
 */
export interface BfdRef {
  value: Pick<BfdInstanceConfig, 'weight' | 'reverse' | 'neighborIp' | 'family'> | null;
  /** Where the entry starts. */
  at: SourceLoc;
}

/** The sessions by name, for the parsers that reference them. */
export type BfdNames = ReadonlyMap<string, BfdRef>;
