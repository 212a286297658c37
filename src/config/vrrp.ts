/**
 * @module config/vrrp
 * The VRRP part of the config format, `vrrp:` (keepalived's `vrrp_instance`,
 * `vrrp_sync_group`, `vrrp_script`, `track_file`, and the VRRP keys of
 * `global_defs` as `defaults`), checked and resolved into the model of
 * ./vrrp-model.ts. Called by load.ts; the Checker of ./fields.ts records
 * the errors (file:line:col, dotted key, what was expected).
 *
 * Layer: control plane. Pure: no I/O.
 *
 * Order of work: `defaults`, then the tracker definitions (`scripts`,
 * `track_files`), then each instance (its references resolved against the
 * definitions), then the sync groups (their members resolved against the
 * instances), then the checks across instances (names, VRIDs, VMAC names,
 * addresses). A definition with an error still registers its name, so a
 * reference to it is not reported a second time. BFD sessions (`track_bfd`,
 * `bfd_peer`) are resolved against the names ./bfd.ts found, which load.ts
 * passes in; the same rule holds for them.
 *
 * Where keepalived fixes a config up with a warning (rounds advert_int,
 * truncates auth_pass, resets a strict-mode violation, drops an invalid
 * nopreempt), this parser reports an error instead: the loader has no
 * warnings, and a config that silently means something else than it says is
 * worse than one that is refused. Strict mode (keepalived.md §1.12) forces
 * only what the file leaves unset.
 */
import { isMap, isScalar } from 'yaml';
import { nameCandidates as candidates, unknownKeyMessage } from './did-you-mean.js';
import { formatDuration } from './duration.js';
import { HealthParser } from './health.js';
import { ABS_PATH, badHostAddress, child, parseIp, type Checker, type Field, type Fields, type ParsedIp as Ip } from './fields.js';
import type { SourceLoc } from './model.js';
import type { BfdNames } from './bfd-model.js';
import {
  defaultVmacName,
  VRRP_AUTH_TYPES,
  VRRP_DEFAULTS,
  VRRP_INSTANCE_DEFAULTS,
  VRRP_NAME_PATTERN,
  VRRP_PRIO_OWNER,
  VRRP_RANGES,
  VRRP_SCOPES,
  VRRP_STATES,
  type VrrpAddressScope,
  type VrrpConfig,
  type VrrpDefaults,
  type VrrpGarpConfig,
  type VrrpInstanceConfig,
  type VrrpNotifyConfig,
  type VrrpScriptConfig,
  type VrrpSyncGroupConfig,
  type VrrpTrackFileConfig,
  type VrrpTrackInterfaceConfig,
  type VrrpTrackRefConfig,
  type VrrpUnicastPeerConfig,
  type VrrpVersion,
  type VrrpVipConfig,
  type VrrpWantedState,
} from './vrrp-model.js';

// ------------------------------------------------------------------ keys ---

/** GARP keys an instance may override (defaults has them too). */
const GARP_KEYS = [
  'garp_master_delay',
  'garp_master_repeat',
  'garp_master_refresh',
  'garp_master_refresh_repeat',
  'garp_lower_prio_delay',
  'garp_lower_prio_repeat',
] as const;
/** Notify keys of instances and sync groups. */
const NOTIFY_KEYS = ['notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify'] as const;
/** Tracker keys of instances and sync groups. */
const TRACK_KEYS = ['track_interfaces', 'track_scripts', 'track_files', 'track_bfd'] as const;

/**
 * The mappings of the `vrrp:` section, in documentation order, and which
 * keys each requires. Kept apart from load.ts CONFIG_KEYS (which lists the
 * other mappings); the JSON Schema is checked against both.
 */
export const VRRP_KEYS = {
  vrrp: { allowed: ['defaults', 'instances', 'sync_groups', 'scripts', 'track_files', 'notify_fifo'], required: [] },
  defaults: {
    allowed: [
      'version',
      ...GARP_KEYS,
      'garp_interval',
      'gna_interval',
      'rt_priority',
      'down_timer_adverts',
      'lower_prio_no_advert',
      'higher_prio_send_advert',
      'check_unicast_src',
      'skip_check_adv_addr',
      'v3_checksum_as_v2',
      'notify_priority_changes',
      'strict',
    ],
    required: [],
  },
  instance: {
    allowed: [
      'name',
      'interface',
      'virtual_router_id',
      'priority',
      'state',
      'version',
      'advert_int',
      'preempt',
      'preempt_delay',
      'virtual_ipaddress',
      'virtual_ipaddress_excluded',
      'unicast_src_ip',
      'unicast_peers',
      'check_unicast_src',
      'authentication',
      'v3_checksum_as_v2',
      'use_vmac',
      ...TRACK_KEYS,
      'dont_track_primary',
      'bfd_peer',
      ...NOTIFY_KEYS,
      'notify_master_rx_lower_pri',
      'notify_priority_changes',
      ...GARP_KEYS,
      'down_timer_adverts',
      'lower_prio_no_advert',
      'higher_prio_send_advert',
      'skip_check_adv_addr',
      'strict',
    ],
    required: ['name', 'virtual_router_id'],
  },
  vip: { allowed: ['address', 'prefix', 'dev', 'label', 'no_dad', 'scope'], required: ['address'] },
  peer: { allowed: ['address', 'min_ttl', 'max_ttl'], required: ['address'] },
  authentication: { allowed: ['auth_type', 'auth_pass'], required: ['auth_type', 'auth_pass'] },
  vmac: { allowed: ['name'], required: [] },
  trackInterface: { allowed: ['name', 'weight', 'reverse'], required: ['name'] },
  trackRef: { allowed: ['name', 'weight', 'reverse'], required: ['name'] },
  syncGroup: { allowed: ['name', 'group', ...TRACK_KEYS, ...NOTIFY_KEYS, 'tracking_weight'], required: ['name', 'group'] },
  script: {
    allowed: ['name', 'script', 'interval', 'timeout', 'weight', 'reverse', 'rise', 'fall', 'init_fail', 'user'],
    required: ['name', 'script'],
  },
  trackFile: { allowed: ['name', 'file', 'weight', 'reverse', 'init_file'], required: ['name', 'file'] },
  initFile: { allowed: ['value', 'overwrite'], required: [] },
} as const satisfies Record<string, { allowed: readonly string[]; required: readonly string[] }>;

/** keepalived keywords an operator may bring along, by mapping, and what to write instead. */
const HINTS = {
  vrrp: {
    vrrp_instance: 'keepalived\'s vrrp_instance blocks are entries of "instances"',
    vrrp_sync_group: 'keepalived\'s vrrp_sync_group blocks are entries of "sync_groups"',
    vrrp_script: 'keepalived\'s vrrp_script blocks are entries of "scripts"',
    vrrp_track_file: 'keepalived\'s track_file blocks are entries of "track_files"',
    global_defs: 'the VRRP keys of keepalived\'s global_defs go in "defaults", without the vrrp_ prefix',
  },
  instance: {
    nopreempt: 'keepalived\'s nopreempt is "preempt: false"',
    mcast_src_ip: 'the advert source is "unicast_src_ip", multicast or not (keepalived treats the two alike)',
    strict_mode: 'keepalived\'s strict_mode is "strict"',
    auth_hmac: 'auth_hmac is not supported: VRRPv2 instances may use authentication with auth_type PASS',
    track_process: 'track_process is not supported (use a script)',
    virtual_routes: 'virtual_routes are not supported',
    virtual_rules: 'virtual_rules are not supported',
    notify_deleted: 'notify_deleted is not supported',
    garp_interval: 'garp_interval is set for every interface, in vrrp.defaults',
    gna_interval: 'gna_interval is set for every interface, in vrrp.defaults',
  },
  syncGroup: {
    sync_group_tracking_weight: 'keepalived\'s sync_group_tracking_weight is "tracking_weight"',
    notify_master_rx_lower_pri: 'notify_master_rx_lower_pri is a key of instances only',
  },
  script: { command: 'the command of a script is "script", as in keepalived' },
  trackFile: { path: 'the path of a tracked file is "file", as in keepalived' },
} as const satisfies Record<string, Record<string, string>>;

/**
 * The message for an unknown key: the hint for it when there is one, else
 * did-you-mean among `allowed`.
 */
function keyMessage(allowed: readonly string[], hints: Readonly<Record<string, string>> = {}, extra?: (key: string) => string | undefined): (key: string) => string {
  return (key) => {
    const hint = extra?.(key) ?? (Object.prototype.hasOwnProperty.call(hints, key) ? hints[key] : undefined);
    if (hint !== undefined) return `unknown key ${JSON.stringify(key)} (${hint})`;
    return unknownKeyMessage(key, allowed);
  };
}

/** In defaults, keepalived's `vrrp_X` global keyword is `X`. */
function defaultsHint(key: string): string | undefined {
  const bare = key.replace(/^vrrp_/, '');
  if (bare !== key && (VRRP_KEYS.defaults.allowed as readonly string[]).includes(bare)) {
    return `keepalived's ${key} is ${JSON.stringify(bare)} here`;
  }
  return undefined;
}

