/**
 * @module config/bfd
 * The BFD part of the config format, `bfd:` (keepalived's `bfd_instance`,
 * as entries of `instances`, plus xlb's own `auth` and `echo`), checked and
 * resolved into the model of ./bfd-model.ts. Called by load.ts before the
 * services and `vrrp:`, whose `type: bfd` checks, `track_bfd` and `bfd_peer`
 * are resolved against the names it returns; the Checker of ./fields.ts
 * records the errors (file:line:col, dotted key, what was expected).
 *
 * Layer: control plane. Pure: no I/O. A `secret_file` is only recorded
 * here; loadConfigFile reads and checks it (./bfd-secret.ts).
 *
 * Order of work: each instance (its keys, then the checks among them:
 * families, multihop, TTL, echo), then the checks across instances (names,
 * demultiplexing keys). An instance with an error still registers its name,
 * so a reference to it is not reported a second time.
 *
 * keepalived warns (and runs) above min_rx/min_tx 10 s and multiplier 10.
 * The loader has no warnings channel, so those values are accepted without
 * a word, as the README says.
 */
import { isScalar } from 'yaml';
import { unknownKeyMessage } from './did-you-mean.js';
import { ABS_PATH, badHostAddress, child, parseIp, type Checker, type Field, type Fields, type IntRange, type ParsedIp as Ip, type SourceLoc } from './fields.js';
import {
  BFD_AUTH_TYPE_BY_NAME,
  BFD_AUTH_TYPES,
  BFD_DEFAULTS,
  BFD_NAME_PATTERN,
  BFD_RANGES,
  bfdDemuxKey,
  bfdSecretRange,
  type BfdAuthInstanceConfig,
  type BfdConfig,
  type BfdEchoConfig,
  type BfdInstanceConfig,
  type BfdRef,
} from './bfd-model.js';

// ------------------------------------------------------------------ keys ---

/**
 * The mappings of the `bfd:` section, in documentation order, and which keys
 * each requires (`neighbor_ip` or its spelling `neighbour_ip` is required
 * too: checked by hand, one of the two). The JSON Schema is checked against it.
 */
export const BFD_KEYS = {
  bfd: { allowed: ['rt_priority', 'instances'], required: [] },
  instance: {
    allowed: [
      'name',
      'neighbor_ip',
      'neighbour_ip',
      'source_ip',
      'min_rx',
      'min_tx',
      'idle_tx',
      'multiplier',
      'passive',
      'multihop',
      'ttl',
      'hoplimit',
      'max_hops',
      'weight',
      'reverse',
      'auth',
      'echo',
    ],
    required: ['name'],
  },
  auth: { allowed: ['type', 'key_id', 'secret', 'secret_file'], required: ['type'] },
  echo: { allowed: ['enabled', 'interval', 'reflect'], required: [] },
} as const satisfies Record<string, { allowed: readonly string[]; required: readonly string[] }>;

/** keepalived keywords an operator may bring along, by mapping, and what to write instead. */
const HINTS = {
  bfd: {
    bfd_instance: 'keepalived\'s bfd_instance blocks are entries of "instances"',
    bfd_rt_priority: 'keepalived\'s global_defs bfd_rt_priority is "rt_priority" here',
  },
  instance: {
    vrrp: "keepalived's vrrp keyword is not needed: every session's state reaches VRRP and the health checks",
    checker: "keepalived's checker keyword is not needed: every session's state reaches VRRP and the health checks",
    authentication: 'authentication is "auth: { type, key_id, secret | secret_file }"',
    min_echo_rx: 'the echo function is "echo: { enabled, interval, reflect }"',
    echo_interval: 'the echo interval is "echo: { interval }"',
  },
} as const satisfies Record<string, Record<string, string>>;

/** The message for an unknown key: the hint for it when there is one, else did-you-mean among `allowed`. */
function keyMessage(allowed: readonly string[], hints: Readonly<Record<string, string>> = {}): (key: string) => string {
  return (key) => {
    const hint = Object.prototype.hasOwnProperty.call(hints, key) ? hints[key] : undefined;
    if (hint !== undefined) return `unknown key ${JSON.stringify(key)} (${hint})`;
    return unknownKeyMessage(key, allowed);
  };
}

