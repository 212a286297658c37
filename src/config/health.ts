/**
 * @module config/health
 * The health-check part of the config format: `services[].health`,
 * `services[].backends[].health` and their `checks`, checked and resolved
 * into the model of src/health/spec.ts. Called by load.ts; the Checker of
 * ./fields.ts records the errors (file:line:col, dotted key, what was
 * expected).
 *
 * Layer: control plane. Pure: no I/O.
 *
 * Commands (misc checks, notify_up/notify_down, quorum_up/quorum_down, and
 * VRRP's, which ./vrrp.ts parses here too) are argv, never a shell. Each one
 * parsed is recorded with where it was written ({@link commandSites}) so that
 * the load can check and resolve it afterwards
 * (src/security/script-security.ts, which does the file system part).
 *
 * Every check is validated once, where it is written (a service's default
 * checks are not re-checked per backend), so each error is reported once.
 * Resolution then cannot fail: for each backend, its own `checks` or else
 * the service's, each completed with timing from the check, else the
 * backend's `health`, else the service's `health`, else
 * {@link DEFAULT_CHECK_TIMING} (`warmup` defaults to the resolved interval).
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import {
  CHECK_TARGETS,
  CHECK_TYPES,
  DEFAULT_CHECK_TIMING,
  DNS_TYPES,
  type BackendHealthSpec,
  type CheckSpec,
  type CheckTiming,
  type CheckType,
  type DnsType,
  type HttpCheckSpec,
  type NetCheckBase,
  type ServiceHealthSpec,
  type StatusRange,
  type TlsSpec,
  type UdpCheckSpec,
} from '../health/spec.js';
import type { CommandSite, ScriptCommand } from '../security/script-security.js';
import type { BfdNames } from './bfd-model.js';
import { nameCandidates, unknownKeyMessage } from './did-you-mean.js';
import { child, type Checker, type Field, type Fields } from './fields.js';
import {
  CHECK_TIMING_RANGES,
  defaultServiceHealth,
  HEALTH_DEFAULTS,
  HEALTH_RANGES,
  PORT_RANGE,
  type IntRange,
  type Protocol,
  type ServiceMode,
} from './model.js';

// ------------------------------------------------------------------ keys ---

/** Timing keys: in a service's or a backend's `health` (inherited) and in a check (wins). */
const TIMING_KEYS = ['interval', 'timeout', 'retries', 'retry_delay', 'rise', 'fall', 'warmup', 'alpha'] as const;
/** Keys of the network checks (all but misc and file); icmp has no port. */
const NET_KEYS = ['connect_address', 'connect_port', 'bind_address', 'bind_interface', 'fwmark', 'target'] as const;
const HTTP_KEYS = ['path', 'host', 'http_version', 'status', 'digest', 'regex', 'regex_no_match', 'max_body'] as const;

/** The keys of each check type, in documentation order. */
export const CHECK_KEYS: Readonly<Record<CheckType, readonly string[]>> = Object.freeze({
  tcp: ['type', ...TIMING_KEYS, ...NET_KEYS],
  http: ['type', ...TIMING_KEYS, ...NET_KEYS, ...HTTP_KEYS],
  https: ['type', ...TIMING_KEYS, ...NET_KEYS, ...HTTP_KEYS, 'tls'],
  udp: ['type', ...TIMING_KEYS, ...NET_KEYS, 'payload', 'require_reply', 'expect', 'min_reply_length', 'max_reply_length'],
  icmp: ['type', ...TIMING_KEYS, ...NET_KEYS.filter((k) => k !== 'connect_port')],
  dns: ['type', ...TIMING_KEYS, ...NET_KEYS, 'query_type', 'query_name', 'expect'],
  smtp: ['type', ...TIMING_KEYS, ...NET_KEYS, 'helo_name'],
  misc: ['type', ...TIMING_KEYS, 'command', 'dynamic', 'user'],
  file: ['type', ...TIMING_KEYS, 'path', 'weight', 'reverse'],
  // keepalived's BFD_CHECK: the session's timers are the check's; only alpha applies
  bfd: ['type', 'name', 'alpha'],
});

/** Keys a check type requires besides `type`. */
export const CHECK_REQUIRED: Readonly<Partial<Record<CheckType, readonly string[]>>> = Object.freeze({
  misc: ['command'],
  file: ['path'],
  bfd: ['name'],
});

/** Every key of some check type, in documentation order. */
const ALL_CHECK_KEYS: readonly string[] = [...new Set(CHECK_TYPES.flatMap((t) => CHECK_KEYS[t]))];

/** The mappings of the health part of the format (merged into load.ts CONFIG_KEYS). */
export const HEALTH_KEYS = {
  serviceHealth: {
    allowed: [...TIMING_KEYS, 'inhibit_on_failure', 'slow_start', 'quorum', 'hysteresis', 'quorum_up', 'quorum_down', 'checks'],
    required: [],
  },
  backendHealth: {
    allowed: [...TIMING_KEYS, 'inhibit_on_failure', 'slow_start', 'notify_up', 'notify_down', 'checks'],
    required: [],
  },
  check: { allowed: ALL_CHECK_KEYS, required: ['type'] },
  tls: { allowed: ['verify', 'ca', 'cert', 'key', 'server_name'], required: [] },
  sorryServer: { allowed: ['address', 'port'], required: ['address'] },
  // a notify or quorum command written as a mapping (VRRP's notify keys too)
  command: { allowed: ['command', 'user'], required: ['command'] },
} as const satisfies Record<string, { allowed: readonly string[]; required: readonly string[] }>;

