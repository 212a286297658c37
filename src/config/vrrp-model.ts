/**
 * @module config/vrrp-model
 * The typed, validated `vrrp:` part of the configuration (keepalived's
 * `vrrp_instance`, `vrrp_sync_group`, `vrrp_script`, `track_file` and the
 * VRRP keys of `global_defs`): what ./vrrp.ts produces from YAML and what the
 * VRRP runner, its reload logic and the CLI consume. Also the defaults and
 * value ranges that the parser, the JSON Schema (./schema.ts) and the docs
 * share.
 *
 * Layer: control plane, pure data. No I/O; imports only the model's types
 * and the protocol's defaults (src/vrrp/spec.ts), never the FSM or the runner.
 *
 * Every default is resolved: durations are milliseconds, `advertIntMs` is
 * valid for the instance's version (v2: whole seconds 1..255 s; v3: 10 ms
 * steps 10 ms..40.95 s), tracker weights are the effective ones (a
 * reference's own weight, else its definition's), and strict mode has
 * already forced what it forces. Addresses are canonical text, as in
 * ./model.ts.
 */

import type { IntRange, SourceLoc } from './fields.js';
import {
  ADVERT_INT_DEFAULT_MS,
  DOWN_TIMER_ADVERTS_DEFAULT,
  DOWN_TIMER_ADVERTS_MAX,
  DOWN_TIMER_ADVERTS_MIN,
  GARP_DEFAULTS,
  V2_ADVERT_INT_MAX_MS,
  V2_ADVERT_INT_MIN_MS,
  V3_ADVERT_INT_MAX_MS,
  V3_ADVERT_INT_MIN_MS,
  VRRP_PRIO_DEFAULT,
  VRRP_PRIO_OWNER,
} from '../vrrp/spec.js';
import type { RunAs, ScriptCommand } from '../security/command.js';

/** VRRP protocol version: 2 (RFC 3768) or 3 (RFC 5798). */
export type VrrpVersion = 2 | 3;
/** The state an instance wants at start (keepalived `state`). */
export type VrrpWantedState = 'MASTER' | 'BACKUP';
/** Address scope of a virtual address (`ip addr add ... scope`). */
export type VrrpAddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

/** Accepted `version` values. */
export const VRRP_VERSIONS: readonly VrrpVersion[] = [2, 3];
/** Accepted `state` values. */
export const VRRP_STATES: readonly VrrpWantedState[] = ['MASTER', 'BACKUP'];
/** Accepted `scope` values of a virtual address. */
export const VRRP_SCOPES: readonly VrrpAddressScope[] = ['global', 'site', 'link', 'host', 'nowhere'];
/** Accepted `authentication.auth_type` values (AH and auth_hmac are not supported). */
export const VRRP_AUTH_TYPES: readonly ['PASS'] = ['PASS'];

/** The whole `vrrp:` section. */
export interface VrrpConfig {
  /** `vrrp.defaults`, every key resolved: what an instance does not set itself. */
  defaults: VrrpDefaults;
  /** Instances (virtual routers), in file order; names unique. */
  instances: VrrpInstanceConfig[];
  /** Sync groups, in file order; names unique; an instance is in at most one. */
  syncGroups: VrrpSyncGroupConfig[];
  /** Tracked scripts (keepalived `vrrp_script`), in file order; names unique. */
  scripts: VrrpScriptConfig[];
  /** Tracked files (keepalived `track_file`), in file order; names unique. */
  trackFiles: VrrpTrackFileConfig[];
  /** FIFO every state change is written to (`INSTANCE "VI_1" MASTER 100`); absolute path. */
  notifyFifo?: string;
}

/** GARP / unsolicited NA timing of one instance (the same shape as src/vrrp/fsm.ts GarpConfig). */
export interface VrrpGarpConfig {
  /** Delay of the second burst after becoming MASTER, ms; 0 = no second burst. */
  masterDelayMs: number;
  /** GARPs per address in each burst after becoming MASTER, 1..255. */
  masterRepeat: number;
  /** Period of refresh bursts while MASTER, ms; 0 = off. */
  masterRefreshMs: number;
  /** GARPs per address in a refresh burst, 1..255. */
  masterRefreshRepeat: number;
  /** Delay of the second burst after a lower-priority advert while MASTER, ms; 0 = none. */
  lowerPrioDelayMs: number;
  /** GARPs per address after a lower-priority advert while MASTER, 0..255; 0 = none. */
  lowerPrioRepeat: number;
}

