/**
 * @module bfd/spec
 * The BFD protocol's constants and keepalived's defaults and limits, in one
 * place that both sides read: the config format (src/config/) and the
 * protocol code (./codec.ts, ./auth.ts, ./fsm.ts). As src/vrrp/spec.ts is
 * for VRRP.
 *
 * Layer: control plane, pure data. No I/O; imports nothing, so the config
 * can read it without pulling in the state machine or the runtime
 * (test/unit/config/imports.test.ts).
 *
 * Sources: RFC 5880 (BFD), RFC 5881 (single hop), RFC 5883 (multihop),
 * and keepalived's `bfd_instance` (shared/reference/keepalived.md §4).
 */

/** UDP destination port of single-hop control packets (RFC 5881 §4). */
export const BFD_PORT_SINGLE_HOP = 3784;
/** UDP destination port of echo packets (RFC 5881 §4). */
export const BFD_PORT_ECHO = 3785;
/** UDP destination port of multihop control packets (RFC 5883 §5). */
export const BFD_PORT_MULTIHOP = 4784;
/** Source ports of control packets: 49152..65535 (RFC 5881 §4). */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
/** TTL / hop limit single-hop packets are sent with and must arrive with (RFC 5881 §5, GTSM). */
export const BFD_TTL = 255;

/** Protocol version (RFC 5880 §4.1). */
export const BFD_VERSION = 1;
/** Length of the mandatory section, bytes (RFC 5880 §4.1). */
export const BFD_HEADER_LEN = 24;

/** Session states, the 2-bit Sta field (RFC 5880 §4.1). */
export const BFD_STATE = {
  ADMIN_DOWN: 0,
  DOWN: 1,
  INIT: 2,
  UP: 3,
} as const;
export type BfdState = (typeof BFD_STATE)[keyof typeof BFD_STATE];
/** State names as logs, status and metrics show them. */
export const BFD_STATE_NAMES: Readonly<Record<BfdState, string>> = { 0: 'AdminDown', 1: 'Down', 2: 'Init', 3: 'Up' };