// ------------------------------------------------------- pure helpers ---

/** What a name must look like, in messages. */
const NAME_WHAT = 'a name of letters, digits, "_", ".", ":" and "-" (at most 64, starting with a letter or digit)';

/** IPv6 link-local (fe80::/10). */
function isLinkLocal(ip: Ip): boolean {
  return ip.family === 6 && ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80;
}

/** `IPv4` / `IPv6`. */
function fam(f: 4 | 6): string {
  return `IPv${f}`;
}

// ------------------------------------------------------------ the parser ---

/** A tracker of an instance or a group, with where its weight comes from. */
interface TrackDraft {
  /** `interface`, `script`, `file`, `bfd`. */
  kind: 'interface' | 'script' | 'file' | 'bfd';
  value: VrrpTrackInterfaceConfig | VrrpTrackRefConfig;
  /** The entry. */
  at: SourceLoc;
  path: string;
  /** The `weight` field, when the entry has one. */
  weightF?: Field;
  /** The definition whose weight the entry takes, when it has none. */
  defAt?: SourceLoc;
}

/** A definition (script or tracked file) by name; null when its entry did not parse. */
interface Def<T> {
  value: T | null;
  at: SourceLoc;
}

/** A virtual address as written; `ip` and `prefix` are set when it parsed. */
interface VipDraft {
  f: Field;
  ip?: Ip;
  prefix?: number;
  dev?: string;
  label?: string;
  labelF?: Field;
  noDadF?: Field;
  noDad: boolean;
  scope: VrrpAddressScope;
}

/** A unicast peer as written; `value` is set when it parsed. */
interface PeerDraft {
  ip?: Ip;
  addrF: Field;
  minTtlF?: Field;
  maxTtlF?: Field;
  value?: VrrpUnicastPeerConfig;
}

/** What the cross-instance checks need of an instance. */
interface InstanceDraft {
  value: VrrpInstanceConfig;
  /** Whether every identity field parsed (cross checks skip it otherwise). */
  complete: boolean;
  /** Where its name is (the entry when the name is missing), for duplicate-name errors. */
  nameAt: SourceLoc;
  namePath: string;
  vridF?: Field;
  vmacF?: Field;
  tracks: TrackDraft[];
  vips: { vip: VrrpVipConfig; path: string }[];
}

/** Parses and resolves `vrrp:`; one per config, sharing the load.ts Checker (./fields.ts). */
export class VrrpParser {
  readonly #c: Checker;
  /** Parses notify and script commands (health's `command` rules: argv, never a shell). */
  readonly #cmd: HealthParser;
  /** The config's BFD sessions by name, which track_bfd and bfd_peer name. */
  readonly #bfd: BfdNames;

  /**
   * @param c the Checker errors go to
   * @param bfd the config's BFD sessions by name (none: the config has no `bfd:`)
   */
  constructor(c: Checker, bfd: BfdNames = new Map()) {
    this.#c = c;
    this.#cmd = new HealthParser(c, bfd);
    this.#bfd = bfd;
  }

  /**
   * The `vrrp:` section.
   * @returns the model (meaningful only when the Checker recorded no error)
   */
  parse(f: Field): VrrpConfig {
    const c = this.#c;
    const out: VrrpConfig = {
      defaults: structuredClone(VRRP_DEFAULTS) as VrrpDefaults,
      instances: [],
      syncGroups: [],
      scripts: [],
      trackFiles: [],
    };
    const m = c.mapping(f, VRRP_KEYS.vrrp, keyMessage(VRRP_KEYS.vrrp.allowed, HINTS.vrrp));
    if (!m) return out;
    const defaults = this.#defaults(m.get('defaults'));
    out.defaults = defaults;
    const scripts = this.#definitions(m.get('scripts'), 'script', (x) => this.#script(x));
    const files = this.#definitions(m.get('track_files'), 'tracked file', (x) => this.#trackFile(x));
    for (const d of scripts.values()) if (d.value) out.scripts.push(d.value);
    for (const d of files.values()) if (d.value) out.trackFiles.push(d.value);

    const instances: InstanceDraft[] = [];
    const instF = m.get('instances');
    for (const item of (instF && c.list(instF)) ?? []) {
      const d = this.#instance(item, defaults, scripts, files);
      if (d) instances.push(d);
    }
    this.#crossChecks(instances);
    out.syncGroups = this.#syncGroups(m.get('sync_groups'), instances, scripts, files);
    out.instances = instances.map((d) => d.value);

    const fifoF = m.get('notify_fifo');
    if (fifoF) {
      const p = c.pattern(fifoF, ABS_PATH, 'an absolute path');
      if (p !== undefined) out.notifyFifo = p;
    }
    return out;
  }

  // ------------------------------------------------------------ defaults ---