/** `vrrp.defaults`, resolved (keepalived's `global_defs` VRRP keys). */
export interface VrrpDefaults {
  /** Version of instances that do not set one; IPv6 instances are always 3. */
  version: VrrpVersion;
  /** GARP timing of instances that do not set their own. */
  garp: VrrpGarpConfig;
  /** Pause between two GARPs on one interface, ms (keepalived `vrrp_garp_interval`); 0 = none. */
  garpIntervalMs: number;
  /** Pause between two unsolicited NAs on one interface, ms (keepalived `vrrp_gna_interval`); 0 = none. */
  gnaIntervalMs: number;
  /**
   * SCHED_FIFO priority of the VRRP worker thread, 1..99; 0 = normal
   * scheduling (keepalived `vrrp_rt_priority`, which is off by default; xlb
   * defaults to 1 so adverts keep their timing while the daemon's main thread
   * is busy; the thread's children run under normal scheduling).
   */
  rtPriority: number;
  /** Master_Down_Interval multiplier, 1..100. */
  downTimerAdverts: number;
  /** While MASTER, do not answer a lower-priority advert with an advert. */
  lowerPrioNoAdvert: boolean;
  /** Before yielding to a higher-priority master, send one advert. */
  higherPrioSendAdvert: boolean;
  /** Unicast: accept adverts only from a listed peer. */
  checkUnicastSrc: boolean;
  /** Do not compare the advertised addresses of an already known master. */
  skipCheckAdvAddr: boolean;
  /** v3 over IPv4: checksum without the pseudo-header (RFC 9568; Cisco/Juniper interop). */
  v3ChecksumAsV2: boolean;
  /** Write MASTER_PRIORITY / BACKUP_PRIORITY events to the notify FIFO. */
  notifyPriorityChanges: boolean;
  /**
   * RFC strict mode (keepalived `vrrp_strict`) of instances that do not set
   * their own. The values above are as written: what strict mode forces
   * (no lower-priority GARP, lowerPrioNoAdvert, ...) is applied per strict
   * instance.
   */
  strict: boolean;
}

/** A virtual address (`virtual_ipaddress` or `virtual_ipaddress_excluded` entry). */
export interface VrrpVipConfig {
  /** The address, canonical text. */
  address: string;
  /** Address family of {@link address}. */
  family: 4 | 6;
  /** Prefix length; default 32 (IPv4) or 128 (IPv6). */
  prefix: number;
  /** Interface the address is added to: its own `dev`, else the VMAC, else the instance's interface. */
  dev: string;
  /** IPv4 label (`eth0:1`); starts with the device name and a colon. */
  label?: string;
  /** IPv6: add without duplicate address detection (`ip addr add ... nodad`). */
  noDad: boolean;
  /** Address scope. */
  scope: VrrpAddressScope;
  /** Where the entry is in the file. */
  loc: SourceLoc;
}

/** A unicast peer. */
export interface VrrpUnicastPeerConfig {
  /** The peer's address, canonical text; the instance's family. */
  address: string;
  /** Smallest accepted TTL / hop limit of its adverts, 0..255 (0 = any). */
  minTtl: number;
  /** Largest accepted TTL / hop limit of its adverts, 0..255 (255 = any). */
  maxTtl: number;
}

/** A tracked interface. */
export interface VrrpTrackInterfaceConfig {
  /** Interface name. */
  name: string;
  /** -253..253; 0 = FAULT while the interface is down; otherwise added while up (w > 0) or while down (w < 0). */
  weight: number;
  /** Swap up and down (weight 0) or negate the adjustment. */
  reverse: boolean;
}

/** A reference to a script, a tracked file or a BFD session, with the weight in effect. */
export interface VrrpTrackRefConfig {
  /** Name of the script ({@link VrrpConfig.scripts}), tracked file ({@link VrrpConfig.trackFiles}) or BFD session (the config's `bfd.instances`). */
  name: string;
  /** The reference's own weight, else the definition's (scripts and BFD -253..253, files -254..254). */
  weight: number;
  /** The reference's own `reverse`, else the definition's. */
  reverse: boolean;
}