// ------------------------------------------------------- pure helpers ---

/** What a name must look like, in messages. */
const NAME_WHAT = 'a name of letters, digits, "_", ".", ":" and "-" (at most 31, starting with a letter or digit)';

/** `IPv4` / `IPv6`. */
function fam(f: 4 | 6): string {
  return `IPv${f}`;
}

// ------------------------------------------------------------ the parser ---

/** What the parser needs to know of the rest of the config. */
export interface BfdContext {
  /** Whether the config runs the XDP program (it names interfaces): echo is reflected and timed there. */
  hasDataplane: boolean;
}

/** An instance as the cross checks need it. */
interface InstanceDraft {
  value: BfdInstanceConfig;
  nameAt: SourceLoc;
  namePath: string;
  /** The neighbor key (for the demux error). */
  neighborF?: Field;
}

/** Parses and resolves `bfd:`; one per config, sharing the load.ts Checker (./fields.ts). */
export class BfdParser {
  readonly #c: Checker;

  constructor(c: Checker) {
    this.#c = c;
  }

  /**
   * The `bfd:` section.
   * @returns the model (meaningful only when the Checker recorded no error)
   *   and every instance name written, parsed or not
   */
  parse(f: Field, ctx: BfdContext): { config: BfdConfig; names: Map<string, BfdRef> } {
    const c = this.#c;
    const config: BfdConfig = { rtPriority: BFD_DEFAULTS.rtPriority, instances: [] };
    const names = new Map<string, BfdRef>();
    const m = c.mapping(f, BFD_KEYS.bfd, keyMessage(BFD_KEYS.bfd.allowed, HINTS.bfd));
    if (!m) return { config, names };
    const rtF = m.get('rt_priority');
    if (rtF) config.rtPriority = c.int(rtF, BFD_RANGES.rtPriority) ?? config.rtPriority;
    const instF = m.get('instances');
    const drafts: InstanceDraft[] = [];
    for (const item of (instF && c.list(instF)) ?? []) {
      const r = this.#instance(item, ctx);
      if (!r) continue;
      if (r.name !== undefined && !names.has(r.name)) {
        const v = r.draft?.value;
        names.set(r.name, { value: v ? { weight: v.weight, reverse: v.reverse, neighborIp: v.neighborIp, family: v.family } : null, at: r.at });
      }
      if (r.draft) drafts.push(r.draft);
    }
    this.#crossChecks(drafts);
    config.instances = drafts.map((d) => d.value);
    return { config, names };
  }

  /**
   * One instance.
   * @returns its name (when it parsed) and the draft (when the whole entry parsed)
   */
  #instance(item: Field, ctx: BfdContext): { name?: string; at: SourceLoc; draft?: InstanceDraft } | undefined {
    const c = this.#c;
    const m = c.mapping(item, BFD_KEYS.instance, keyMessage(BFD_KEYS.instance.allowed, HINTS.instance));
    if (!m) return undefined;
    let ok = true;
    const d = BFD_DEFAULTS;
    const r = BFD_RANGES;

    const nameF = m.get('name');
    const name = nameF && c.pattern(nameF, BFD_NAME_PATTERN, NAME_WHAT);
    if (name === undefined) ok = false;

