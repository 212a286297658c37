/**
 * @module health/spec
 * The validated description of health checks: what the config loader
 * (src/config/load.ts) produces under `services[].health` and
 * `services[].backends[].health`, and what the probes (src/health/probes/)
 * and the state machines (src/health/fsm.ts) consume.
 *
 * Layer: control plane, pure data. No I/O; imports nothing.
 *
 * Inheritance (keepalived's VS -> RS -> checker): a key set on a check wins
 * over the backend's `health`, which wins over the service's `health`, which
 * wins over the defaults below. The loader resolves it, so every
 * {@link CheckSpec} here is complete.
 *
 * Durations are milliseconds (fractional allowed: `500us` = 0.5).
 */

/** The ids a command switches to (src/security/command.ts RunAs; spec modules import nothing). */
export interface CommandIds {
  uid: number;
  gid: number;
}

/**
 * A command as the config holds it: argv (never a shell), its `user`, and
 * what the load-time check resolved (the same shape as
 * src/security/command.ts ScriptCommand).
 */
export interface CommandSpec {
  /** argv as written. */
  argv: string[];
  /** Run as (`name`, uid, `name:group`); absent = `script_user`, else the daemon's user. */
  user?: string;
  /** The executable argv[0] resolved to at load. */
  path?: string;
  /** The ids it switches to, resolved at load; absent = the daemon's. */
  runAs?: CommandIds;
}

/** Checker types, in documentation order. */
export type CheckType = 'tcp' | 'http' | 'https' | 'udp' | 'icmp' | 'dns' | 'smtp' | 'misc' | 'file' | 'bfd';
/** Accepted `checks[].type` values. */
export const CHECK_TYPES: readonly CheckType[] = ['tcp', 'http', 'https', 'udp', 'icmp', 'dns', 'smtp', 'misc', 'file', 'bfd'];

/** Where a network check is sent: the backend's own address, or the VIP through the data path to that backend. */
export type CheckTarget = 'backend' | 'vip';
/** Accepted `checks[].target` values. */
export const CHECK_TARGETS: readonly CheckTarget[] = ['backend', 'vip'];

/** Timing and counting of one check (keepalived's common checker options, plus rise/fall). */
export interface CheckTiming {
  /** Time between the starts of two check rounds (keepalived `delay_loop`). */
  intervalMs: number;
  /** Time one attempt may take (keepalived `connect_timeout`; for misc, `misc_timeout`). */
  timeoutMs: number;
  /** Extra attempts in a round after a failed one (keepalived `retry`); the round fails when all fail. */
  retries: number;
  /** Gap between a failed attempt and its retry (keepalived `delay_before_retry`). */
  retryDelayMs: number;
  /** Consecutive successful rounds that bring a down check up (keepalived: always 1). */
  rise: number;
  /** Consecutive failed rounds that bring an up check down (keepalived: 1, counting retries inside the round). */
  fall: number;
  /** The first round starts at a random time in [0, warmupMs] (keepalived `warmup`, default its delay_loop); 0 = at once. */
  warmupMs: number;
  /** Start down, until the first successful round (keepalived `alpha`); otherwise start up. */
  alpha: boolean;
}

/** Fields every network check has. */
export interface NetCheckBase extends CheckTiming {
  /** Address probed; default the backend's. Canonical text. (keepalived `connect_ip`) */
  connectAddress?: string;
  /** Port probed; default the backend's port, else the service's port. (keepalived `connect_port`) */
  connectPort?: number;
  /** Source address of the probe; same family as the target. (keepalived `bindto`) */
  bindAddress?: string;
  /** Interface the probe is bound to (SO_BINDTODEVICE); needed for IPv6 link-local targets. (keepalived `bind_if`) */
  bindInterface?: string;
  /** SO_MARK on the probe socket, for policy routing; 0 = none. (keepalived `fwmark`) */
  fwmark: number;
  /**
   * `backend`: probe connectAddress (the backend). `vip`: probe the service's
   * VIP and port through the data path to this backend (encapsulated for
   * tunnel, to the backend's MAC for dr), which catches a backend that does not
   * hold the VIP. Only for tunnel and dr services.
   */
  target: CheckTarget;
}