/** Notify commands (argv, never run through a shell; user, path and ids as in src/security/command.ts). Absent = none. */
export interface VrrpNotifyConfig {
  /** Run on becoming MASTER. */
  master?: ScriptCommand;
  /** Run on becoming BACKUP. */
  backup?: ScriptCommand;
  /** Run on entering FAULT. */
  fault?: ScriptCommand;
  /** Run when the instance (or group) stops. */
  stop?: ScriptCommand;
  /** Run after the specific command on every change, with `INSTANCE|GROUP <name> <state> <priority>` appended. */
  any?: ScriptCommand;
  /** Instances only: run when a MASTER receives a lower-priority advert. */
  masterRxLowerPri?: ScriptCommand;
}

/** One VRRP instance (virtual router), every default resolved. */
export interface VrrpInstanceConfig {
  /** Unique name (`VI_1`); FIFO lines and notify arguments use it. */
  name: string;
  /** Interface adverts are sent and received on; absent only for unicast with `unicastSrcIp`. */
  interface?: string;
  /** Virtual router id, 1..255. */
  vrid: number;
  /** Address family of the instance: of its virtual addresses, else of its source and peers. */
  family: 4 | 6;
  /** Protocol version; IPv6 instances are 3. */
  version: VrrpVersion;
  /** Base priority 1..255; 255 = address owner. */
  priority: number;
  /** Wanted state at start: MASTER when written so or when the priority is 255, else BACKUP. */
  state: VrrpWantedState;
  /** Advert interval, ms, valid for {@link version}. */
  advertIntMs: number;
  /** Preempt a lower-priority master (false = keepalived `nopreempt`). */
  preempt: boolean;
  /** Wait this long before preempting, ms, 0..1 000 000. */
  preemptDelayMs: number;
  /** Addresses carried in the adverts: one family (the instance's), at most 255. */
  virtualIpaddress: VrrpVipConfig[];
  /** Addresses moved with the instance but not advertised; any family. */
  virtualIpaddressExcluded: VrrpVipConfig[];
  /** Advert source address (keepalived `unicast_src_ip` / `mcast_src_ip`); default: the interface's primary address. */
  unicastSrcIp?: string;
  /** Unicast peers; empty = multicast. */
  unicastPeers: VrrpUnicastPeerConfig[];
  /** Accept adverts only from a listed peer (also implied by a peer's TTL bounds). */
  checkUnicastSrc: boolean;
  /** v2 simple password; absent = no authentication. */
  authentication?: { type: 'PASS'; pass: string };
  /** v3 over IPv4: checksum without the pseudo-header. */
  v3ChecksumAsV2: boolean;
  /** The VMAC interface (macvlan, 00:00:5e:00:01:<vrid>); absent = no VMAC. */
  vmac?: { name: string };
  /** Tracked interfaces, the instance's own (a sync group's apply as well). */
  trackInterfaces: VrrpTrackInterfaceConfig[];
  /** Tracked scripts, the instance's own. */
  trackScripts: VrrpTrackRefConfig[];
  /** Tracked files, the instance's own. */
  trackFiles: VrrpTrackRefConfig[];
  /**
   * Tracked BFD sessions, the instance's own (keepalived `track_bfd`):
   * weight 0 = FAULT while the session is down; otherwise +w while Up
   * (w > 0) or -|w| while down (w < 0); `reverse` inverts.
   */
  trackBfd: VrrpTrackRefConfig[];
  /**
   * The BFD session to the other VRRP node (xlb's BFD peering, beyond
   * keepalived): a BACKUP whose session goes Down treats the master as gone
   * at once, without waiting for Master_Down_Interval. A name of the
   * config's `bfd.instances`; with unicast peers, its neighbor is one of them.
   */
  bfdPeer?: string;
  /** Notify commands. */
  notify: VrrpNotifyConfig;
  /** GARP timing (its own keys over `vrrp.defaults`; strict: lower-priority bursts off). */
  garp: VrrpGarpConfig;
  /** Master_Down_Interval multiplier, 1..100 (strict: 3). */
  downTimerAdverts: number;
  /** While MASTER, do not answer a lower-priority advert (strict: true). */
  lowerPrioNoAdvert: boolean;
  /** Send one advert before yielding to a higher-priority master (strict: false). */
  higherPrioSendAdvert: boolean;
  /** Do not compare the advertised addresses of an already known master. */
  skipCheckAdvAddr: boolean;
  /** Ignore faults of the instance's own interface. */
  dontTrackPrimary: boolean;
  /** Write MASTER_PRIORITY / BACKUP_PRIORITY events to the notify FIFO. */
  notifyPriorityChanges: boolean;
  /** RFC strict mode. */
  strict: boolean;
  /** Drop every received advert while the address owner (strict mode with priority 255). */
  ownerIgnoreAdverts: boolean;
  /** Name of the sync group the instance belongs to, if any. */
  syncGroup?: string;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** One sync group (keepalived `vrrp_sync_group`). */
export interface VrrpSyncGroupConfig {
  /** Unique name among sync groups. */
  name: string;
  /** Member instance names, in the order written; each exists and is in no other group. */
  group: string[];
  /** Tracked interfaces applying to every member (weight 0 unless {@link trackingWeight}). */
  trackInterfaces: VrrpTrackInterfaceConfig[];
  /** Tracked scripts applying to every member. */
  trackScripts: VrrpTrackRefConfig[];
  /** Tracked files applying to every member. */
  trackFiles: VrrpTrackRefConfig[];
  /** Tracked BFD sessions applying to every member. */
  trackBfd: VrrpTrackRefConfig[];
  /** Group notify commands (`masterRxLowerPri` is never set). */
  notify: VrrpNotifyConfig;
  /** Allow weighted trackers in the group and its members (keepalived `sync_group_tracking_weight`). */
  trackingWeight: boolean;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** One tracked script (keepalived `vrrp_script`). */
export interface VrrpScriptConfig {
  /** Unique name among scripts. */
  name: string;
  /** The command, argv; never run through a shell. Exit 0 = success. */
  script: string[];
  /** Time between two runs, ms. */
  intervalMs: number;
  /** A run still going after this is killed and counts as failed, ms; default the interval. */
  timeoutMs: number;
  /** -253..253; 0 = FAULT after `fall` failures. A reference may override it. */
  weight: number;
  /** Negate the weight's effect (weight 0: FAULT while the script succeeds). */
  reverse: boolean;
  /** Consecutive successes that make a failed script good. */
  rise: number;
  /** Consecutive failures that make a good script failed. */
  fall: number;
  /** Start in the failed state (otherwise unknown until the first result). */
  initFail: boolean;
  /** Run as this user (`name`, uid, `name:group`); absent = `script_user`, else the daemon's user. */
  user?: string;
  /** The executable `script[0]` resolved to at load (src/security/script-security.ts). */
  path?: string;
  /** The ids it switches to, resolved at load; absent = the daemon's. */
  runAs?: RunAs;
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

/** One tracked file (keepalived `track_file`): holds an integer. */
export interface VrrpTrackFileConfig {
  /** Unique name among tracked files. */
  name: string;
  /** Absolute path of the file. */
  file: string;
  /** -254..254: the value x weight is added to the priority; 0 = FAULT while the value is not 0. */
  weight: number;
  /** Negate the value. */
  reverse: boolean;
  /** Create the file with this value at start when it does not exist (or always, with overwrite). */
  initFile?: { value: number; overwrite: boolean };
  /** Where the entry starts in the file. */
  loc: SourceLoc;
}

export { VRRP_PRIO_OWNER };

/** Defaults of `vrrp.defaults` (keepalived's global_defs defaults). */
export const VRRP_DEFAULTS: Readonly<VrrpDefaults> = Object.freeze({
  version: 2,
  /** keepalived's: a burst of 5 on becoming master, another 5 s later; no refresh (src/vrrp/spec.ts). */
  garp: GARP_DEFAULTS,
  garpIntervalMs: 0,
  gnaIntervalMs: 0,
  rtPriority: 1,
  /** RFC 5798 §6.1: Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time. */
  downTimerAdverts: DOWN_TIMER_ADVERTS_DEFAULT,
  lowerPrioNoAdvert: false,
  higherPrioSendAdvert: false,
  checkUnicastSrc: false,
  skipCheckAdvAddr: false,
  v3ChecksumAsV2: false,
  notifyPriorityChanges: false,
  strict: false,
});

/** Defaults of instance, script and tracked-file keys that have one. */
export const VRRP_INSTANCE_DEFAULTS = Object.freeze({
  priority: VRRP_PRIO_DEFAULT,
  /** ms: 1 s, both versions. */
  advertIntMs: ADVERT_INT_DEFAULT_MS,
  preempt: true,
  preemptDelayMs: 0,
  scope: 'global' as VrrpAddressScope,
  /** ms. */
  scriptIntervalMs: 1000,
  scriptWeight: 0,
  scriptRise: 1,
  scriptFall: 1,
  trackFileWeight: 1,
  minTtl: 0,
  maxTtl: 255,
});

/** Integer ranges of the VRRP keys (durations in milliseconds). */
export const VRRP_RANGES = Object.freeze({
  vrid: { min: 1, max: 255 },
  priority: { min: 1, max: VRRP_PRIO_OWNER },
  /** v2: whole seconds (an 8-bit field of seconds). */
  advertIntV2Ms: { min: V2_ADVERT_INT_MIN_MS, max: V2_ADVERT_INT_MAX_MS },
  /** v3: centiseconds (a 12-bit field: 4095 cs = 40.95 s). */
  advertIntV3Ms: { min: V3_ADVERT_INT_MIN_MS, max: V3_ADVERT_INT_MAX_MS },
  /** keepalived: 0..1000 s. */
  preemptDelayMs: { min: 0, max: 1_000_000 },
  /** SCHED_FIFO priorities (0 = off). */
  rtPriority: { min: 0, max: 99 },
  downTimerAdverts: { min: DOWN_TIMER_ADVERTS_MIN, max: DOWN_TIMER_ADVERTS_MAX },
  /** 0 s .. 1 h. */
  garpDelayMs: { min: 0, max: 3_600_000 },
  /** keepalived refuses 0 (sets 1). */
  garpRepeat: { min: 1, max: 255 },
  garpLowerPrioRepeat: { min: 0, max: 255 },
  /** 0 (off), else 1 s .. 1 day. */
  garpRefreshMs: { min: 1000, max: 86_400_000 },
  /** keepalived warns from 1 s. */
  garpIntervalMs: { min: 0, max: 1000 },
  /** interfaces and scripts (keepalived vrrp_track.c). */
  trackWeight: { min: -253, max: 253 },
  /** tracked files: a multiplier (keepalived track_file.c). */
  trackFileWeight: { min: -254, max: 254 },
  /** `init_file` value (keepalived's sensible range). */
  trackFileInit: { min: -254, max: 254 },
  ttl: { min: 0, max: 255 },
  /** 10 ms .. 1 h. */
  scriptIntervalMs: { min: 10, max: 3_600_000 },
  scriptTimeoutMs: { min: 10, max: 3_600_000 },
  rise: { min: 1, max: 100 },
  fall: { min: 1, max: 100 },
  uid: { min: 0, max: 4_294_967_294 },
  /** The advert's address count is 8 bits. */
  vips: { min: 0, max: 255 },
  /** Octets of a v2 simple password (the advert's auth field). */
  authPass: { min: 1, max: 8 },
} satisfies Record<string, IntRange>);

/**
 * Names of instances, groups, scripts and tracked files: they appear quoted
 * in FIFO lines and as notify arguments, so no spaces, quotes or control
 * characters.
 */
export const VRRP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/**
 * The default VMAC name: keepalived's `vrrp.<vrid>`, and `vrrp6.<vrid>` for
 * IPv6, so a v4 and a v6 instance with one VRID do not collide.
 */
export function defaultVmacName(vrid: number, family: 4 | 6): string {
  return `${family === 6 ? 'vrrp6' : 'vrrp'}.${vrid}`;
}

/**
 * A stable digest of the fields that, when changed by a reload, force the
 * instance to restart (stop with a priority-0 advert if MASTER, start again)
 * instead of being reconfigured in place: what puts it on another wire
 * (interface, VMAC, family, VRID, version, source address, unicast vs
 * multicast) and becoming or ceasing to be the address owner (the start
 * rules and tracker arithmetic differ; src/vrrp/fsm.ts restartReasons). The
 * name is not part of it: it is how old and new instances are matched.
 * Everything else (priority, advert interval, addresses, peers, trackers,
 * notify, GARP, auth) can be applied to a running instance.
 * @param inst a resolved instance
 * @returns JSON text; equal text = no restart needed
 */
export function vrrpInstanceDigest(inst: VrrpInstanceConfig): string {
  return JSON.stringify({
    interface: inst.interface ?? null,
    vmac: inst.vmac?.name ?? null,
    family: inst.family,
    vrid: inst.vrid,
    version: inst.version,
    unicastSrcIp: inst.unicastSrcIp ?? null,
    unicast: inst.unicastPeers.length > 0,
    owner: inst.priority === VRRP_PRIO_OWNER,
  });
}