  /** `vrrp.defaults`. */
  #defaults(f: Field | undefined): VrrpDefaults {
    const c = this.#c;
    const value = structuredClone(VRRP_DEFAULTS) as VrrpDefaults;
    if (!f) return value;
    const m = c.mapping(f, VRRP_KEYS.defaults, keyMessage(VRRP_KEYS.defaults.allowed, {}, defaultsHint));
    if (!m) return value;
    const vF = m.get('version');
    if (vF) value.version = this.#version(vF) ?? value.version;
    const garp = this.#garp(m);
    value.garp = {
      masterDelayMs: garp.masterDelayMs ?? value.garp.masterDelayMs,
      masterRepeat: garp.masterRepeat ?? value.garp.masterRepeat,
      masterRefreshMs: garp.masterRefreshMs ?? value.garp.masterRefreshMs,
      masterRefreshRepeat: garp.masterRefreshRepeat ?? value.garp.masterRefreshRepeat,
      // keepalived: the lower-priority burst defaults to the master one
      lowerPrioDelayMs: garp.lowerPrioDelayMs ?? garp.masterDelayMs ?? value.garp.lowerPrioDelayMs,
      lowerPrioRepeat: garp.lowerPrioRepeat ?? garp.masterRepeat ?? value.garp.lowerPrioRepeat,
    };
    for (const [key, field] of [['garp_interval', 'garpIntervalMs'], ['gna_interval', 'gnaIntervalMs']] as const) {
      const gf = m.get(key);
      if (gf) value[field] = c.duration(gf, VRRP_RANGES.garpIntervalMs.max) ?? value[field];
    }
    const dtF = m.get('down_timer_adverts');
    if (dtF) value.downTimerAdverts = c.int(dtF, VRRP_RANGES.downTimerAdverts) ?? value.downTimerAdverts;
    const rtF = m.get('rt_priority');
    if (rtF) value.rtPriority = c.int(rtF, VRRP_RANGES.rtPriority) ?? value.rtPriority;
    const bools = [
      ['lower_prio_no_advert', 'lowerPrioNoAdvert'],
      ['higher_prio_send_advert', 'higherPrioSendAdvert'],
      ['check_unicast_src', 'checkUnicastSrc'],
      ['skip_check_adv_addr', 'skipCheckAdvAddr'],
      ['v3_checksum_as_v2', 'v3ChecksumAsV2'],
      ['notify_priority_changes', 'notifyPriorityChanges'],
      ['strict', 'strict'],
    ] as const;
    for (const [key, field] of bools) {
      const bf = m.get(key);
      if (bf) value[field] = c.bool(bf) ?? value[field];
    }
    // strict for every instance that does not say strict: false: the defaults
    // must not contradict it; what strict mode forces, each strict instance
    // forces for itself (as keepalived: a non-strict instance keeps these)
    if (value.strict) this.#strictValues(m, 'vrrp.defaults.strict');
    return value;
  }

  /** `version`: 2 or 3. */
  #version(f: Field): VrrpVersion | undefined {
    const n = f.node;
    if (isScalar(n) && (n.value === 2 || n.value === 3)) return n.value;
    return this.#c.expected(f, '2 or 3');
  }

  /** The GARP keys a mapping sets (defaults or an instance). */
  #garp(m: Fields): Partial<VrrpGarpConfig> {
    const c = this.#c;
    const g: Partial<VrrpGarpConfig> = {};
    const r = VRRP_RANGES;
    const md = m.get('garp_master_delay');
    const mr = m.get('garp_master_repeat');
    const rf = m.get('garp_master_refresh');
    const rr = m.get('garp_master_refresh_repeat');
    const ld = m.get('garp_lower_prio_delay');
    const lr = m.get('garp_lower_prio_repeat');
    const set = <K extends keyof VrrpGarpConfig>(k: K, v: number | undefined): void => {
      if (v !== undefined) g[k] = v;
    };
    if (md) set('masterDelayMs', c.duration(md, r.garpDelayMs.max));
    if (mr) set('masterRepeat', c.int(mr, r.garpRepeat));
    if (rf) {
      const ms = c.duration(rf, r.garpRefreshMs.max);
      if (ms !== undefined && ms !== 0 && ms < r.garpRefreshMs.min) {
        c.expected(rf, `0s (off) or a duration ${formatDuration(r.garpRefreshMs.min)}..${formatDuration(r.garpRefreshMs.max)}`);
      } else set('masterRefreshMs', ms);
    }
    if (rr) set('masterRefreshRepeat', c.int(rr, r.garpRepeat));
    if (ld) set('lowerPrioDelayMs', c.duration(ld, r.garpDelayMs.max));
    if (lr) set('lowerPrioRepeat', c.int(lr, r.garpLowerPrioRepeat));
    return g;
  }

  /**
   * Strict mode: values written in `m` that it does not allow (keepalived.md
   * §1.12: no lower-priority GARP bursts, lower_prio_no_advert true,
   * higher_prio_send_advert false, down_timer_adverts 3).
   * @param why the key that makes it strict, for the message
   */
  #strictValues(m: Fields, why: string): void {
    const c = this.#c;
    const say = (f: Field, what: string): void => c.err('XLB_ERR_CONFIG_CONFLICT', `strict mode (${why}) ${what}`, f.at, f.path);
    const isTrue = (f: Field | undefined): boolean => !!f && isScalar(f.node) && f.node.value === true;
    const isFalse = (f: Field | undefined): boolean => !!f && isScalar(f.node) && f.node.value === false;
    const nonZero = (f: Field | undefined, dur: boolean): boolean => {
      if (!f || !isScalar(f.node)) return false;
      const v = f.node.value;
      return dur ? typeof v === 'string' && !/^(0+(\.0+)?(us|µs|ms|s|m|h))+$/.test(v) : typeof v === 'number' && v !== 0;
    };
    const ld = m.get('garp_lower_prio_delay');
    const lr = m.get('garp_lower_prio_repeat');
    const ln = m.get('lower_prio_no_advert');
    const hp = m.get('higher_prio_send_advert');
    const dt = m.get('down_timer_adverts');
    if (ld && nonZero(ld, true)) say(ld, 'sends no lower-priority GARP bursts: garp_lower_prio_delay must be 0s');
    if (lr && nonZero(lr, false)) say(lr, 'sends no lower-priority GARP bursts: garp_lower_prio_repeat must be 0');
    if (isFalse(ln)) say(ln!, 'never answers a lower-priority advert: lower_prio_no_advert must be true');
    if (isTrue(hp)) say(hp!, 'does not advertise before yielding: higher_prio_send_advert must be false');
    if (dt && isScalar(dt.node) && typeof dt.node.value === 'number' && dt.node.value !== VRRP_DEFAULTS.downTimerAdverts) {
      say(dt, `uses the RFC's Master_Down_Interval: down_timer_adverts must be ${VRRP_DEFAULTS.downTimerAdverts}`);
    }
  }

  // --------------------------------------------------------- definitions ---

  /**
   * A list of named definitions (`scripts`, `track_files`): names valid and
   * unique. Every named entry is registered, parsed or not.
   */
  #definitions<T>(f: Field | undefined, what: string, parse: (item: Field) => { name?: string; value: T | null; at: SourceLoc; nameF?: Field }): Map<string, Def<T>> {
    const c = this.#c;
    const out = new Map<string, Def<T>>();
    for (const item of (f && c.list(f)) ?? []) {
      const r = parse(item);
      if (r.name === undefined) continue;
      const first = out.get(r.name);
      if (first) c.err('XLB_ERR_CONFIG_DUPLICATE', [`${what} name ${JSON.stringify(r.name)}`, c.cite(first.at)], r.nameF?.at ?? r.at, r.nameF?.path ?? item.path);
      else out.set(r.name, { value: r.value, at: r.at });
    }
    return out;
  }

  /** A `name` key of instances, groups, scripts and tracked files. */
  #name(m: Fields): { name?: string; nameF?: Field } {
    const nameF = m.get('name');
    if (!nameF) return {};
    const name = this.#c.pattern(nameF, VRRP_NAME_PATTERN, NAME_WHAT);
    return name === undefined ? { nameF } : { name, nameF };
  }

  /** One `scripts` entry. */
  #script(item: Field): { name?: string; value: VrrpScriptConfig | null; at: SourceLoc; nameF?: Field } {
    const c = this.#c;
    const m = c.mapping(item, VRRP_KEYS.script, keyMessage(VRRP_KEYS.script.allowed, HINTS.script));
    if (!m) return { value: null, at: item.at };
    const { name, nameF } = this.#name(m);
    const r = VRRP_RANGES;
    const d = VRRP_INSTANCE_DEFAULTS;
    const sF = m.get('script');
    const iF = m.get('interval');
    const tF = m.get('timeout');
    const wF = m.get('weight');
    const rvF = m.get('reverse');
    const riF = m.get('rise');
    const faF = m.get('fall');
    const ifF = m.get('init_fail');
    const uF = m.get('user');
    const script = sF && this.#cmd.argv(sF);
    const intervalMs = iF ? c.duration(iF, r.scriptIntervalMs.max, r.scriptIntervalMs.min) : d.scriptIntervalMs;
    const timeoutMs = tF ? c.duration(tF, r.scriptTimeoutMs.max, r.scriptTimeoutMs.min) : intervalMs;
    const weight = wF ? c.int(wF, r.trackWeight) : d.scriptWeight;
    const reverse = rvF ? c.bool(rvF) : false;
    const rise = riF ? c.int(riF, r.rise) : d.scriptRise;
    const fall = faF ? c.int(faF, r.fall) : d.scriptFall;
    const initFail = ifF ? c.bool(ifF) : false;
    const user = uF && this.#cmd.user(uF);
    const base = { at: m.at, ...(name !== undefined ? { name } : {}), ...(nameF ? { nameF } : {}) };
    if (
      name === undefined ||
      !script ||
      intervalMs === undefined ||
      timeoutMs === undefined ||
      weight === undefined ||
      reverse === undefined ||
      rise === undefined ||
      fall === undefined ||
      initFail === undefined ||
      (uF && user === undefined)
    ) {
      return { ...base, value: null };
    }
    const value: VrrpScriptConfig = { name, script, intervalMs, timeoutMs, weight, reverse, rise, fall, initFail, loc: m.at };
    if (user !== undefined) value.user = user;
    this.#cmd.record(script, user, sF!, value);
    return { ...base, value };
  }

  /** One `track_files` entry. */
  #trackFile(item: Field): { name?: string; value: VrrpTrackFileConfig | null; at: SourceLoc; nameF?: Field } {
    const c = this.#c;
    const m = c.mapping(item, VRRP_KEYS.trackFile, keyMessage(VRRP_KEYS.trackFile.allowed, HINTS.trackFile));
    if (!m) return { value: null, at: item.at };
    const { name, nameF } = this.#name(m);
    const fF = m.get('file');
    const wF = m.get('weight');
    const rvF = m.get('reverse');
    const inF = m.get('init_file');
    const file = fF && c.pattern(fF, ABS_PATH, 'an absolute path');
    const weight = wF ? c.int(wF, VRRP_RANGES.trackFileWeight) : VRRP_INSTANCE_DEFAULTS.trackFileWeight;
    const reverse = rvF ? c.bool(rvF) : false;
    let initFile: VrrpTrackFileConfig['initFile'] | null | undefined;
    if (inF) initFile = this.#initFile(inF);
    const base = { at: m.at, ...(name !== undefined ? { name } : {}), ...(nameF ? { nameF } : {}) };
    if (name === undefined || file === undefined || weight === undefined || reverse === undefined || initFile === null) return { ...base, value: null };
    const value: VrrpTrackFileConfig = { name, file, weight, reverse, loc: m.at };
    if (initFile) value.initFile = initFile;
    return { ...base, value };
  }

  /** `init_file`: true (value 0), false, a value, or `{ value, overwrite }`. @returns null after an error */
  #initFile(f: Field): VrrpTrackFileConfig['initFile'] | null {
    const c = this.#c;
    const n = f.node;
    const range = VRRP_RANGES.trackFileInit;
    if (isScalar(n) && typeof n.value === 'boolean') return n.value ? { value: 0, overwrite: false } : undefined;
    if (isScalar(n) && typeof n.value === 'number') {
      const v = c.int(f, range, ', true, false or a mapping');
      return v === undefined ? null : { value: v, overwrite: false };
    }
    if (!isMap(n)) return c.expected(f, `true, false, an integer ${range.min}..${range.max} or a mapping`) ?? null;
    const m = c.mapping(f, VRRP_KEYS.initFile);
    if (!m) return null;
    const vF = m.get('value');
    const oF = m.get('overwrite');
    const value = vF ? c.int(vF, range) : 0;
    const overwrite = oF ? c.bool(oF) : false;
    return value === undefined || overwrite === undefined ? null : { value, overwrite };
  }

  // ------------------------------------------------------------ instances ---

  /** One instance. @returns the draft, or undefined when the entry is not a mapping */
  #instance(
    item: Field,
    dflt: VrrpDefaults,
    scripts: Map<string, Def<VrrpScriptConfig>>,
    files: Map<string, Def<VrrpTrackFileConfig>>,
  ): InstanceDraft | undefined {
    const c = this.#c;
    const m = c.mapping(item, VRRP_KEYS.instance, keyMessage(VRRP_KEYS.instance.allowed, HINTS.instance));
    if (!m) return undefined;
    let complete = true;
    const { name, nameF } = this.#name(m);
    if (name === undefined) complete = false;

    const ifF = m.get('interface');
    const iface = ifF && c.ifname(ifF);
    if (ifF && iface === undefined) complete = false;
    const vridF = m.get('virtual_router_id');
    const vrid = vridF && c.int(vridF, VRRP_RANGES.vrid);
    if (vrid === undefined) complete = false;
    const strictF = m.get('strict');
    const strictOwn = strictF && c.bool(strictF);
    const strict = strictOwn ?? dflt.strict;
    const strictWhy = strictOwn !== undefined ? 'strict: true' : 'vrrp.defaults.strict';

    // addresses first: their family is the instance's
    const vipsF = m.get('virtual_ipaddress');
    const evipsF = m.get('virtual_ipaddress_excluded');
    const vips = vipsF ? this.#vips(vipsF) : [];
    const evips = evipsF ? this.#vips(evipsF) : [];
    const first = vips.find((v) => v.ip);
    const srcF = m.get('unicast_src_ip');
    const src = srcF && this.#hostIp(srcF);
    const peersF = m.get('unicast_peers');
    const peers = peersF ? this.#peers(peersF) : [];
    const family: 4 | 6 = first?.ip?.family ?? src?.family ?? peers.find((p) => p.ip)?.ip?.family ?? 4;
    const familyFrom = first ? 'its virtual_ipaddress' : src ? 'its unicast_src_ip' : 'its first unicast peer';
    if (src && srcF && src.family !== family) {
      complete = false;
      c.err('XLB_ERR_CONFIG_CONFLICT', `unicast_src_ip ${src.text} is ${fam(src.family)} but the instance is ${fam(family)} (${familyFrom})`, srcF.at, srcF.path);
    }
    const seenPeers = new Map<string, SourceLoc>();
    for (const p of peers) {
      if (!p.ip) continue;
      if (p.ip.family !== family) {
        complete = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', `unicast peer ${p.ip.text} is ${fam(p.ip.family)} but the instance is ${fam(family)} (${familyFrom})`, p.addrF.at, p.addrF.path);
        continue;
      }
      if (src && p.ip.text === src.text) {
        c.err('XLB_ERR_CONFIG_CONFLICT', `unicast peer ${p.ip.text} is the instance's own unicast_src_ip`, p.addrF.at, p.addrF.path);
        continue;
      }
      const firstAt = seenPeers.get(p.ip.text);
      if (firstAt) c.err('XLB_ERR_CONFIG_DUPLICATE', [`unicast peer ${p.ip.text}`, c.cite(firstAt)], p.addrF.at, p.addrF.path);
      else seenPeers.set(p.ip.text, p.addrF.at);
    }
    const unicast = peersF !== undefined && peers.length > 0;

    // the interface, or unicast with a source that needs none
    if (!ifF) {
      if (!unicast || !src || isLinkLocal(src)) {
        complete = false;
        const why =
          src && isLinkLocal(src)
            ? `the link-local unicast_src_ip ${src.text} needs one`
            : 'only a unicast instance (unicast_peers) with a unicast_src_ip may omit it';
        c.err('XLB_ERR_CONFIG_MISSING', `missing required key (${why})`, m.at, child(item.path, 'interface'));
      }
    }

    // version and advert interval
    const verF = m.get('version');
    const verOwn = verF && this.#version(verF);
    let version: VrrpVersion = verOwn ?? dflt.version;
    if (family === 6) {
      if (verOwn === 2 && verF) {
        c.err('XLB_ERR_CONFIG_CONFLICT', `VRRPv2 is IPv4 only: an IPv6 instance (${familyFrom}) is version 3`, verF.at, verF.path);
      }
      version = 3;
    }
    const advF = m.get('advert_int');
    const advertIntMs = advF ? this.#advertInt(advF, version, verOwn !== undefined || family === 6) : VRRP_INSTANCE_DEFAULTS.advertIntMs;

    // priority, state, preemption
    const prioF = m.get('priority');
    const prioOwn = prioF && c.int(prioF, VRRP_RANGES.priority);
    const stateF = m.get('state');
    const stateOwn = stateF && c.oneOf(stateF, VRRP_STATES);
    // keepalived: state MASTER without a priority is the owner; no state: MASTER iff owner
    const priority = prioOwn ?? (stateOwn === 'MASTER' && !prioF ? VRRP_PRIO_OWNER : VRRP_INSTANCE_DEFAULTS.priority);
    const state: VrrpWantedState = stateOwn ?? (priority === VRRP_PRIO_OWNER ? 'MASTER' : 'BACKUP');
    const owner = priority === VRRP_PRIO_OWNER;
    const preF = m.get('preempt');
    const preempt = preF ? c.bool(preF) : VRRP_INSTANCE_DEFAULTS.preempt;
    if (preF && preempt === false) {
      if (owner) c.err('XLB_ERR_CONFIG_CONFLICT', 'preempt: false is not allowed for the address owner (priority 255), which always preempts', preF.at, preF.path);
      else if (state === 'MASTER') c.err('XLB_ERR_CONFIG_CONFLICT', "preempt: false needs state: BACKUP (keepalived's nopreempt)", preF.at, preF.path);
    }
    const pdF = m.get('preempt_delay');
    let preemptDelayMs = pdF ? c.duration(pdF, VRRP_RANGES.preemptDelayMs.max) : VRRP_INSTANCE_DEFAULTS.preemptDelayMs;
    if (pdF && preemptDelayMs !== undefined && preemptDelayMs > 0) {
      if (strict) c.err('XLB_ERR_CONFIG_CONFLICT', `strict mode (${strictWhy}) does not allow preempt_delay`, pdF.at, pdF.path);
      else if (preempt === false) c.err('XLB_ERR_CONFIG_CONFLICT', 'preempt_delay has no effect with preempt: false', pdF.at, pdF.path);
      else if (state === 'MASTER') c.err('XLB_ERR_CONFIG_CONFLICT', `preempt_delay has no effect with state: MASTER${stateOwn ? '' : ' (priority 255)'}`, pdF.at, pdF.path);
    }
    if (strict) {
      if (stateF && stateOwn === 'MASTER' && !owner) {
        c.err('XLB_ERR_CONFIG_CONFLICT', `strict mode (${strictWhy}) starts only the address owner (priority 255) as MASTER`, stateF.at, stateF.path);
      } else if (stateF && stateOwn === 'BACKUP' && owner) {
        c.err('XLB_ERR_CONFIG_CONFLICT', `strict mode (${strictWhy}) starts the address owner (priority 255) as MASTER`, stateF.at, stateF.path);
      }
      preemptDelayMs = 0;
    }

    // unicast details
    const cusF = m.get('check_unicast_src');
    const cusOwn = cusF && c.bool(cusF);
    const ttlPeer = peers.find((p) => p.value && (p.minTtlF || p.maxTtlF));
    if (cusF && cusOwn !== undefined && !unicast) {
      c.err('XLB_ERR_CONFIG_CONFLICT', 'check_unicast_src needs unicast_peers', cusF.keyAt, cusF.path);
    } else if (cusF && cusOwn === false && ttlPeer) {
      c.err('XLB_ERR_CONFIG_CONFLICT', `check_unicast_src: false contradicts the TTL bounds of peer ${ttlPeer.value!.address} (they are checked on adverts from listed peers)`, cusF.at, cusF.path);
    }
    const checkUnicastSrc = unicast && (cusOwn ?? (ttlPeer !== undefined || dflt.checkUnicastSrc));

    // authentication: v2 PASS only
    const authF = m.get('authentication');
    let authentication: VrrpInstanceConfig['authentication'];
    if (authF) {
      authentication = this.#authentication(authF);
      if (version === 3) {
        const why = family === 6 ? 'an IPv6 instance is version 3' : verOwn === 3 ? 'version: 3' : 'vrrp.defaults.version: 3';
        c.err('XLB_ERR_CONFIG_CONFLICT', `authentication is VRRPv2 only (RFC 5798 removed it; ${why})`, authF.keyAt, authF.path);
      } else if (strict) {
        c.err('XLB_ERR_CONFIG_CONFLICT', `strict mode (${strictWhy}) does not allow authentication`, authF.keyAt, authF.path);
      }
    }

    const csF = m.get('v3_checksum_as_v2');
    const csOwn = csF && c.bool(csF);
    if (csF && csOwn === true) {
      if (family === 6) c.err('XLB_ERR_CONFIG_CONFLICT', 'v3_checksum_as_v2 applies to IPv4 only (an IPv6 checksum always covers the pseudo-header)', csF.at, csF.path);
      else if (version === 2) c.err('XLB_ERR_CONFIG_CONFLICT', 'v3_checksum_as_v2 applies to VRRPv3 only', csF.at, csF.path);
    }
    const v3ChecksumAsV2 = version === 3 && family === 4 && (csOwn ?? dflt.v3ChecksumAsV2);

    // VMAC
    const vmacF = m.get('use_vmac');
    let vmac: VrrpInstanceConfig['vmac'];
    if (vmacF) {
      const v = this.#vmac(vmacF);
      if (v !== undefined && v !== false) {
        if (!ifF) c.err('XLB_ERR_CONFIG_CONFLICT', 'use_vmac needs an interface (the VMAC is a macvlan on it)', vmacF.keyAt, vmacF.path);
        else if (unicast) c.err('XLB_ERR_CONFIG_CONFLICT', 'use_vmac with unicast_peers is not supported (keepalived needs vmac_xmit_base for it)', vmacF.keyAt, vmacF.path);
        if (vrid !== undefined) vmac = { name: v === true ? defaultVmacName(vrid, family) : v };
      }
    }

    // addresses: one family, at most 255, a device each
    const addrs = this.#resolveVips(vips, evips, vmac?.name ?? iface, ifF !== undefined);
    if (strict && vipsF === undefined) {
      c.err('XLB_ERR_CONFIG_MISSING', `missing required key (strict mode (${strictWhy}) needs at least one virtual address)`, m.at, child(item.path, 'virtual_ipaddress'));
    } else if (strict && vipsF && vips.length === 0) {
      c.err('XLB_ERR_CONFIG_INVALID', `strict mode (${strictWhy}) needs at least one virtual address, got an empty list`, vipsF.at, vipsF.path);
    }
    if (strict && family === 6 && first?.ip && !isLinkLocal(first.ip)) {
      c.err('XLB_ERR_CONFIG_CONFLICT', `strict mode (${strictWhy}): the first IPv6 virtual address must be link-local (fe80::/10, RFC 5798 §5.2.9), got ${first.ip.text}`, first.f.at, first.f.path);
    }

    // trackers
    const tracks: TrackDraft[] = [];
    const trackInterfaces = this.#trackInterfaces(m.get('track_interfaces'), tracks);
    const trackScripts = this.#trackRefs(m.get('track_scripts'), 'script', scripts, tracks);
    const trackFiles = this.#trackRefs(m.get('track_files'), 'file', files, tracks);
    const trackBfd = this.#trackRefs(m.get('track_bfd'), 'bfd', this.#bfd, tracks);
    if (owner) {
      for (const t of tracks) this.#weightMustBeZero(t, 'the address owner (priority 255) is never adjusted: its trackers need weight 0');
    }
    const dtpF = m.get('dont_track_primary');
    const dontTrackPrimary = dtpF ? c.bool(dtpF) : false;
    const bpF = m.get('bfd_peer');
    const bfdPeer = bpF && this.#bfdPeer(bpF, unicast ? peers.flatMap((p) => (p.value ? [p.value.address] : [])) : undefined);

    // notify
    const notify = this.#notify(m, true);

    const knobs = this.#knobs(m, dflt, strict ? strictWhy : undefined);

    const value: VrrpInstanceConfig = {
      name: name ?? '',
      ...(iface !== undefined ? { interface: iface } : {}),
      vrid: vrid ?? 0,
      family,
      version,
      priority,
      state,
      advertIntMs: advertIntMs ?? VRRP_INSTANCE_DEFAULTS.advertIntMs,
      preempt: preempt ?? VRRP_INSTANCE_DEFAULTS.preempt,
      preemptDelayMs: preemptDelayMs ?? 0,
      virtualIpaddress: addrs.vips,
      virtualIpaddressExcluded: addrs.evips,
      ...(src && src.family === family ? { unicastSrcIp: src.text } : {}),
      unicastPeers: peers.flatMap((p) => (p.value && p.ip?.family === family ? [p.value] : [])),
      checkUnicastSrc,
      ...(authentication ? { authentication } : {}),
      v3ChecksumAsV2,
      ...(vmac ? { vmac } : {}),
      trackInterfaces,
      trackScripts,
      trackFiles,
      trackBfd,
      ...(bfdPeer !== undefined ? { bfdPeer } : {}),
      notify,
      garp: knobs.garp,
      downTimerAdverts: knobs.downTimerAdverts,
      lowerPrioNoAdvert: knobs.lowerPrioNoAdvert,
      higherPrioSendAdvert: knobs.higherPrioSendAdvert,
      skipCheckAdvAddr: knobs.skipCheckAdvAddr,
      dontTrackPrimary: dontTrackPrimary ?? false,
      notifyPriorityChanges: knobs.notifyPriorityChanges,
      strict,
      ownerIgnoreAdverts: strict && owner,
      loc: m.at,
    };
    const draft: InstanceDraft = { value, complete, nameAt: nameF?.at ?? m.at, namePath: nameF?.path ?? item.path, tracks, vips: addrs.all };
    if (vridF) draft.vridF = vridF;
    if (vmacF) draft.vmacF = vmacF;
    return draft;
  }

  /**
   * The virtual addresses of an instance, on their devices: the advertised
   * ones of one family (the first entry's) and at most 255.
   * @param dev the default device: the VMAC, else the interface
   * @param hasInterface whether the instance names an interface (else a missing dev is reported)
   */
  #resolveVips(
    vips: VipDraft[],
    evips: VipDraft[],
    dev: string | undefined,
    hasInterface: boolean,
  ): { vips: VrrpVipConfig[]; evips: VrrpVipConfig[]; all: { vip: VrrpVipConfig; path: string }[] } {
    const c = this.#c;
    const out = { vips: [] as VrrpVipConfig[], evips: [] as VrrpVipConfig[], all: [] as { vip: VrrpVipConfig; path: string }[] };
    const first = vips.find((v) => v.ip)?.ip;
    for (const [list, into, advertised] of [[vips, out.vips, true], [evips, out.evips, false]] as const) {
      for (const [i, v] of list.entries()) {
        if (!v.ip || v.prefix === undefined) continue;
        if (advertised && first && v.ip.family !== first.family) {
          c.err(
            'XLB_ERR_CONFIG_CONFLICT',
            `virtual_ipaddress mixes address families: ${v.ip.text} is ${fam(v.ip.family)} but the first entry ${first.text} is ${fam(first.family)} (put the other family in virtual_ipaddress_excluded)`,
            v.f.at,
            v.f.path,
          );
          continue;
        }
        if (advertised && i === VRRP_RANGES.vips.max) {
          c.err(
            'XLB_ERR_CONFIG_INVALID',
            `virtual_ipaddress has ${list.length} entries, more than the ${VRRP_RANGES.vips.max} an advert carries (put the rest in virtual_ipaddress_excluded)`,
            v.f.at,
            v.f.path,
          );
        }
        const vdev = v.dev ?? dev;
        if (vdev === undefined) {
          if (!hasInterface) c.err('XLB_ERR_CONFIG_MISSING', 'missing required key (the instance has no interface to add the address to)', v.f.at, child(v.f.path, 'dev'));
          continue;
        }
        // iproute2's rule: the label is the device's name, or it and ":x"
        if (v.label !== undefined && v.labelF && v.label !== vdev && !v.label.startsWith(`${vdev}:`)) {
          c.err('XLB_ERR_CONFIG_INVALID', `expected a label that is "${vdev}" or starts with "${vdev}:" (the device's name), got ${JSON.stringify(v.label)}`, v.labelF.at, v.labelF.path);
          continue;
        }
        const vip: VrrpVipConfig = {
          address: v.ip.text,
          family: v.ip.family,
          prefix: v.prefix,
          dev: vdev,
          ...(v.label !== undefined ? { label: v.label } : {}),
          noDad: v.noDad,
          scope: v.scope,
          loc: v.f.at,
        };
        into.push(vip);
        out.all.push({ vip, path: v.f.path });
      }
    }
    return out;
  }

  /**
   * GARP timing and keepalived's advert knobs of an instance, over the
   * defaults; strict mode forces what the instance leaves unset and refuses
   * what contradicts it.
   * @param strictWhy the key that makes the instance strict; undefined when it is not
   */
  #knobs(
    m: Fields,
    dflt: VrrpDefaults,
    strictWhy: string | undefined,
  ): Pick<VrrpInstanceConfig, 'garp' | 'downTimerAdverts' | 'lowerPrioNoAdvert' | 'higherPrioSendAdvert' | 'skipCheckAdvAddr' | 'notifyPriorityChanges'> {
    const c = this.#c;
    const g = this.#garp(m);
    const bool = (key: string, dfl: boolean): boolean => {
      const bf = m.get(key);
      return (bf && c.bool(bf)) ?? dfl;
    };
    const dtF = m.get('down_timer_adverts');
    const out = {
      garp: {
        masterDelayMs: g.masterDelayMs ?? dflt.garp.masterDelayMs,
        masterRepeat: g.masterRepeat ?? dflt.garp.masterRepeat,
        masterRefreshMs: g.masterRefreshMs ?? dflt.garp.masterRefreshMs,
        masterRefreshRepeat: g.masterRefreshRepeat ?? dflt.garp.masterRefreshRepeat,
        // keepalived: the global lower-priority burst, not this instance's master one
        lowerPrioDelayMs: g.lowerPrioDelayMs ?? dflt.garp.lowerPrioDelayMs,
        lowerPrioRepeat: g.lowerPrioRepeat ?? dflt.garp.lowerPrioRepeat,
      },
      downTimerAdverts: (dtF && c.int(dtF, VRRP_RANGES.downTimerAdverts)) ?? dflt.downTimerAdverts,
      lowerPrioNoAdvert: bool('lower_prio_no_advert', dflt.lowerPrioNoAdvert),
      higherPrioSendAdvert: bool('higher_prio_send_advert', dflt.higherPrioSendAdvert),
      skipCheckAdvAddr: bool('skip_check_adv_addr', dflt.skipCheckAdvAddr),
      notifyPriorityChanges: bool('notify_priority_changes', dflt.notifyPriorityChanges),
    };
    if (strictWhy !== undefined) {
      this.#strictValues(m, strictWhy);
      out.garp.lowerPrioDelayMs = 0;
      out.garp.lowerPrioRepeat = 0;
      out.lowerPrioNoAdvert = true;
      out.higherPrioSendAdvert = false;
      out.downTimerAdverts = VRRP_DEFAULTS.downTimerAdverts;
    }
    return out;
  }

  /**
   * `advert_int` for the instance's version: v2 whole seconds 1..255 s, v3
   * 10 ms steps 10 ms..40.95 s. keepalived rounds (with a warning); a
   * rounded interval changes failover timing and, in v2, makes the peers
   * drop each other's adverts, so here it is an error naming the nearest
   * values.
   * @param explicit whether the version was written (or forced by IPv6), for the message
   */
  #advertInt(f: Field, version: VrrpVersion, explicit: boolean): number | undefined {
    const c = this.#c;
    const ms = c.duration(f, Number.POSITIVE_INFINITY);
    if (ms === undefined) return undefined;
    const shown = isScalar(f.node) ? JSON.stringify(f.node.value) : '';
    const v = explicit ? `VRRPv${version}` : `the default version, VRRPv${version},`;
    if (version === 2) {
      const r = VRRP_RANGES.advertIntV2Ms;
      // the default version is 2: say how to get sub-second adverts
      const v3 = explicit ? '' : '; version: 3 allows 10ms steps';
      if (ms < r.min || ms > r.max) {
        c.err('XLB_ERR_CONFIG_INVALID', `expected a duration 1s..255s (${v} advertises whole seconds${ms < r.min ? v3 : ''}), got ${shown}`, f.at, f.path);
        return undefined;
      }
      if (ms % 1000 !== 0) {
        const lo = Math.floor(ms / 1000);
        c.err('XLB_ERR_CONFIG_INVALID', `advert_int ${shown} is not a whole number of seconds, as ${v} needs (use ${lo}s or ${lo + 1}s${v3})`, f.at, f.path);
        return undefined;
      }
      return ms;
    }
    const r = VRRP_RANGES.advertIntV3Ms;
    if (ms < r.min || ms > r.max) {
      c.err('XLB_ERR_CONFIG_INVALID', `expected a duration 10ms..40.95s (${v} advertises centiseconds, at most 4095), got ${shown}`, f.at, f.path);
      return undefined;
    }
    if (!Number.isInteger(ms / 10)) {
      const lo = Math.floor(ms / 10) * 10;
      const hi = Math.min(lo + 10, r.max);
      const choices = lo >= r.min ? `${formatDuration(lo)} or ${formatDuration(hi)}` : formatDuration(hi);
      c.err('XLB_ERR_CONFIG_INVALID', `advert_int ${shown} is not a multiple of 10ms, as ${v} needs (use ${choices})`, f.at, f.path);
      return undefined;
    }
    return ms;
  }

  /** An address that may be a host's (not multicast, unspecified or broadcast). */
  #hostIp(f: Field): Ip | undefined {
    const c = this.#c;
    const n = f.node;
    const ip = isScalar(n) && typeof n.value === 'string' ? parseIp(n.value) : undefined;
    if (!ip) return c.expected(f, 'an IPv4 or IPv6 address');
    const bad = badHostAddress(ip);
    if (bad) return c.expected(f, `a unicast address (not ${bad})`);
    return ip;
  }

  /** A list of virtual addresses, each a string (`10.0.0.1/24`) or a mapping. */
  #vips(f: Field): VipDraft[] {
    const c = this.#c;
    const items = c.list(f);
    if (!items) return [];
    const out: VipDraft[] = [];
    const seen = new Map<string, SourceLoc>();
    for (const item of items) {
      const n = item.node;
      const e: VipDraft = { f: item, noDad: false, scope: VRRP_INSTANCE_DEFAULTS.scope };
      let addrF: Field = item;
      let prefixF: Field | undefined;
      if (isMap(n)) {
        const m = c.mapping(item, VRRP_KEYS.vip, keyMessage(VRRP_KEYS.vip.allowed));
        if (!m) continue;
        const aF = m.get('address');
        if (!aF) continue;
        addrF = aF;
        prefixF = m.get('prefix');
        const devF = m.get('dev');
        const labelF = m.get('label');
        const ndF = m.get('no_dad');
        const scF = m.get('scope');
        if (devF) {
          const d = c.ifname(devF);
          if (d === undefined) continue;
          e.dev = d;
        }
        if (labelF) {
          const l = c.pattern(labelF, /^[^/\s]{1,15}$/, 'a label of at most 15 characters, such as eth0:1');
          if (l === undefined) continue;
          e.label = l;
          e.labelF = labelF;
        }
        if (ndF) {
          const nd = c.bool(ndF);
          if (nd === undefined) continue;
          e.noDad = nd;
          e.noDadF = ndF;
        }
        if (scF) {
          const s = c.oneOf(scF, VRRP_SCOPES);
          if (s === undefined) continue;
          e.scope = s;
        }
      } else if (!(isScalar(n) && typeof n.value === 'string')) {
        c.expected(item, 'an address, address/prefix, or a mapping with address');
        continue;
      }
      // address[/prefix]
      const an = addrF.node;
      const text = isScalar(an) && typeof an.value === 'string' ? an.value : undefined;
      if (text === undefined) {
        c.expected(addrF, 'an address or address/prefix');
        continue;
      }
      if (/\s/.test(text.trim())) {
        c.expected(addrF, 'an address or address/prefix (options such as dev or label go in a mapping: { address: 10.0.0.1/24, dev: eth1 })');
        continue;
      }
      const [a, p, extra] = text.trim().split('/');
      const ip = a !== undefined && extra === undefined ? parseIp(a) : undefined;
      if (!ip) {
        c.expected(addrF, 'an address or address/prefix');
        continue;
      }
      const bad = badHostAddress(ip);
      if (bad) {
        c.expected(addrF, `a unicast address (not ${bad})`);
        continue;
      }
      const maxPrefix = ip.family === 4 ? 32 : 128;
      let prefix = maxPrefix;
      if (p !== undefined) {
        if (!/^[0-9]{1,3}$/.test(p) || Number(p) > maxPrefix) {
          c.expected(addrF, `an ${fam(ip.family)} address with a prefix 0..${maxPrefix}`);
          continue;
        }
        prefix = Number(p);
        if (prefixF) {
          c.err('XLB_ERR_CONFIG_CONFLICT', `prefix repeats the /${p} of the address: write it once`, prefixF.keyAt, prefixF.path);
          continue;
        }
      } else if (prefixF) {
        const pv = c.int(prefixF, { min: 0, max: maxPrefix });
        if (pv === undefined) continue;
        prefix = pv;
      }
      if (e.noDad && ip.family === 4) {
        c.err('XLB_ERR_CONFIG_CONFLICT', 'no_dad applies to IPv6 addresses only (IPv4 has no duplicate address detection)', e.noDadF!.at, e.noDadF!.path);
        continue;
      }
      if (e.label !== undefined && ip.family === 6) {
        c.err('XLB_ERR_CONFIG_CONFLICT', 'label applies to IPv4 addresses only', e.labelF!.keyAt, e.labelF!.path);
        continue;
      }
      // one instance adds each address once (a link-local one once per device)
      const key = isLinkLocal(ip) ? `${ip.text}%${e.dev ?? ''}` : ip.text;
      const firstAt = seen.get(key);
      if (firstAt) {
        c.err('XLB_ERR_CONFIG_DUPLICATE', [`virtual address ${ip.text}`, c.cite(firstAt)], addrF.at, item.path);
        continue;
      }
      seen.set(key, addrF.at);
      e.ip = ip;
      e.prefix = prefix;
      out.push(e);
    }
    return out;
  }

  /** `unicast_peers`: addresses or `{ address, min_ttl, max_ttl }`; at least one. */
  #peers(f: Field): PeerDraft[] {
    const c = this.#c;
    const items = c.list(f);
    if (!items) return [];
    if (items.length === 0) {
      c.err('XLB_ERR_CONFIG_INVALID', 'expected at least one peer, got an empty list (leave unicast_peers out for multicast)', f.at, f.path);
      return [];
    }
    const out: PeerDraft[] = [];
    for (const item of items) {
      let addrF: Field = item;
      let minF: Field | undefined;
      let maxF: Field | undefined;
      if (isMap(item.node)) {
        const m = c.mapping(item, VRRP_KEYS.peer, keyMessage(VRRP_KEYS.peer.allowed));
        const aF = m?.get('address');
        if (!m || !aF) continue;
        addrF = aF;
        minF = m.get('min_ttl');
        maxF = m.get('max_ttl');
      }
      const ip = this.#hostIp(addrF);
      const minTtl = minF ? c.int(minF, VRRP_RANGES.ttl) : VRRP_INSTANCE_DEFAULTS.minTtl;
      const maxTtl = maxF ? c.int(maxF, VRRP_RANGES.ttl) : VRRP_INSTANCE_DEFAULTS.maxTtl;
      const e: PeerDraft = { addrF };
      if (minF) e.minTtlF = minF;
      if (maxF) e.maxTtlF = maxF;
      if (ip) e.ip = ip;
      if (minTtl !== undefined && maxTtl !== undefined && minTtl > maxTtl) {
        c.err('XLB_ERR_CONFIG_CONFLICT', `min_ttl ${minTtl} exceeds max_ttl ${maxTtl}`, (minF ?? item).at, (minF ?? item).path);
      } else if (ip && minTtl !== undefined && maxTtl !== undefined) {
        e.value = { address: ip.text, minTtl, maxTtl };
      }
      out.push(e);
    }
    return out;
  }

  /** `authentication`: `{ auth_type: PASS, auth_pass }`. */
  #authentication(f: Field): VrrpInstanceConfig['authentication'] {
    const c = this.#c;
    const m = c.mapping(f, VRRP_KEYS.authentication, keyMessage(VRRP_KEYS.authentication.allowed));
    if (!m) return undefined;
    const tF = m.get('auth_type');
    const pF = m.get('auth_pass');
    let ok = true;
    if (tF) {
      const n = tF.node;
      const t = isScalar(n) && typeof n.value === 'string' ? n.value : undefined;
      if (t === 'AH') {
        ok = false;
        c.err('XLB_ERR_CONFIG_INVALID', 'expected PASS, got "AH" (IPsec AH authentication is not supported)', tF.at, tF.path);
      } else if (c.oneOf(tF, VRRP_AUTH_TYPES) === undefined) ok = false;
    }
    let pass: string | undefined;
    if (pF) {
      const n = pF.node;
      if (isScalar(n) && typeof n.value === 'number' && typeof n.source === 'string') {
        pass = c.expected(pF, `a string (quote it: "${n.source}")`);
      } else pass = c.str(pF, 'a string');
      if (pass !== undefined) {
        const bytes = Buffer.byteLength(pass, 'utf8');
        // keepalived truncates a longer password to its first 8 bytes without a
        // word: the config then reads as if the rest mattered, and two
        // passwords that differ only after byte 8 silently match. Refuse it.
        if (bytes === 0 || bytes > VRRP_RANGES.authPass.max) {
          c.err(
            'XLB_ERR_CONFIG_INVALID',
            bytes === 0
              ? 'expected a password of 1..8 bytes, got an empty string'
              : `auth_pass is ${bytes} bytes, longer than the 8 a VRRPv2 advert carries (keepalived would silently use only the first 8)`,
            pF.at,
            pF.path,
          );
          pass = undefined;
        }
      }
    }
    return ok && pass !== undefined ? { type: 'PASS', pass } : undefined;
  }

  /** `use_vmac`: a boolean or `{ name }`. @returns the name, true (default name) or false */
  #vmac(f: Field): string | boolean | undefined {
    const c = this.#c;
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'boolean') return n.value;
    if (!isMap(n)) return c.expected(f, 'true, false or a mapping with name');
    const m = c.mapping(f, VRRP_KEYS.vmac);
    if (!m) return undefined;
    const nF = m.get('name');
    if (!nF) return true;
    return c.ifname(nF);
  }

  // ------------------------------------------------------------- trackers ---

  /** `track_interfaces`: names or `{ name, weight, reverse }`; names unique. */
  #trackInterfaces(f: Field | undefined, tracks: TrackDraft[]): VrrpTrackInterfaceConfig[] {
    const c = this.#c;
    const out: VrrpTrackInterfaceConfig[] = [];
    const seen = new Map<string, SourceLoc>();
    for (const item of (f && c.list(f)) ?? []) {
      let nameF: Field = item;
      let wF: Field | undefined;
      let rF: Field | undefined;
      if (isMap(item.node)) {
        const m = c.mapping(item, VRRP_KEYS.trackInterface, keyMessage(VRRP_KEYS.trackInterface.allowed));
        const nf = m?.get('name');
        if (!m || !nf) continue;
        nameF = nf;
        wF = m.get('weight');
        rF = m.get('reverse');
      }
      const name = c.ifname(nameF);
      const weight = wF ? c.int(wF, VRRP_RANGES.trackWeight) : 0;
      const reverse = rF ? c.bool(rF) : false;
      if (name === undefined || weight === undefined || reverse === undefined) continue;
      const first = seen.get(name);
      if (first) {
        c.err('XLB_ERR_CONFIG_DUPLICATE', [`tracked interface ${name}`, c.cite(first)], nameF.at, item.path);
        continue;
      }
      seen.set(name, nameF.at);
      const value = { name, weight, reverse };
      out.push(value);
      const t: TrackDraft = { kind: 'interface', value, at: item.at, path: item.path };
      if (wF) t.weightF = wF;
      tracks.push(t);
    }
    return out;
  }

  /**
   * `bfd_peer`: a session of `bfd.instances`, to the other VRRP node; with
   * unicast peers, its neighbor is one of them.
   * @param peers the instance's unicast peers; undefined for multicast
   */
  #bfdPeer(f: Field, peers: readonly string[] | undefined): string | undefined {
    const c = this.#c;
    const name = c.pattern(f, VRRP_NAME_PATTERN, 'a bfd instance name');
    if (name === undefined) return undefined;
    const ref = this.#bfd.get(name);
    if (!ref) {
      const tail = candidates(name, [...this.#bfd.keys()], 'bfd.instances defines none');
      c.err('XLB_ERR_CONFIG_INVALID', `no bfd instance named ${JSON.stringify(name)} in bfd.instances${tail}`, f.at, f.path);
      return undefined;
    }
    if (ref.value && peers && peers.length > 0 && !peers.includes(ref.value.neighborIp)) {
      c.err(
        'XLB_ERR_CONFIG_CONFLICT',
        `bfd_peer ${name} goes to ${ref.value.neighborIp} (${c.cite(ref.at)}), which is not a unicast peer of this instance (${peers.join(', ')}): the session must be the one to the other VRRP node`,
        f.at,
        f.path,
      );
      return undefined;
    }
    return name;
  }

  /** `track_scripts` / `track_files` / `track_bfd`: names or `{ name, weight, reverse }`, each defined; weights resolved. */
  #trackRefs<T extends { weight: number; reverse: boolean }>(
    f: Field | undefined,
    kind: 'script' | 'file' | 'bfd',
    defs: ReadonlyMap<string, Def<T>>,
    tracks: TrackDraft[],
  ): VrrpTrackRefConfig[] {
    const c = this.#c;
    const out: VrrpTrackRefConfig[] = [];
    const seen = new Map<string, SourceLoc>();
    const where = kind === 'script' ? 'vrrp.scripts' : kind === 'file' ? 'vrrp.track_files' : 'bfd.instances';
    const what = kind === 'script' ? 'script' : kind === 'file' ? 'tracked file' : 'bfd instance';
    // keepalived: scripts and BFD -253..253, files -254..254 (a multiplier)
    const range = kind === 'file' ? VRRP_RANGES.trackFileWeight : VRRP_RANGES.trackWeight;
    for (const item of (f && c.list(f)) ?? []) {
      let nameF: Field = item;
      let wF: Field | undefined;
      let rF: Field | undefined;
      if (isMap(item.node)) {
        const m = c.mapping(item, VRRP_KEYS.trackRef, keyMessage(VRRP_KEYS.trackRef.allowed));
        const nf = m?.get('name');
        if (!m || !nf) continue;
        nameF = nf;
        wF = m.get('weight');
        rF = m.get('reverse');
      } else if (!(isScalar(item.node) && typeof item.node.value === 'string')) {
        c.expected(item, `a ${kind === 'bfd' ? 'bfd instance' : kind} name or a mapping with name`);
        continue;
      }
      const name = c.pattern(nameF, VRRP_NAME_PATTERN, NAME_WHAT);
      const weight = wF && c.int(wF, range);
      const reverse = rF && c.bool(rF);
      if (name === undefined || (wF && weight === undefined) || (rF && reverse === undefined)) continue;
      const def = defs.get(name);
      if (!def) {
        const tail = candidates(name, [...defs.keys()], `${where} defines none`);
        c.err('XLB_ERR_CONFIG_INVALID', `no ${what} named ${JSON.stringify(name)} in ${where}${tail}`, nameF.at, nameF.path);
        continue;
      }
      const first = seen.get(name);
      if (first) {
        c.err('XLB_ERR_CONFIG_DUPLICATE', [`tracked ${kind} ${name}`, c.cite(first)], nameF.at, item.path);
        continue;
      }
      seen.set(name, nameF.at);
      if (!def.value) continue; // its own errors are reported
      const value: VrrpTrackRefConfig = { name, weight: weight ?? def.value.weight, reverse: reverse ?? def.value.reverse };
      out.push(value);
      const t: TrackDraft = { kind, value, at: item.at, path: item.path };
      if (wF) t.weightF = wF;
      else t.defAt = def.at;
      tracks.push(t);
    }
    return out;
  }

  /** Records an error when a tracker's weight is not 0; `why` ends the sentence. */
  #weightMustBeZero(t: TrackDraft, why: string): void {
    const c = this.#c;
    if (t.value.weight === 0) return;
    if (t.weightF) {
      c.err('XLB_ERR_CONFIG_CONFLICT', `weight ${t.value.weight}: ${why}`, t.weightF.at, t.weightF.path);
    } else if (t.defAt) {
      const what = t.kind === 'script' ? 'script' : t.kind === 'file' ? 'tracked file' : 'bfd instance';
      c.err('XLB_ERR_CONFIG_CONFLICT', `${what} ${t.value.name} has weight ${t.value.weight} (${c.cite(t.defAt)}): ${why} (write weight: 0 here)`, t.at, t.path);
    }
  }

  /** The notify keys of an instance (with notify_master_rx_lower_pri) or a group. */
  #notify(m: Fields, instance: boolean): VrrpNotifyConfig {
    const out: VrrpNotifyConfig = {};
    const keys = [
      ['notify_master', 'master'],
      ['notify_backup', 'backup'],
      ['notify_fault', 'fault'],
      ['notify_stop', 'stop'],
      ['notify', 'any'],
      ...(instance ? ([['notify_master_rx_lower_pri', 'masterRxLowerPri']] as const) : []),
    ] as const;
    for (const [key, field] of keys) {
      const f = m.get(key);
      const cmd = f && this.#cmd.command(f);
      if (cmd) out[field] = cmd;
    }
    return out;
  }

  // --------------------------------------------------------- cross checks ---

  /** Names, VRIDs per interface and family, VMAC names, addresses across instances. */
  #crossChecks(instances: InstanceDraft[]): void {
    const c = this.#c;
    const names = new Map<string, SourceLoc>();
    const vmacs = new Map<string, SourceLoc>();
    const addrs = new Map<string, SourceLoc>();
    const byVrid = new Map<string, InstanceDraft[]>();
    for (const d of instances) {
      const v = d.value;
      if (v.name !== '') {
        const first = names.get(v.name);
        if (first) c.err('XLB_ERR_CONFIG_DUPLICATE', [`instance name ${JSON.stringify(v.name)}`, c.cite(first)], d.nameAt, d.namePath);
        else names.set(v.name, d.nameAt);
      }
      if (v.vmac && d.vmacF) {
        const first = vmacs.get(v.vmac.name);
        if (first) c.err('XLB_ERR_CONFIG_DUPLICATE', [`VMAC interface ${v.vmac.name}`, c.cite(first)], d.vmacF.at, d.vmacF.path);
        else vmacs.set(v.vmac.name, d.vmacF.at);
      }
      for (const { vip, path } of d.vips) {
        const key = vip.family === 6 && /^fe[89ab]/.test(vip.address) ? `${vip.address}%${vip.dev}` : vip.address;
        // within one list the list check reported it; here: across lists and instances
        const first = addrs.get(key);
        if (first) c.err('XLB_ERR_CONFIG_DUPLICATE', [`virtual address ${vip.address}`, c.cite(first)], vip.loc, path);
        else addrs.set(key, vip.loc);
      }
      if (!d.complete || !d.vridF) continue;
      const key = `${v.interface ?? ''}|${v.vrid}|${v.family}`;
      const earlier = byVrid.get(key) ?? [];
      for (const o of earlier) {
        const a = o.value.unicastPeers.map((p) => p.address);
        const b = new Set(v.unicastPeers.map((p) => p.address));
        const shared = a.filter((x) => b.has(x));
        const where = v.interface !== undefined ? `on ${v.interface}` : 'without an interface';
        if (a.length > 0 && b.size > 0 && shared.length === 0) continue;
        const why =
          a.length > 0 && b.size > 0
            ? `they share the unicast peer ${shared[0]}`
            : 'instances may share one only as unicast instances whose peers do not overlap';
        c.err(
          'XLB_ERR_CONFIG_CONFLICT',
          `virtual_router_id ${v.vrid} ${where} (${fam(v.family)}) is also instance ${o.value.name}'s (${c.cite(o.value.loc)}); ${why}`,
          d.vridF.at,
          d.vridF.path,
        );
        break;
      }
      earlier.push(d);
      byVrid.set(key, earlier);
    }
  }

  // ---------------------------------------------------------- sync groups ---

  /** `sync_groups`: members exist, each in one group; trackers and notify. */
  #syncGroups(
    f: Field | undefined,
    instances: InstanceDraft[],
    scripts: Map<string, Def<VrrpScriptConfig>>,
    files: Map<string, Def<VrrpTrackFileConfig>>,
  ): VrrpSyncGroupConfig[] {
    const c = this.#c;
    const out: VrrpSyncGroupConfig[] = [];
    const byName = new Map<string, InstanceDraft>();
    for (const d of instances) if (d.value.name !== '' && !byName.has(d.value.name)) byName.set(d.value.name, d);
    const groupNames = new Map<string, SourceLoc>();
    const memberOf = new Map<string, { group: string; at: SourceLoc }>();
    for (const item of (f && c.list(f)) ?? []) {
      const m = c.mapping(item, VRRP_KEYS.syncGroup, keyMessage(VRRP_KEYS.syncGroup.allowed, HINTS.syncGroup));
      if (!m) continue;
      const { name, nameF } = this.#name(m);
      if (name !== undefined && nameF) {
        const first = groupNames.get(name);
        if (first) c.err('XLB_ERR_CONFIG_DUPLICATE', [`sync group name ${JSON.stringify(name)}`, c.cite(first)], nameF.at, nameF.path);
        else groupNames.set(name, nameF.at);
      }
      const twF = m.get('tracking_weight');
      const trackingWeight = (twF && c.bool(twF)) ?? false;

      // members
      const members: InstanceDraft[] = [];
      const group: string[] = [];
      const gF = m.get('group');
      const items = gF && c.list(gF);
      if (gF && items && items.length === 0) {
        c.err('XLB_ERR_CONFIG_INVALID', 'expected at least one instance name, got an empty list', gF.at, gF.path);
      }
      const seen = new Map<string, SourceLoc>();
      for (const gi of items ?? []) {
        const iname = c.pattern(gi, VRRP_NAME_PATTERN, 'an instance name');
        if (iname === undefined) continue;
        const d = byName.get(iname);
        if (!d) {
          const tail = candidates(iname, [...byName.keys()], 'vrrp.instances defines none');
          c.err('XLB_ERR_CONFIG_INVALID', `no instance named ${JSON.stringify(iname)} in vrrp.instances${tail}`, gi.at, gi.path);
          continue;
        }
        const dup = seen.get(iname);
        if (dup) {
          c.err('XLB_ERR_CONFIG_DUPLICATE', [`member ${iname}`, c.cite(dup)], gi.at, gi.path);
          continue;
        }
        seen.set(iname, gi.at);
        const other = memberOf.get(iname);
        if (other) {
          c.err('XLB_ERR_CONFIG_CONFLICT', `instance ${iname} is already in sync group ${other.group} (${c.cite(other.at)}); an instance is in at most one group`, gi.at, gi.path);
          continue;
        }
        if (name !== undefined) memberOf.set(iname, { group: name, at: gi.at });
        members.push(d);
        group.push(iname);
      }

      // trackers of the group: weight 0 unless tracking_weight
      const tracks: TrackDraft[] = [];
      const trackInterfaces = this.#trackInterfaces(m.get('track_interfaces'), tracks);
      const trackScripts = this.#trackRefs(m.get('track_scripts'), 'script', scripts, tracks);
      const trackFiles = this.#trackRefs(m.get('track_files'), 'file', files, tracks);
      const trackBfd = this.#trackRefs(m.get('track_bfd'), 'bfd', this.#bfd, tracks);
      const owners = members.filter((d) => d.value.priority === VRRP_PRIO_OWNER).map((d) => d.value.name);
      for (const t of tracks) {
        if (!trackingWeight) this.#weightMustBeZero(t, "a sync group's trackers need weight 0 unless tracking_weight: true");
        else if (owners.length > 0) this.#weightMustBeZero(t, `member ${owners[0]} is the address owner (priority 255), which is never adjusted`);
      }
      // and so do the members' own, unless tracking_weight
      if (!trackingWeight && name !== undefined) {
        for (const d of members) {
          for (const t of d.tracks) {
            this.#weightMustBeZero(t, `instance ${d.value.name} is in sync group ${name}, whose members' trackers need weight 0 unless tracking_weight: true`);
          }
        }
      }
      const notify = this.#notify(m, false);
      if (name === undefined || !gF) continue;
      for (const d of members) d.value.syncGroup = name;
      out.push({ name, group, trackInterfaces, trackScripts, trackFiles, trackBfd, notify, trackingWeight, loc: m.at });
    }
    return out;
  }
}