/** TCP connect within the timeout. */
export interface TcpCheckSpec extends NetCheckBase {
  type: 'tcp';
}

/** An inclusive range of HTTP status codes. */
export interface StatusRange {
  min: number;
  max: number;
}

/** HTTP GET (and HTTPS GET). Success = status in `status`, and digest and regex (when set) match. */
export interface HttpCheckSpec extends NetCheckBase {
  type: 'http' | 'https';
  /** Request path, starting with `/`. Default `/`. */
  path: string;
  /** Host header (and default SNI); default the connect address (`[v6]` bracketed) and port when not 80/443. */
  host?: string;
  /** `1.0` (keepalived's default), or `1.1` with `Connection: close`. */
  httpVersion: '1.0' | '1.1';
  /** Accepted status codes; default 200-299. */
  status: StatusRange[];
  /** MD5 of the body, 32 lowercase hex digits (keepalived `digest`, as genhash prints it). */
  digest?: string;
  /** ECMAScript regex source the body must match (or must not, with regexNoMatch). */
  regex?: string;
  /** Invert `regex`: the body must not match. */
  regexNoMatch: boolean;
  /** Most body bytes read (the rest is not read; digest/regex see this prefix). Default 1 MiB. */
  maxBodyBytes: number;
  /** https only. */
  tls?: TlsSpec;
}

/** TLS options of an https check. Verification is on by default (keepalived never verifies). */
export interface TlsSpec {
  /** Verify the server certificate chain and name. Default true. */
  verify: boolean;
  /** PEM CA bundle file to verify against; default the system CAs. */
  caFile?: string;
  /** Client certificate (PEM file), with certKeyFile. */
  certFile?: string;
  /** Client certificate key (PEM file). */
  keyFile?: string;
  /** SNI server name; default `host` when it is a name; none for an IP address. */
  serverName?: string;
}

/** UDP datagram; fails on ICMP unreachable; with `expect`, a matching reply is required. */
export interface UdpCheckSpec extends NetCheckBase {
  type: 'udp';
  /** Payload sent; default 16 random bytes per attempt. */
  payload?: Uint8Array;
  /** A reply is required (otherwise silence until the timeout passes). Default false (keepalived). */
  requireReply: boolean;
  /**
   * The reply must start with these bytes, compared under `expectMask`
   * (keepalived's `require_reply` hex, where an X nibble is a wildcard).
   */
  expect?: Uint8Array;
  /** Same length as expect: per byte 0xff, 0xf0, 0x0f or 0x00 (0 bits = wildcard nibbles). */
  expectMask?: Uint8Array;
  /** Shortest accepted reply in bytes. Default 0. */
  minReplyLength: number;
  /** Longest accepted reply in bytes. Default 65507 (keepalived: 255). */
  maxReplyLength: number;
}

/** ICMP / ICMPv6 echo; success = a matching echo reply within the timeout. */
export interface IcmpCheckSpec extends NetCheckBase {
  type: 'icmp';
}

/** DNS record types a dns check can ask for. */
export type DnsType = 'A' | 'AAAA' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'PTR' | 'SRV';
/** Accepted `query_type` values. */
export const DNS_TYPES: readonly DnsType[] = ['A', 'AAAA', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'PTR', 'SRV'];

/** DNS query over UDP (RD set, random id). Success = id matches, QR set, RCODE 0, and `expect` (when set) found. */
export interface DnsCheckSpec extends NetCheckBase {
  type: 'dns';
  /** Query type; default SOA (keepalived). */
  queryType: DnsType;
  /** Query name; default `.` (keepalived). */
  queryName: string;
  /**
   * Answers that must all be present in the answer section (records of the
   * query type): addresses in canonical text for A/AAAA, names without the
   * trailing dot for NS/CNAME/PTR/MX(exchange), the joined text for TXT.
   */
  expect: string[];
}