/** Diagnostic codes, the 5-bit Diag field (RFC 5880 §4.1). */
export const BFD_DIAG = {
  NONE: 0,
  CONTROL_DETECTION_TIME_EXPIRED: 1,
  ECHO_FUNCTION_FAILED: 2,
  NEIGHBOR_SIGNALED_DOWN: 3,
  FORWARDING_PLANE_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMINISTRATIVELY_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const;
export type BfdDiag = (typeof BFD_DIAG)[keyof typeof BFD_DIAG];
/** Diagnostic names for logs and status (RFC 5880 §4.1 wording, shortened). */
export const BFD_DIAG_NAMES: Readonly<Record<BfdDiag, string>> = {
  0: 'none',
  1: 'control detection time expired',
  2: 'echo function failed',
  3: 'neighbor signaled session down',
  4: 'forwarding plane reset',
  5: 'path down',
  6: 'concatenated path down',
  7: 'administratively down',
  8: 'reverse concatenated path down',
};

/** Flag bits of the second byte (RFC 5880 §4.1): after the 2-bit state. */
export const BFD_FLAG = {
  POLL: 0x20,
  FINAL: 0x10,
  CONTROL_PLANE_INDEPENDENT: 0x08,
  AUTH_PRESENT: 0x04,
  DEMAND: 0x02,
  MULTIPOINT: 0x01,
} as const;

/** Authentication types, the Auth Type field (RFC 5880 §4.1). */
export const BFD_AUTH_TYPE = {
  SIMPLE_PASSWORD: 1,
  KEYED_MD5: 2,
  METICULOUS_KEYED_MD5: 3,
  KEYED_SHA1: 4,
  METICULOUS_KEYED_SHA1: 5,
} as const;
export type BfdAuthType = (typeof BFD_AUTH_TYPE)[keyof typeof BFD_AUTH_TYPE];
/** Config spelling of each authentication type. */
export const BFD_AUTH_TYPE_NAMES: Readonly<Record<BfdAuthType, string>> = {
  1: 'simple',
  2: 'keyed-md5',
  3: 'meticulous-keyed-md5',
  4: 'keyed-sha1',
  5: 'meticulous-keyed-sha1',
};
/** Simple password length, bytes (RFC 5880 §4.2: 1..16). */
export const BFD_PASSWORD_MIN = 1;
export const BFD_PASSWORD_MAX = 16;
/** Keyed MD5 key length, bytes (RFC 5880 §4.3: up to 16, zero-padded). */
export const BFD_MD5_KEY_MAX = 16;
/** Keyed SHA1 key length, bytes (RFC 5880 §4.4: up to 20, zero-padded). */
export const BFD_SHA1_KEY_MAX = 20;
/** Smallest Length of a packet with the A bit: the header and Auth Type, Auth Len (RFC 5880 §6.8.6). */
export const BFD_AUTH_MIN_PACKET_LEN = 26;
/** Auth Len of simple password: Auth Type, Auth Len, Auth Key ID and the password (RFC 5880 §4.2). */
export const BFD_AUTH_LEN_PASSWORD_OVERHEAD = 3;
/** Auth Len of (meticulous) keyed MD5: 4 bytes, the sequence number and a 16-byte digest (RFC 5880 §4.3). */
export const BFD_AUTH_LEN_MD5 = 24;
/** Auth Len of (meticulous) keyed SHA1: 4 bytes, the sequence number and a 20-byte hash (RFC 5880 §4.4). */
export const BFD_AUTH_LEN_SHA1 = 28;
/**
 * Receive window of authentication sequence numbers, in units of the
 * received Detect Mult: 3 x Detect Mult ahead of bfd.RcvAuthSeq
 * (RFC 5880 §6.7.3, §6.7.4).
 */
export const BFD_AUTH_SEQ_WINDOW_MULT = 3;

/** Slow start: the transmit interval while the session is not Up is at least this, µs (RFC 5880 §6.8.3). */
export const BFD_SLOW_TX_US = 1_000_000;
/**
 * bfd.RemoteMinRxInterval before the peer has spoken, and again after a
 * Detection Time without its packets, µs (RFC 5880 §6.8.1, §6.8.18): 1, so the
 * own Desired Min TX decides the rate until the peer says otherwise.
 */
export const BFD_REMOTE_MIN_RX_INITIAL_US = 1;
/**
 * Transmit jitter (RFC 5880 §6.8.7): each periodic interval is the negotiated
 * one times a factor in [MIN, MAX); with a Detect Mult of 1 the factor stays
 * below MAX_MULT1, so the peer's Detection Time (one interval) cannot pass
 * before the next packet arrives. Fractions of the negotiated interval.
 */
export const BFD_JITTER_MIN = 0.75;
export const BFD_JITTER_MAX = 1.0;
export const BFD_JITTER_MAX_MULT1 = 0.9;

// --- keepalived's bfd_instance (shared/reference/keepalived.md §4.1) ---------

/** Longest instance name: BFD_INAME_MAX 32 with its NUL. */
export const BFD_NAME_MAX = 31;
/** min_rx / min_tx default, ms. */
export const BFD_MIN_RX_DEFAULT_MS = 10;
export const BFD_MIN_TX_DEFAULT_MS = 10;
/** min_rx / min_tx: at least 1 ms (µs resolution), at most UINT32_MAX µs. */
export const BFD_INTERVAL_MIN_US = 1_000;
export const BFD_INTERVAL_MAX_US = 0xffff_ffff;
/** keepalived warns above this min_rx / min_tx, ms. */
export const BFD_INTERVAL_WARN_MS = 10_000;
/** idle_tx: the interval while not Up, default and minimum, ms. */
export const BFD_IDLE_TX_DEFAULT_MS = 1000;
export const BFD_IDLE_TX_MIN_MS = 1000;
/** Detection multiplier: default, range, and keepalived's warning threshold. */
export const BFD_MULTIPLIER_DEFAULT = 5;
export const BFD_MULTIPLIER_MIN = 1;
export const BFD_MULTIPLIER_MAX = 255;
export const BFD_MULTIPLIER_WARN = 10;
/** Outgoing TTL (IPv4) and hop limit (IPv6) defaults. */
export const BFD_TTL_DEFAULT_V4 = 255;
export const BFD_HOPLIMIT_DEFAULT_V6 = 64;
/** max_hops: -1..255, default 0; 255 disables the check. */
export const BFD_MAX_HOPS_MIN = -1;
export const BFD_MAX_HOPS_MAX = 255;
export const BFD_MAX_HOPS_DEFAULT = 0;
/** track_bfd / instance weight range. */
export const BFD_WEIGHT_MIN = -253;
export const BFD_WEIGHT_MAX = 253;

// --- xlb's own keywords (beyond keepalived) -----------------------------------

/**
 * Echo transmit interval when `echo.interval` is not written, ms: FRR bfdd's
 * `echo-interval` default. The echo function has no keepalived default
 * (keepalived has no echo).
 */
export const BFD_ECHO_INTERVAL_DEFAULT_MS = 50;
/** Echo transmit interval: at least 1 ms (the goal), at most UINT32_MAX µs (the Required Min Echo RX field). */
export const BFD_ECHO_INTERVAL_MIN_US = 1_000;
export const BFD_ECHO_INTERVAL_MAX_US = 0xffff_ffff;
/**
 * max_hops of a multihop session that does not set it: 255, no TTL check
 * (RFC 5883 §2 leaves the hop count to the operator; keepalived's 0 would
 * drop every packet that crossed a router).
 */
export const BFD_MAX_HOPS_MULTIHOP_DEFAULT = 255;
/** Authentication key ID range (RFC 5880 §4.1: Auth Key ID, 8 bits). */
export const BFD_AUTH_KEY_ID_MIN = 0;
export const BFD_AUTH_KEY_ID_MAX = 255;