    // addresses: neighbor_ip (or neighbour_ip, as keepalived), source_ip of its family
    const nF = this.#alias(m, 'neighbor_ip', 'neighbour_ip');
    if (nF === null) ok = false;
    else if (nF === undefined) {
      ok = false;
      c.err('XLB_ERR_CONFIG_MISSING', [], m.at, child(item.path, 'neighbor_ip'));
    }
    const neighbor = nF ? this.#hostIp(nF) : undefined;
    const sF = m.get('source_ip');
    const source = sF && this.#hostIp(sF);
    if (!neighbor || (sF && !source)) ok = false;
    if (neighbor && source && sF) {
      if (source.family !== neighbor.family) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', `source_ip ${source.text} is ${fam(source.family)} but neighbor_ip ${neighbor.text} is ${fam(neighbor.family)}`, sF.at, sF.path);
      } else if (source.text === neighbor.text) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', `source_ip ${source.text} is the neighbor_ip itself`, sF.at, sF.path);
      }
    }
    const family = neighbor?.family ?? 4;

    // timers, µs
    const minRxF = m.get('min_rx');
    const minTxF = m.get('min_tx');
    const idleF = m.get('idle_tx');
    const minRxUs = minRxF ? this.#us(minRxF, r.intervalUs) : d.minRxUs;
    const minTxUs = minTxF ? this.#us(minTxF, r.intervalUs) : d.minTxUs;
    const idleTxUs = idleF ? this.#us(idleF, r.idleTxUs) : d.idleTxUs;
    const multF = m.get('multiplier');
    const multiplier = multF ? c.int(multF, r.multiplier) : d.multiplier;
    const passive = this.#bool(m, 'passive', d.passive);
    const multihop = this.#bool(m, 'multihop', d.multihop);
    if (minRxUs === undefined || minTxUs === undefined || idleTxUs === undefined || multiplier === undefined || passive === undefined || multihop === undefined) ok = false;

    // multihop needs a source: the peer's packets are matched to the session by it
    if (multihop === true && !sF) {
      ok = false;
      c.err('XLB_ERR_CONFIG_MISSING', 'missing required key (a multihop session needs source_ip: no interface ties it to a local address)', m.at, child(item.path, 'source_ip'));
    }

    // TTL sent, and keepalived's GTSM rule on the TTL received
    const ttlF = this.#alias(m, 'ttl', 'hoplimit');
    if (ttlF === null) ok = false;
    const ttlOwn = ttlF ? c.int(ttlF, r.ttl) : undefined;
    if (ttlF && ttlOwn === undefined) ok = false;
    if (ttlF && ttlOwn !== undefined && multihop === false && ttlOwn !== d.ttlSingleHop) {
      ok = false;
      const key = ttlF.path.slice(ttlF.path.lastIndexOf('.') + 1);
      c.err('XLB_ERR_CONFIG_CONFLICT', `a single-hop session sends ${key} ${d.ttlSingleHop} (RFC 5881 §5; a peer drops anything less): ${key} is for multihop sessions`, ttlF.at, ttlF.path);
    }
    const ttl = ttlOwn ?? (multihop ? (family === 4 ? d.ttlMultihopV4 : d.ttlMultihopV6) : d.ttlSingleHop);
    const mhF = m.get('max_hops');
    const maxHops = mhF ? c.int(mhF, r.maxHops) : multihop ? d.maxHopsMultihop : d.maxHopsSingleHop;
    if (maxHops === undefined) ok = false;

    // tracking defaults
    const wF = m.get('weight');
    const weight = wF ? c.int(wF, r.weight) : d.weight;
    const reverse = this.#bool(m, 'reverse', d.reverse);
    if (weight === undefined || reverse === undefined) ok = false;

    // xlb's own: authentication, echo
    const authF = m.get('auth');
    const auth = authF && this.#auth(authF);
    if (authF && !auth) ok = false;
    const echoF = m.get('echo');
    const echo = echoF ? this.#echo(echoF, multihop === true, ctx) : { enabled: d.echoEnabled, intervalUs: d.echoIntervalUs, reflect: d.echoReflect };
    if (!echo) ok = false;

    const at = m.at;
    const base = { at, ...(name !== undefined ? { name } : {}) };
    if (!ok || name === undefined || !neighbor || !echo) return base;
    const value: BfdInstanceConfig = {
      name,
      neighborIp: neighbor.text,
      ...(source ? { sourceIp: source.text } : {}),
      family,
      minRxUs: minRxUs!,
      minTxUs: minTxUs!,
      idleTxUs: idleTxUs!,
      multiplier: multiplier!,
      passive: passive!,
      multihop: multihop!,
      ttl,
      maxHops: maxHops!,
      weight: weight!,
      reverse: reverse!,
      ...(auth ? { auth } : {}),
      echo,
      loc: at,
    };
    const draft: InstanceDraft = { value, nameAt: nameF?.at ?? at, namePath: nameF?.path ?? item.path };
    if (nF) draft.neighborF = nF;
    return { ...base, draft };
  }

  /**
   * A key with a second spelling (keepalived's `neighbour_ip`, `hoplimit`).
   * @returns the field written, undefined when neither is, null when both are (an error)
   */
  #alias(m: Fields, key: string, other: string): Field | undefined | null {
    const a = m.get(key);
    const b = m.get(other);
    if (a && b) {
      this.#c.err('XLB_ERR_CONFIG_CONFLICT', `${other} is another spelling of ${key}: write one of them`, b.keyAt, b.path);
      return null;
    }
    return a ?? b;
  }

  /** A boolean key, its default when absent. */
  #bool(m: Fields, key: string, dflt: boolean): boolean | undefined {
    const f = m.get(key);
    return f ? this.#c.bool(f) : dflt;
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

  /**
   * A duration in `r` (µs), in whole microseconds (keepalived's resolution,
   * and the wire's).
   * @returns microseconds
   */
  #us(f: Field, r: IntRange): number | undefined {
    const c = this.#c;
    const ms = c.duration(f, r.max / 1000, r.min / 1000);
    if (ms === undefined) return undefined;
    // parseDuration keeps whole nanoseconds: µs = ms x 1000, exact to 3 decimals
    const us = Math.round(ms * 1e6) / 1e3;
    if (!Number.isInteger(us)) {
      const shown = isScalar(f.node) ? JSON.stringify(f.node.value) : '';
      c.err('XLB_ERR_CONFIG_INVALID', `expected a whole number of microseconds (BFD intervals are µs on the wire), got ${shown}`, f.at, f.path);
      return undefined;
    }
    return us;
  }

  /** `auth`: `{ type, key_id, secret | secret_file }`. */
  #auth(f: Field): BfdAuthInstanceConfig | undefined {
    const c = this.#c;
    const m = c.mapping(f, BFD_KEYS.auth, keyMessage(BFD_KEYS.auth.allowed));
    if (!m) return undefined;
    const tF = m.get('type');
    const kF = m.get('key_id');
    const sF = m.get('secret');
    const fF = m.get('secret_file');
    const type = tF && c.oneOf(tF, BFD_AUTH_TYPES);
    const keyId = kF ? c.int(kF, BFD_RANGES.keyId) : 0;
    let ok = type !== undefined && keyId !== undefined;
    if (sF && fF) {
      c.err('XLB_ERR_CONFIG_CONFLICT', 'secret and secret_file are two ways to give the key: write one of them', fF.keyAt, fF.path);
      return undefined;
    }
    if (!sF && !fF) {
      c.err('XLB_ERR_CONFIG_MISSING', 'missing required key (auth needs secret, or secret_file: the safer, as the config then holds no key)', m.at, child(f.path, 'secret_file'));
      return undefined;
    }
    let secret: Uint8Array | undefined;
    let secretFile: string | undefined;
    if (sF) {
      const n = sF.node;
      let text: string | undefined;
      if (isScalar(n) && typeof n.value === 'number' && typeof n.source === 'string') text = c.expected(sF, `a string (quote it: "${n.source}")`);
      else text = c.str(sF, 'a string');
      if (text === undefined) ok = false;
      else if (type !== undefined) {
        const bytes = Buffer.from(text, 'utf8');
        const range = bfdSecretRange(type);
        if (bytes.length < range.min || bytes.length > range.max) {
          ok = false;
          const got = bytes.length === 0 ? 'an empty string' : `${bytes.length} bytes`;
          c.err('XLB_ERR_CONFIG_INVALID', `expected a secret of ${range.min}..${range.max} bytes for ${type} (RFC 5880 §4), got ${got}`, sF.at, sF.path);
        } else secret = new Uint8Array(bytes);
      }
    } else if (fF) {
      secretFile = c.pattern(fF, ABS_PATH, 'an absolute path');
      if (secretFile === undefined) ok = false;
    }
    if (!ok || type === undefined || keyId === undefined) return undefined;
    const out: BfdAuthInstanceConfig = { type, typeNumber: BFD_AUTH_TYPE_BY_NAME[type], keyId };
    if (secret) out.secret = secret;
    if (secretFile !== undefined && fF) {
      out.secretFile = secretFile;
      out.secretFileLoc = fF.at;
    }
    return out;
  }

  /** `echo`: `{ enabled, interval, reflect }`; single hop only, on an XDP interface. */
  #echo(f: Field, multihop: boolean, ctx: BfdContext): BfdEchoConfig | undefined {
    const c = this.#c;
    const d = BFD_DEFAULTS;
    const m = c.mapping(f, BFD_KEYS.echo, keyMessage(BFD_KEYS.echo.allowed));
    if (!m) return undefined;
    const iF = m.get('interval');
    const enabled = this.#bool(m, 'enabled', d.echoEnabled);
    const reflect = this.#bool(m, 'reflect', d.echoReflect);
    const intervalUs = iF ? this.#us(iF, BFD_RANGES.echoIntervalUs) : d.echoIntervalUs;
    if (enabled === undefined || reflect === undefined || intervalUs === undefined) return undefined;
    let ok = true;
    for (const [key, on] of [['enabled', enabled], ['reflect', reflect]] as const) {
      const kf = m.get(key);
      if (!on || !kf) continue;
      if (multihop) {
        ok = false;
        c.err('XLB_ERR_CONFIG_CONFLICT', `echo is single hop only (RFC 5883 §3: echo packets would be routed back by the first hop): echo.${key} needs multihop: false`, kf.at, kf.path);
      } else if (!ctx.hasDataplane) {
        ok = false;
        const what = key === 'reflect' ? 'reflects the peer\'s echo packets' : 'times the returning echo packets';
        c.err('XLB_ERR_CONFIG_CONFLICT', `echo.${key} needs interfaces: the XDP program ${what}, and a config without interfaces runs none`, kf.at, kf.path);
      }
    }
    return ok ? { enabled, intervalUs, reflect } : undefined;
  }

  /** Names and demultiplexing keys across instances. */
  #crossChecks(drafts: InstanceDraft[]): void {
    const c = this.#c;
    const names = new Map<string, SourceLoc>();
    const byNeighbor = new Map<string, InstanceDraft[]>();
    for (const d of drafts) {
      const v = d.value;
      const first = names.get(v.name);
      if (first) {
        c.err('XLB_ERR_CONFIG_DUPLICATE', [`bfd instance name ${JSON.stringify(v.name)}`, c.cite(first)], d.nameAt, d.namePath);
        continue;
      }
      names.set(v.name, d.nameAt);
      // a session without source_ip may use any local address: it clashes with every other to that neighbor
      const k = `${v.neighborIp}|${v.multihop}`;
      const earlier = byNeighbor.get(k) ?? [];
      const clash = earlier.find((o) => o.value.sourceIp === undefined || v.sourceIp === undefined || o.value.sourceIp === v.sourceIp);
      if (clash) {
        const at = d.neighborF ?? { at: d.value.loc, path: d.namePath };
        const why = v.sourceIp !== undefined && clash.value.sourceIp !== undefined ? '' : ' (without source_ip a session may use any local address)';
        c.err(
          'XLB_ERR_CONFIG_DUPLICATE',
          `bfd instance ${v.name} is the same session as ${clash.value.name} (${c.cite(clash.value.loc)}): neighbor, source and multihop (${bfdDemuxKey(v)}) tell sessions apart${why}`,
          at.at,
          at.path,
        );
        continue;
      }
      earlier.push(d);
      byNeighbor.set(k, earlier);
    }
  }
}