/** SMTP: banner 2xx, `HELO name` answered 2xx, then QUIT. */
export interface SmtpCheckSpec extends NetCheckBase {
  type: 'smtp';
  /** Default `xlb.healthcheck` (keepalived: smtpchecker.keepalived.org). */
  heloName: string;
}

/** Run a command. Exit 0 = up, 1 = down; with `dynamic`, 2..255 = up with weight exit - 2 (keepalived misc_dynamic). */
export interface MiscCheckSpec extends CheckTiming {
  type: 'misc';
  /** argv; argv[0] an absolute path or a name looked up in PATH. No shell unless the user writes `sh -c`. */
  command: string[];
  /** Exit codes 2..255 set the backend's weight to code - 2. */
  dynamic: boolean;
  /** Run as this user (`name`, uid, `name:group`); default `script_user`, else the daemon's. */
  user?: string;
  /** The executable argv[0] resolved to at load (src/security/script-security.ts). */
  path?: string;
  /** The ids the command switches to, resolved at load; absent = the daemon's. */
  runAs?: CommandIds;
}

/** Read a number from a file (keepalived FILE_CHECK / track_file). */
export interface FileCheckSpec extends CheckTiming {
  type: 'file';
  /** File holding an integer (first line); a missing or unreadable file = the check fails. */
  path: string;
  /**
   * weight != 0: the backend's weight becomes value x weight (clamped to
   * 0..65535; a negative product = down). weight 0: a non-zero value = down,
   * 0 = up with the configured weight.
   */
  weight: number;
  /** keepalived `reverse`: use -value. */
  reverse: boolean;
}

/**
 * The state of a BFD session (keepalived BFD_CHECK): the backend is down
 * while the session `name` (an entry of the config's `bfd.instances`) is
 * not Up. Only `alpha` of the timing applies (start down until the session
 * is first Up); the session's own timers decide the rest, so the other
 * timing fields (resolved as for every check) are not used.
 */
export interface BfdCheckSpec extends CheckTiming {
  type: 'bfd';
  /** Name of the BFD session. */
  name: string;
}

/** One check of a backend. */
export type CheckSpec =
  | TcpCheckSpec
  | HttpCheckSpec
  | UdpCheckSpec
  | IcmpCheckSpec
  | DnsCheckSpec
  | SmtpCheckSpec
  | MiscCheckSpec
  | FileCheckSpec
  | BfdCheckSpec;

/** Backend-level health options. */
export interface BackendHealthSpec {
  /** The backend's checks; empty = always up (as without health checks). */
  checks: CheckSpec[];
  /** On failure set weight 0 (existing flows stay) instead of removing the backend (flows rescheduled). */
  inhibitOnFailure: boolean;
  /** A recovered backend's weight ramps linearly from 1 to its weight over this time; 0 = at once. */
  slowStartMs: number;
  /** Run when the backend goes up (keepalived `notify_up`). */
  notifyUp?: CommandSpec;
  /** Run when the backend goes down. */
  notifyDown?: CommandSpec;
}

/** Service-level health options (quorum: keepalived §2.4). */
export interface ServiceHealthSpec {
  /** Minimum live weight; capped to the sum of the backends' weights. Default 1. */
  quorum: number;
  /** Clamped to quorum - 1. Default 0. */
  hysteresis: number;
  /** Run when quorum is gained. */
  quorumUp?: CommandSpec;
  /** Run when quorum is lost. */
  quorumDown?: CommandSpec;
}

/** The sorry server: used alone while quorum is lost. */
export interface SorryServerSpec {
  /** Canonical address, same family as the service. */
  address: string;
  /** nat only: port; 0 = the VIP's. */
  port: number;
}

/** Defaults of {@link CheckTiming}, chosen for a load balancer rather than keepalived's 60 s / 5 s. */
export const DEFAULT_CHECK_TIMING: Readonly<Omit<CheckTiming, 'warmupMs'>> = Object.freeze({
  intervalMs: 2000,
  timeoutMs: 1000,
  retries: 0,
  retryDelayMs: 1000,
  rise: 1,
  fall: 1,
  alpha: false,
});