/** "a tcp check", "an http check": the article goes by how the name is spoken. */
function aCheck(t: CheckType): string {
  return `${['http', 'https', 'icmp', 'smtp'].includes(t) ? 'an' : 'a'} ${t} check`;
}

/** `a`, `a and b`, `a, b and c`. */
function andList(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** The message for a key of another check type: `"digest" is not a key of a tcp check (only of http and https checks)`. */
function notOfType(key: string, t: CheckType): string {
  const owners = CHECK_TYPES.filter((o) => CHECK_KEYS[o].includes(key));
  return `${JSON.stringify(key)} is not a key of ${aCheck(t)} (only of ${andList(owners)} checks)`;
}

/** The message for an unknown key in a `health` mapping, naming where a misplaced key belongs. */
function healthKeyMessage(key: string, where: 'service' | 'backend'): string {
  const shown = JSON.stringify(key);
  if (where === 'service' && (HEALTH_KEYS.backendHealth.allowed as readonly string[]).includes(key)) {
    return `${shown} belongs in a backend's health, not the service's`;
  }
  if (where === 'backend' && (HEALTH_KEYS.serviceHealth.allowed as readonly string[]).includes(key)) {
    return `${shown} belongs in the service's health, not a backend's`;
  }
  if (ALL_CHECK_KEYS.includes(key)) return `${shown} belongs in an entry of checks, not directly in health`;
  return unknownKeyMessage(key, where === 'service' ? HEALTH_KEYS.serviceHealth.allowed : HEALTH_KEYS.backendHealth.allowed);
}

// ------------------------------------------------------- pure value parsers ---

/** Thrown by {@link parseStatusList} and {@link parseStatusRange}; the message says what is wrong. */
export class StatusListError extends TypeError {}
Object.defineProperty(StatusListError.prototype, 'name', { value: 'StatusListError', writable: true, configurable: true });

/** Accepted HTTP status codes. */
export const STATUS_CODE_RANGE: IntRange = { min: 100, max: 599 };

/**
 * One status code or an inclusive range: `200`, `200-299`.
 * @throws StatusListError e.g. `600 is outside 100..599`, `300-200 runs backwards`
 */
export function parseStatusRange(token: string): StatusRange {
  const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(token);
  if (!m) throw new StatusListError(`${JSON.stringify(token)} is not a code or a range`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  for (const v of [min, max]) {
    if (v < STATUS_CODE_RANGE.min || v > STATUS_CODE_RANGE.max) {
      throw new StatusListError(`${v} is outside ${STATUS_CODE_RANGE.min}..${STATUS_CODE_RANGE.max}`);
    }
  }
  if (min > max) throw new StatusListError(`${token} runs backwards`);
  return { min, max };
}

/**
 * A status list as keepalived writes it: codes and ranges separated by
 * whitespace or commas, `200-299 400-499 503`. Kept in the order written.
 * @throws StatusListError when a token is bad or the list is empty
 */
export function parseStatusList(text: string): StatusRange[] {
  const tokens = text.split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new StatusListError('no status code');
  return tokens.map(parseStatusRange);
}

/** Thrown by {@link splitCommand}. */
export class CommandError extends TypeError {}
Object.defineProperty(CommandError.prototype, 'name', { value: 'CommandError', writable: true, configurable: true });

/**
 * Split a command written as one string into argv, without a shell:
 * whitespace separates words; `"..."` keeps spaces (inside it `\"` is a quote
 * and `\\` a backslash) and may join a word (`a"b c"` is `ab c`); `""` is an
 * empty word. Nothing else is special: no variables, globs, pipes or `'`.
 * @throws CommandError when a double quote is not closed
 */
export function splitCommand(text: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      inWord = true;
      let closed = false;
      for (i++; i < text.length; i++) {
        const q = text[i]!;
        if (q === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
        else if (q === '"') {
          closed = true;
          break;
        } else word += q;
      }
      if (!closed) throw new CommandError('a double quote is not closed');
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) argv.push(word);
  return argv;
}

/**
 * Hex bytes (`0a1b`), optionally with `X`/`x` nibble wildcards (`0aXX`).
 * @returns the bytes and, with wildcards allowed, the mask (0 bits where a
 *   nibble is a wildcard), or undefined when `text` is not an even number of
 *   hex digits (and wildcards)
 */
export function parseHex(text: string, wildcards: boolean): { bytes: Uint8Array; mask: Uint8Array } | undefined {
  const re = wildcards ? /^([0-9a-fA-FxX]{2})+$/ : /^([0-9a-fA-F]{2})+$/;
  if (!re.test(text)) return undefined;
  const bytes = new Uint8Array(text.length / 2);
  const mask = new Uint8Array(text.length / 2);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const wild = ch === 'x' || ch === 'X';
    const shift = i % 2 === 0 ? 4 : 0;
    if (!wild) {
      bytes[i >> 1]! |= parseInt(ch, 16) << shift;
      mask[i >> 1]! |= 0xf << shift;
    }
  }
  return { bytes, mask };
}

/** DNS names (`.`, `example.com`, `example.com.`, `_sip._udp.example.com`). */
const DNS_NAME = /^(?=.{1,254}$)(\.|([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?)$/i;
/** Host names (SNI, HELO): letters, digits, `-`, dot-separated labels, an optional final dot; not an IPv4 address. */
const HOST_NAME = /^(?![0-9.]+$)(?=.{1,253}\.?$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
/** A user (POSIX portable name, as useradd accepts it, or a uid), optionally `:group` (a name or a gid). */
export const USER_SPEC = /^([A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|[0-9]{1,10})(:([A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|[0-9]{1,10}))?$/;
/** What {@link USER_SPEC} accepts, for messages. */
export const USER_SPEC_TEXT = 'a user name or uid, optionally with ":group" (nobody, 65534, nobody:nogroup)';

/** The commands parsed with each Checker, in the order met: the load checks them afterwards. */
const SITES = new WeakMap<Checker, CommandSite[]>();

/**
 * The commands parsed so far with `c` (misc checks, notify and quorum
 * commands, VRRP scripts and notify commands), each with where it was
 * written and the model object the load-time check fills in.
 * @param c the config's Checker
 */
export function commandSites(c: Checker): CommandSite[] {
  let list = SITES.get(c);
  if (!list) SITES.set(c, (list = []));
  return list;
}

// ------------------------------------------------------------ the parser ---

/** What a check needs to know of its service (undefined where that did not parse: the checks that need it are skipped). */
export interface ServiceContext {
  family?: 4 | 6;
  /** 0 = all ports. */
  port?: number;
  protocol?: Protocol;
  mode?: ServiceMode;
}

/** A check's type-specific part, without timing. */
type Body<T> = T extends unknown ? Omit<T, keyof CheckTiming> : never;
type CheckBody = Body<CheckSpec>;

/** A check as written: the timing keys it sets, and the rest with defaults filled. */
interface ParsedCheck {
  timing: Partial<CheckTiming>;
  body: CheckBody;
  /** A misc check's command: where it was written. */
  site?: { at: CommandSite['at']; key: string };
}

/** What a `health` mapping sets for the level below it. */
export interface HealthDefaults {
  timing: Partial<CheckTiming>;
  inhibitOnFailure?: boolean;
  slowStartMs?: number;
  /** The `checks` list, when the mapping has one. */
  checks?: ParsedCheck[];
}

/** YAML timing keys -> model fields. */
const TIMING_FIELDS = {
  interval: 'intervalMs',
  timeout: 'timeoutMs',
  retries: 'retries',
  retry_delay: 'retryDelayMs',
  rise: 'rise',
  fall: 'fall',
  warmup: 'warmupMs',
} as const satisfies Record<Exclude<(typeof TIMING_KEYS)[number], 'alpha'>, Exclude<keyof CheckTiming, 'alpha'>>;

/** Parses and resolves the health part of a config; one per config, sharing the load.ts Checker (./fields.ts). */
export class HealthParser {
  /**
   * @param c the Checker errors go to
   * @param bfd the config's BFD sessions by name, which `type: bfd` checks
   *   name (none: the config has no `bfd:`)
   */
  constructor(
    private readonly c: Checker,
    private readonly bfd: BfdNames = new Map(),
  ) {}

  /**
   * `services[].health`.
   * @returns the service's quorum settings (defaults when absent) and what
   *   its backends inherit
   */
  service(f: Field | undefined, svc: ServiceContext): { spec: ServiceHealthSpec; defaults: HealthDefaults } {
    const spec = defaultServiceHealth();
    const defaults: HealthDefaults = { timing: {} };
    if (!f) return { spec, defaults };
    const m = this.c.mapping(f, HEALTH_KEYS.serviceHealth, (k) => healthKeyMessage(k, 'service'));
    if (!m) return { spec, defaults };
    this.common(m, svc, defaults);
    const q = m.get('quorum');
    const h = m.get('hysteresis');
    const up = m.get('quorum_up');
    const down = m.get('quorum_down');
    if (q) spec.quorum = this.c.int(q, HEALTH_RANGES.quorum) ?? spec.quorum;
    if (h) spec.hysteresis = this.c.int(h, HEALTH_RANGES.hysteresis) ?? spec.hysteresis;
    const upCmd = up && this.command(up);
    const downCmd = down && this.command(down);
    if (upCmd) spec.quorumUp = upCmd;
    if (downCmd) spec.quorumDown = downCmd;
    return { spec, defaults };
  }

  /**
   * `services[].backends[].health`, resolved against what the service sets.
   * @returns the backend's health; no checks when neither level has any
   */
  backend(f: Field | undefined, svc: ServiceContext, inherited: HealthDefaults): BackendHealthSpec {
    const own: HealthDefaults = { timing: {} };
    let notifyUp: ScriptCommand | undefined;
    let notifyDown: ScriptCommand | undefined;
    const m = f && this.c.mapping(f, HEALTH_KEYS.backendHealth, (k) => healthKeyMessage(k, 'backend'));
    if (m) {
      this.common(m, svc, own);
      const up = m.get('notify_up');
      const down = m.get('notify_down');
      notifyUp = up && this.command(up);
      notifyDown = down && this.command(down);
    }
    const checks = own.checks ?? inherited.checks ?? [];
    const out: BackendHealthSpec = {
      checks: checks.map((pc) => resolve(pc, own.timing, inherited.timing)),
      inhibitOnFailure: own.inhibitOnFailure ?? inherited.inhibitOnFailure ?? HEALTH_DEFAULTS.inhibitOnFailure,
      slowStartMs: own.slowStartMs ?? inherited.slowStartMs ?? HEALTH_DEFAULTS.slowStartMs,
    };
    if (notifyUp) out.notifyUp = notifyUp;
    if (notifyDown) out.notifyDown = notifyDown;
    // each backend's misc checks are its own copies: the load resolves each
    out.checks.forEach((cs, i) => {
      const site = checks[i]!.site;
      if (cs.type === 'misc' && site) this.#site(cs.command, cs.user, site.at, site.key, cs);
    });
    return out;
  }

  /** The keys both levels share: timing, inhibit_on_failure, slow_start, checks. */
  private common(m: Fields, svc: ServiceContext, out: HealthDefaults): void {
    out.timing = this.timing(m);
    const inh = m.get('inhibit_on_failure');
    const ss = m.get('slow_start');
    const checks = m.get('checks');
    if (inh) out.inhibitOnFailure = this.c.bool(inh);
    if (ss) out.slowStartMs = this.c.duration(ss, HEALTH_RANGES.slowStartMs.max);
    if (checks) out.checks = this.checks(checks, svc);
  }

  /** The timing keys a mapping sets. */
  private timing(m: Fields): Partial<CheckTiming> {
    const t: Partial<CheckTiming> = {};
    for (const [key, field] of Object.entries(TIMING_FIELDS) as [keyof typeof TIMING_FIELDS, Exclude<keyof CheckTiming, 'alpha'>][]) {
      const f = m.get(key);
      if (!f) continue;
      const r = CHECK_TIMING_RANGES[field];
      const v = field === 'retries' || field === 'rise' || field === 'fall' ? this.c.int(f, r) : this.c.duration(f, r.max, r.min);
      if (v !== undefined) t[field] = v;
    }
    const alpha = m.get('alpha');
    const a = alpha && this.c.bool(alpha);
    if (a !== undefined) t.alpha = a;
    return t;
  }

  /** A `checks` list. At most one check may set the backend's weight. */
  private checks(f: Field, svc: ServiceContext): ParsedCheck[] | undefined {
    const items = this.c.list(f);
    if (!items) return undefined;
    const out: ParsedCheck[] = [];
    let weightSetter: string | undefined;
    for (const item of items) {
      const pc = this.check(item, svc);
      if (!pc) continue;
      const b = pc.body;
      if ((b.type === 'misc' && b.dynamic) || (b.type === 'file' && b.weight !== 0)) {
        if (weightSetter !== undefined) {
          this.c.err(
            'XLB_ERR_CONFIG_CONFLICT',
            `only one check may set the backend's weight, and ${weightSetter} already does ` +
              '(a misc check with dynamic: true, or a file check with a weight other than 0)',
            item.at,
            item.path,
          );
        } else weightSetter = item.path.slice(item.path.lastIndexOf('checks['));
      }
      out.push(pc);
    }
    return out;
  }

  /** One entry of `checks`. */
  private check(f: Field, svc: ServiceContext): ParsedCheck | undefined {
    const c = this.c;
    const peeked = this.peekType(f.node);
    const allowed = peeked ? CHECK_KEYS[peeked] : ALL_CHECK_KEYS;
    const m = c.mapping(f, { allowed, required: ['type'] }, (k) =>
      peeked && ALL_CHECK_KEYS.includes(k) ? notOfType(k, peeked) : unknownKeyMessage(k, allowed),
    );
    if (!m) return undefined;
    const typeF = m.get('type');
    const type = typeF && c.oneOf(typeF, CHECK_TYPES);
    const timing = this.timing(m);
    if (!type) return undefined;
    for (const k of CHECK_REQUIRED[type] ?? []) {
      if (!m.get(k)) c.err('XLB_ERR_CONFIG_MISSING', `missing required key (${aCheck(type)} needs ${k})`, m.at, child(f.path, k));
    }
    let body: CheckBody | undefined;
    switch (type) {
      case 'misc':
        body = this.misc(m);
        break;
      case 'file':
        body = this.file(m);
        break;
      case 'bfd':
        body = this.bfdCheck(m);
        break;
      default: {
        // the type's own keys are checked even when a network key is bad
        const checked = this.net(m, type, f.path, svc);
        const net = checked ?? { fwmark: HEALTH_DEFAULTS.fwmark, target: HEALTH_DEFAULTS.target };
        switch (type) {
          case 'tcp':
          case 'icmp':
            body = { ...net, type };
            break;
          case 'http':
          case 'https':
            body = this.http(m, type, net);
            break;
          case 'udp':
            body = this.udp(m, net);
            break;
          case 'dns':
            body = this.dns(m, net);
            break;
          case 'smtp': {
            const h = m.get('helo_name');
            const helo = h ? c.pattern(h, HOST_NAME, 'a host name') : HEALTH_DEFAULTS.heloName;
            body = helo === undefined ? undefined : { ...net, type, heloName: helo };
            break;
          }
        }
        if (!checked) return undefined;
      }
    }
    if (!body) return undefined;
    const cmdF = type === 'misc' ? m.get('command') : undefined;
    return cmdF ? { timing, body, site: { at: cmdF.at, key: cmdF.path } } : { timing, body };
  }

  /** A bfd check: `name` is a session of `bfd.instances`. */
  private bfdCheck(m: Fields): CheckBody | undefined {
    const c = this.c;
    const nF = m.get('name');
    if (!nF) return undefined;
    const name = c.str(nF, 'a bfd instance name');
    if (name === undefined) return undefined;
    if (!this.bfd.has(name)) {
      const tail = nameCandidates(name, [...this.bfd.keys()], 'bfd.instances defines none');
      c.err('XLB_ERR_CONFIG_INVALID', `no bfd instance named ${JSON.stringify(name)} in bfd.instances${tail}`, nF.at, nF.path);
      return undefined;
    }
    return { type: 'bfd', name };
  }

  /** The `type` of a check mapping, read ahead so unknown keys can be judged by it. */
  private peekType(n: Node | null | undefined): CheckType | undefined {
    if (!isMap(n)) return undefined;
    for (const p of n.items) {
      if (!isScalar(p.key) || p.key.value !== 'type') continue;
      const v = this.c.deref(p.value as Node | null);
      if (isScalar(v) && typeof v.value === 'string' && (CHECK_TYPES as readonly string[]).includes(v.value)) return v.value as CheckType;
      return undefined;
    }
    return undefined;
  }

  /** The network keys, with their cross checks against each other and the service. */
  private net(m: Fields, type: CheckType, path: string, svc: ServiceContext): Omit<NetCheckBase, keyof CheckTiming> | undefined {
    const c = this.c;
    let ok = true;
    const caF = m.get('connect_address');
    const cpF = m.get('connect_port');
    const baF = m.get('bind_address');
    const biF = m.get('bind_interface');
    const fmF = m.get('fwmark');
    const tgF = m.get('target');
    const ca = caF && c.addr(caF);
    const cp = cpF && c.int(cpF, PORT_RANGE);
    const ba = baF && c.addr(baF);
    const bi = biF && c.ifname(biF);
    const fwmark = fmF ? c.int(fmF, HEALTH_RANGES.fwmark) : HEALTH_DEFAULTS.fwmark;
    const target = tgF ? c.oneOf(tgF, CHECK_TARGETS) : HEALTH_DEFAULTS.target;
    if ((caF && !ca) || (cpF && cp === undefined) || (baF && !ba) || (biF && bi === undefined) || fwmark === undefined || target === undefined) ok = false;
    if (baF && ba) {
      const other = ca ? { what: `connect_address ${ca.text}`, family: ca.family } : svc.family && { what: 'the backends', family: svc.family };
      if (other && other.family !== ba.family) {
        ok = false;
        const msg = `bind_address ${ba.text} is IPv${ba.family} but ${other.what} ${ca ? 'is' : 'are'} IPv${other.family}`;
        c.err('XLB_ERR_CONFIG_CONFLICT', msg, baF.at, baF.path);
      }
    }
    if (target === 'vip' && tgF) {
      const proto = type === 'udp' || type === 'dns' ? 'udp' : 'tcp';
      let why: string | undefined;
      if (svc.mode === 'nat') why = 'target: vip is only for dr and tunnel services (nat backends are probed directly)';
      else if (type === 'icmp') why = 'target: vip does not work for icmp checks (xlb answers pings to a VIP itself)';
      else if (svc.protocol !== undefined && svc.protocol !== proto) {
        why = `target: vip needs a check of the service's protocol: ${aCheck(type)} is ${proto}, the service is ${svc.protocol}`;
      }
      if (why) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', why, tgF.at, tgF.path);
      }
      if (fmF && fwmark !== undefined && fwmark !== 0) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', 'fwmark cannot be combined with target: vip (xlb marks those probes itself, to steer them)', fmF.keyAt, fmF.path);
      }
      if (caF) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', 'connect_address cannot be combined with target: vip (the check goes to the VIP)', caF.keyAt, caF.path);
      }
      if (cpF && svc.port !== undefined && svc.port !== 0) {
        ok = false;
        const msg = `connect_port cannot be combined with target: vip (the check goes to the VIP's port ${svc.port})`;
        c.err('XLB_ERR_CONFIG_CONFLICT', msg, cpF.keyAt, cpF.path);
      }
    }
    if (type !== 'icmp' && !cpF && svc.port === 0) {
      ok = false;
      const msg = `missing required key (the service has port: all, so ${aCheck(type)} needs connect_port)`;
      c.err('XLB_ERR_CONFIG_MISSING', msg, m.at, child(path, 'connect_port'));
    }
    if (!ok) return undefined;
    const out: Omit<NetCheckBase, keyof CheckTiming> = { fwmark: fwmark!, target: target! };
    if (ca) out.connectAddress = ca.text;
    if (cp !== undefined) out.connectPort = cp;
    if (ba) out.bindAddress = ba.text;
    if (bi !== undefined) out.bindInterface = bi;
    return out;
  }

  /** http and https. */
  private http(m: Fields, type: 'http' | 'https', net: Omit<NetCheckBase, keyof CheckTiming>): CheckBody | undefined {
    const c = this.c;
    let ok = true;
    const pathF = m.get('path');
    const hostF = m.get('host');
    const verF = m.get('http_version');
    const stF = m.get('status');
    const dgF = m.get('digest');
    const reF = m.get('regex');
    const rnF = m.get('regex_no_match');
    const mbF = m.get('max_body');
    const tlsF = m.get('tls');
    const path = pathF ? c.pattern(pathF, /^\/[\x21-\x7e]*$/, 'a request path starting with "/" (no spaces or control characters)') : HEALTH_DEFAULTS.path;
    const host = hostF && c.pattern(hostF, /^[\x21-\x7e]+$/, 'a Host header value (no spaces or control characters)');
    let httpVersion: HttpCheckSpec['httpVersion'] | undefined = HEALTH_DEFAULTS.httpVersion;
    if (verF) {
      const v = scalarText(verF.node);
      httpVersion = v === '1.0' || v === '1.1' ? v : this.expectedText(verF, '"1.0" or "1.1"');
    }
    const status = stF ? this.status(stF) : parseStatusList(HEALTH_DEFAULTS.status);
    let digest: string | undefined;
    if (dgF) {
      const d = scalarText(dgF.node);
      if (d !== undefined && /^[0-9a-fA-F]{32}$/.test(d)) digest = d.toLowerCase();
      else this.expectedText(dgF, 'an MD5 digest (32 hex digits, as genhash prints it)');
    }
    let regex: string | undefined;
    if (reF) {
      regex = c.str(reF, 'a regular expression');
      if (regex !== undefined) {
        try {
          new RegExp(regex);
        } catch (e) {
          const why = (e instanceof Error ? e.message : String(e)).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
          regex = c.expected(reF, `an ECMAScript regular expression (${why})`);
        }
      }
    }
    const regexNoMatch = rnF ? c.bool(rnF) : false;
    if (rnF && regexNoMatch === true && !reF) {
      ok = false;
      c.err('XLB_ERR_CONFIG_CONFLICT', 'regex_no_match needs a regex to invert', rnF.keyAt, rnF.path);
    }
    const maxBodyBytes = mbF ? c.int(mbF, HEALTH_RANGES.maxBodyBytes) : HEALTH_DEFAULTS.maxBodyBytes;
    const tls = type === 'https' ? this.tls(tlsF) : undefined;
    if (
      path === undefined ||
      (hostF && host === undefined) ||
      httpVersion === undefined ||
      status === undefined ||
      (dgF && digest === undefined) ||
      (reF && regex === undefined) ||
      regexNoMatch === undefined ||
      maxBodyBytes === undefined ||
      (type === 'https' && tls === undefined) ||
      !ok
    ) {
      return undefined;
    }
    const out: Omit<HttpCheckSpec, keyof CheckTiming> = { ...net, type, path, httpVersion, status, regexNoMatch, maxBodyBytes };
    if (host !== undefined) out.host = host;
    if (digest !== undefined) out.digest = digest;
    if (regex !== undefined) out.regex = regex;
    if (tls) out.tls = tls;
    return out;
  }

  /** `status`: a string of codes and ranges, or a list of codes and ranges. */
  private status(f: Field): StatusRange[] | undefined {
    const c = this.c;
    const what = 'status codes 100..599 and ranges such as "200-299 404"';
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'number') return this.statusItem(f);
    if (isScalar(n) && typeof n.value === 'string') {
      try {
        return parseStatusList(n.value);
      } catch (e) {
        if (!(e instanceof StatusListError)) throw e;
        c.err('XLB_ERR_CONFIG_INVALID', `expected ${what}, got ${JSON.stringify(n.value)} (${e.message})`, f.at, f.path);
        return undefined;
      }
    }
    if (!isSeq(n)) return c.expected(f, `${what}, or a list of them`);
    const items = c.list(f)!;
    if (items.length === 0) {
      c.err('XLB_ERR_CONFIG_INVALID', `expected at least one status code, got an empty list`, f.at, f.path);
      return undefined;
    }
    const out: StatusRange[] = [];
    let ok = true;
    for (const item of items) {
      const r = this.statusItem(item);
      if (r) out.push(...r);
      else ok = false;
    }
    return ok ? out : undefined;
  }

  /** One status code or range (a list item, or a lone number). */
  private statusItem(f: Field): StatusRange[] | undefined {
    const what = 'a status code 100..599 or a range such as "200-299"';
    const n = f.node;
    if (!isScalar(n) || (typeof n.value !== 'number' && typeof n.value !== 'string')) return this.c.expected(f, what);
    if (typeof n.value === 'number' && !Number.isInteger(n.value)) return this.c.expected(f, what);
    try {
      return [parseStatusRange(String(n.value))];
    } catch (e) {
      if (!(e instanceof StatusListError)) throw e;
      const shown = typeof n.value === 'string' ? JSON.stringify(n.value) : String(n.value);
      this.c.err('XLB_ERR_CONFIG_INVALID', `expected ${what}, got ${shown} (${e.message})`, f.at, f.path);
      return undefined;
    }
  }

  /** `tls` of an https check; verification on by default. */
  private tls(f: Field | undefined): TlsSpec | undefined {
    const out: TlsSpec = { verify: HEALTH_DEFAULTS.tlsVerify };
    if (!f) return out;
    const c = this.c;
    const m = c.mapping(f, HEALTH_KEYS.tls);
    if (!m) return undefined;
    let ok = true;
    const vF = m.get('verify');
    if (vF) {
      const v = c.bool(vF);
      if (v === undefined) ok = false;
      else out.verify = v;
    }
    for (const [key, field] of [['ca', 'caFile'], ['cert', 'certFile'], ['key', 'keyFile']] as const) {
      const pf = m.get(key);
      if (!pf) continue;
      const p = this.absPath(pf);
      if (p === undefined) ok = false;
      else out[field] = p;
    }
    const certF = m.get('cert');
    const keyF = m.get('key');
    if (!!certF !== !!keyF) {
      ok = false;
      const missing = certF ? 'key' : 'cert';
      c.err('XLB_ERR_CONFIG_MISSING', 'missing required key (cert and key go together)', m.at, `${f.path}.${missing}`);
    }
    const snF = m.get('server_name');
    if (snF) {
      const sn = c.pattern(snF, HOST_NAME, 'a host name (SNI takes no IP address)');
      if (sn === undefined) ok = false;
      else out.serverName = sn;
    }
    return ok ? out : undefined;
  }

  /** udp. */
  private udp(m: Fields, net: Omit<NetCheckBase, keyof CheckTiming>): CheckBody | undefined {
    const c = this.c;
    let ok = true;
    const plF = m.get('payload');
    const rrF = m.get('require_reply');
    const exF = m.get('expect');
    const minF = m.get('min_reply_length');
    const maxF = m.get('max_reply_length');
    let payload: Uint8Array | undefined;
    if (plF) {
      const t = scalarText(plF.node);
      const h = t === undefined ? undefined : parseHex(t, false);
      if (h && h.bytes.length <= HEALTH_RANGES.udpLength.max) payload = h.bytes;
      else {
        ok = false;
        this.expectedText(plF, `hex bytes such as "0a1b2c" (an even number of hex digits, at most ${HEALTH_RANGES.udpLength.max} bytes)`);
      }
    }
    let expect: { bytes: Uint8Array; mask: Uint8Array } | undefined;
    if (exF) {
      const t = scalarText(exF.node);
      expect = t === undefined ? undefined : parseHex(t, true);
      if (!expect) {
        ok = false;
        this.expectedText(exF, 'hex bytes such as "0a1bXX" (an even number of hex digits; X is any digit)');
      }
    }
    const requireReply = rrF ? c.bool(rrF) : expect !== undefined;
    if (requireReply === false && rrF && exF) {
      ok = false;
      c.err('XLB_ERR_CONFIG_CONFLICT', 'require_reply: false contradicts expect (a reply that must match is required)', rrF.at, rrF.path);
    }
    const minReplyLength = minF ? c.int(minF, HEALTH_RANGES.udpLength) : HEALTH_DEFAULTS.minReplyLength;
    const maxReplyLength = maxF ? c.int(maxF, HEALTH_RANGES.udpLength) : HEALTH_DEFAULTS.maxReplyLength;
    if (minReplyLength !== undefined && maxReplyLength !== undefined) {
      if (minF && minReplyLength > maxReplyLength) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', `min_reply_length ${minReplyLength} exceeds max_reply_length ${maxReplyLength}`, minF.at, minF.path);
      }
      if (exF && expect && expect.bytes.length > maxReplyLength) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', `expect is ${expect.bytes.length} bytes, longer than max_reply_length ${maxReplyLength}`, exF.at, exF.path);
      }
    }
    if (!ok || requireReply === undefined || minReplyLength === undefined || maxReplyLength === undefined) return undefined;
    const out: Omit<UdpCheckSpec, keyof CheckTiming> = { ...net, type: 'udp', requireReply, minReplyLength, maxReplyLength };
    if (payload) out.payload = payload;
    if (expect) {
      out.expect = expect.bytes;
      out.expectMask = expect.mask;
    }
    return out;
  }

  /** dns; `expect` answers are normalised by the query type. */
  private dns(m: Fields, net: Omit<NetCheckBase, keyof CheckTiming>): CheckBody | undefined {
    const c = this.c;
    const qtF = m.get('query_type');
    const qnF = m.get('query_name');
    const exF = m.get('expect');
    const queryType = qtF ? c.oneOf(qtF, DNS_TYPES) : (HEALTH_DEFAULTS.queryType as DnsType);
    const queryName = qnF ? c.pattern(qnF, DNS_NAME, 'a domain name such as example.com or "."') : HEALTH_DEFAULTS.queryName;
    let expect: string[] | undefined = [];
    if (exF) {
      const items = c.list(exF);
      if (!items) expect = undefined;
      for (const item of items ?? []) {
        const v = queryType === undefined ? undefined : this.dnsAnswer(item, queryType);
        if (v === undefined) expect = undefined;
        else expect?.push(v);
      }
    }
    if (queryType === undefined || queryName === undefined || expect === undefined) return undefined;
    return { ...net, type: 'dns', queryType, queryName, expect };
  }

  /** One expected DNS answer: an address for A/AAAA, a name (trailing dot dropped) for NS/CNAME/PTR/MX, any text otherwise. */
  private dnsAnswer(f: Field, t: DnsType): string | undefined {
    const c = this.c;
    if (t === 'A' || t === 'AAAA') return c.addr(f, t === 'A' ? 4 : 6)?.text;
    if (t === 'NS' || t === 'CNAME' || t === 'PTR' || t === 'MX') {
      const s = c.pattern(f, DNS_NAME, `a domain name (${t} answers are names)`);
      return s === undefined || s === '.' ? s : s.replace(/\.$/, '');
    }
    const s = c.str(f, 'a string');
    return s === '' ? c.expected(f, 'a non-empty string') : s;
  }

  /** misc: the command and who runs it. */
  private misc(m: Fields): CheckBody | undefined {
    const c = this.c;
    const cmdF = m.get('command');
    const dynF = m.get('dynamic');
    const userF = m.get('user');
    const command = cmdF && this.argv(cmdF);
    const dynamic = dynF ? c.bool(dynF) : false;
    const user = userF && this.user(userF);
    if (!command || dynamic === undefined || (userF && user === undefined)) return undefined;
    const out: CheckBody = { type: 'misc', command, dynamic };
    if (user !== undefined) out.user = user;
    return out;
  }

  /** file: the file, its weight factor, reverse. */
  private file(m: Fields): CheckBody | undefined {
    const c = this.c;
    const pF = m.get('path');
    const wF = m.get('weight');
    const rF = m.get('reverse');
    const path = pF && this.absPath(pF);
    const weight = wF ? c.int(wF, HEALTH_RANGES.fileWeight) : HEALTH_DEFAULTS.fileWeight;
    const reverse = rF ? c.bool(rF) : false;
    if (path === undefined || weight === undefined || reverse === undefined) return undefined;
    return { type: 'file', path, weight, reverse };
  }

  /** An absolute file path. */
  private absPath(f: Field): string | undefined {
    return this.c.pattern(f, /^\/[^\0]*$/, 'an absolute path');
  }

  /**
   * A `user` value: a name or uid, optionally `:group` ({@link USER_SPEC}).
   * Whether it exists is checked at load (script-security).
   */
  user(f: Field): string | undefined {
    const c = this.c;
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'number') return c.int(f, HEALTH_RANGES.uid, ' or a user name')?.toString();
    return c.pattern(f, USER_SPEC, USER_SPEC_TEXT);
  }

  /**
   * A notify or quorum command: argv (see {@link argv}), or a mapping
   * `{ command: argv, user: name[:group] }`; recorded for the load-time check.
   */
  command(f: Field): ScriptCommand | undefined {
    const c = this.c;
    if (!isMap(f.node)) {
      const argv = this.argv(f);
      return argv && this.#site<ScriptCommand>(argv, undefined, f.at, f.path, { argv });
    }
    const m = c.mapping(f, HEALTH_KEYS.command);
    if (!m) return undefined;
    const cmdF = m.get('command');
    const userF = m.get('user');
    const argv = cmdF && this.argv(cmdF);
    const user = userF && this.user(userF);
    if (!cmdF || !argv || (userF && user === undefined)) return undefined;
    const out: ScriptCommand = { argv };
    if (user !== undefined) out.user = user;
    return this.#site(argv, user, cmdF.at, cmdF.path, out);
  }

  /** Records a command for the load-time check; returns `resolved`. */
  #site<T extends CommandSite['resolved']>(argv: readonly string[], user: string | undefined, at: CommandSite['at'], key: string, resolved: T): T {
    const site: CommandSite = { argv, at, key, resolved };
    if (user !== undefined) site.user = user;
    commandSites(this.c).push(site);
    return resolved;
  }

  /**
   * Record a command parsed elsewhere (a VRRP script: `script` and `user`).
   * @param resolved the model object that gets `path` and `runAs`
   */
  record(argv: readonly string[], user: string | undefined, f: Field, resolved: CommandSite['resolved']): void {
    this.#site(argv, user, f.at, f.path, resolved);
  }

  /**
   * argv: a list of strings, or one string split on whitespace with
   * double quotes (see {@link splitCommand}). Never run through a shell.
   */
  argv(f: Field): string[] | undefined {
    const c = this.c;
    const what = 'a command (a list of strings, or one string)';
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'string') {
      let argv: string[];
      try {
        argv = splitCommand(n.value);
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        c.err('XLB_ERR_CONFIG_INVALID', `expected ${what}, got ${JSON.stringify(n.value)} (${e.message})`, f.at, f.path);
        return undefined;
      }
      if (argv.length === 0) return c.expected(f, what);
      if (argv[0] === '') return c.expected(f, 'a command whose first word names a program');
      return argv;
    }
    if (!isSeq(n)) return c.expected(f, what);
    const items = c.list(f)!;
    if (items.length === 0) {
      c.err('XLB_ERR_CONFIG_INVALID', `expected ${what}, got an empty list`, f.at, f.path);
      return undefined;
    }
    const argv: string[] = [];
    let ok = true;
    for (const [i, item] of items.entries()) {
      const v = item.node;
      let s: string | undefined;
      if (isScalar(v) && typeof v.value === 'string') s = v.value;
      else if (isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'boolean') && typeof v.source === 'string') {
        s = c.expected(item, `a string (quote it: "${v.source}")`);
      } else s = c.expected(item, 'a string');
      if (s !== undefined && i === 0 && s === '') s = c.expected(item, 'a program name');
      if (s === undefined) ok = false;
      else argv.push(s);
    }
    return ok ? argv : undefined;
  }

  /** "expected X, got Y", showing a number as it was written (`0x1f`, not 31). */
  private expectedText(f: Field, what: string): undefined {
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'number' && typeof n.source === 'string') {
      this.c.err('XLB_ERR_CONFIG_INVALID', `expected ${what}, got ${n.source}`, f.at, f.path);
      return undefined;
    }
    return this.c.expected(f, what);
  }
}

/**
 * The text of a scalar: a string as it is, a plain number as it was written
 * (`0102`, `1.0`: hex bytes and versions that YAML reads as numbers).
 */
function scalarText(n: Node | null | undefined): string | undefined {
  if (!isScalar(n)) return undefined;
  if (typeof n.value === 'string') return n.value;
  if (typeof n.value === 'number' && n.type === 'PLAIN' && typeof n.source === 'string') return n.source;
  return undefined;
}

/**
 * A complete check for one backend: the check's own timing over the
 * backend's over the service's over the defaults; warmup defaults to the
 * resulting interval.
 */
function resolve(pc: ParsedCheck, backend: Partial<CheckTiming>, service: Partial<CheckTiming>): CheckSpec {
  const t = { ...DEFAULT_CHECK_TIMING, ...service, ...backend, ...pc.timing };
  const warmupMs = pc.timing.warmupMs ?? backend.warmupMs ?? service.warmupMs ?? t.intervalMs;
  // `type` first, for whoever reads the model
  return Object.assign({ type: pc.body.type }, t, { warmupMs }, structuredClone(pc.body)) as CheckSpec;
}
