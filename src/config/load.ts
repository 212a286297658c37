/**
 * @module config/load
 * YAML text -> validated {@link XlbConfig}, or every error found, each
 * pointing at `file:line:col` and the dotted key (`services[1].backends[0].weight`).
 *
 * Layer: control plane. Pure except {@link loadConfigFile}, which reads the
 * file and then checks the commands it names on the file system and resolves
 * their users (./script-check.ts: script security), and reads the BFD
 * secret files (./bfd-secret.ts). Never throws for bad input: a config is either wholly valid or the
 * result lists all its errors, sorted by line then column (DESIGN §4: a reload
 * validates everything before anything is applied).
 *
 * Order of work: YAML syntax errors are reported alone (a broken document
 * yields spurious type errors); otherwise every key is type-checked, then the
 * cross checks (duplicates, families, mode rules, limits) run on whatever
 * parsed. The health part (`health`, `checks`) is checked and resolved by
 * ./health.ts, the VRRP part (`vrrp`) by ./vrrp.ts, the BFD part (`bfd`) by
 * ./bfd.ts, first, as the other two refer to its sessions; all check their
 * fields with the Checker of ./fields.ts, which imports none of them. The
 * commands' file-system check runs last, only on a config that parsed.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import type { SorryServerSpec } from '../health/spec.js';
import { isPrime } from '../lb/maglev.js';
import { AF_INET, formatAddr, parseAddr } from '../net/addr.js';
import { parseDuration } from './duration.js';
import { Checker, child, describe, ROOT_KEY, type Addr, type Field, type Fields } from './fields.js';
import { commandSites, HEALTH_KEYS, HealthParser, type HealthDefaults, type ServiceContext } from './health.js';
import { checkCommands } from './script-check.js';
import type { CommandSite, SecureOptions } from '../security/script-security.js';
import { BfdParser } from './bfd.js';
import { loadBfdSecrets } from './bfd-secret.js';
import type { BfdNames } from './bfd-model.js';
import { VrrpParser } from './vrrp.js';
import {
  DEFAULT_INSTANCE,
  DEFAULT_LIMITS,
  DEFAULT_LOG_FORMAT,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_LISTEN,
  DEFAULT_NEXT_HOP_CACHE,
  DEFAULT_PROTOCOL,
  DEFAULT_WEIGHT,
  DEFAULT_XDP_MODE,
  defaultServiceName,
  formatHostPort,
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
  type BackendConfig,
  type InterfaceConfig,
  type Limits,
  type ServiceConfig,
  type ServiceMode,
  type SourceLoc,
  type XlbConfig,
} from './model.js';

/** The outcome of parsing a config: the model, or every error (sorted by line, column). */
export type ConfigResult = { ok: true; config: XlbConfig } | { ok: false; errors: ConfigError[] };

/**
 * The keys allowed in each mapping of the format, in documentation order,
 * and which of them are required. The JSON Schema (schema.ts) is checked
 * against this table by a unit test.
 */
export const CONFIG_KEYS = {
  // `vrrp`, `bfd`: their own mappings are in ./vrrp.ts VRRP_KEYS and
  // ./bfd.ts BFD_KEYS. No root key is
  // required alone: `services`, `vrrp` or `bfd` (any of them together), and
  // `interfaces` with `services` (ROOT_NEEDS)
  root: {
    allowed: ['instance', 'interfaces', 'metrics', 'log', 'limits', 'tunnel', 'script_user', 'allow_unsafe_scripts', 'services', 'vrrp', 'bfd'],
    required: [],
  },
  interface: { allowed: ['name', 'xdp_mode'], required: ['name'] },
  metrics: { allowed: ['listen'], required: [] },
  log: { allowed: ['level', 'format'], required: [] },
  limits: {
    allowed: ['max_vips', 'max_backends', 'max_conns', 'max_conns6', 'max_nat', 'ring_size', 'conn_rate_limit', 'flow_cache', 'next_hop_cache'],
    required: [],
  },
  tunnel: { allowed: ['source4', 'source6', 'source_entropy'], required: [] },
  service: {
    allowed: ['name', 'address', 'port', 'protocol', 'mode', 'persistence', 'backends', 'health', 'sorry_server'],
    required: ['address', 'port', 'mode', 'backends'],
  },
  backend: { allowed: ['address', 'port', 'weight', 'interface', 'health'], required: ['address'] },
  // services[].health, backends[].health, their checks[] and tls, services[].sorry_server (health.ts)
  ...HEALTH_KEYS,
} as const satisfies Record<string, { allowed: readonly string[]; required: readonly string[] }>;

/** YAML limits keys -> model fields, with their ranges. */
const LIMIT_KEYS = {
  max_vips: 'maxVips',
  max_backends: 'maxBackends',
  max_conns: 'maxConns',
  max_conns6: 'maxConns6',
  max_nat: 'maxNat',
  ring_size: 'ringSize',
  conn_rate_limit: 'connRateLimit',
  flow_cache: 'flowCache',
} as const satisfies Record<string, keyof Limits>;

/** Checks the whole document and builds the model from what parsed. */
class ConfigChecker extends Checker {
  /** Checks the whole document. @returns the model (meaningful only when no error was recorded). */
  root(): XlbConfig {
    const contents = this.doc.contents as Node | null;
    const start: SourceLoc = { file: this.file, line: 1, col: 1 };
    const top: Field = { path: '', node: contents, at: this.nodeLoc(contents, start), keyAt: start };
    let fields: Fields | undefined;
    if (contents === null) {
      // an empty file (or only comments): say what is missing, not "expected a mapping"
      this.err('XLB_ERR_CONFIG_MISSING', `missing required key (${ROOT_NEEDS.why.services})`, start, 'services');
    } else if (!isMap(contents)) {
      this.err('XLB_ERR_CONFIG_INVALID', `expected a mapping, got ${describe(contents)}`, top.at, ROOT_KEY);
    } else {
      fields = this.mapping(top, CONFIG_KEYS.root);
    }
    const get = (k: string): Field | undefined => fields?.get(k);
    if (fields) {
      if (!ROOT_NEEDS.anyOf.some((k) => get(k))) {
        this.err('XLB_ERR_CONFIG_MISSING', `missing required key (${ROOT_NEEDS.why.services})`, fields.at, 'services');
      }
      for (const [k, needs] of Object.entries(ROOT_NEEDS.dependentRequired)) {
        if (!get(k)) continue;
        for (const n of needs) if (!get(n)) this.err('XLB_ERR_CONFIG_MISSING', `missing required key (${ROOT_NEEDS.why[n]})`, fields.at, n);
      }
    }

    const instanceF = get('instance');
    const instance = instanceF ? this.pattern(instanceF, INSTANCE_PATTERN, 'an instance name matching [a-z0-9][a-z0-9_-]{0,31}') : DEFAULT_INSTANCE;

    const limits = this.limits(get('limits'));
    const interfaces = this.interfaces(get('interfaces'));
    // BFD first: services' `type: bfd` checks and VRRP's track_bfd and bfd_peer name its sessions
    const bfdF = get('bfd');
    const bfdErrors = this.errors.length;
    const bfd = bfdF && new BfdParser(this).parse(bfdF, { hasDataplane: get('interfaces') !== undefined });
    const bfdValid = this.errors.length === bfdErrors;
    const bfdNames: BfdNames = bfd ? bfd.names : new Map();
    const services = this.services(get('services'), limits, bfdNames);
    const suF = get('script_user');
    const unsafeF = get('allow_unsafe_scripts');
    const scripts: NonNullable<XlbConfig['scripts']> = { allowUnsafe: (unsafeF && this.bool(unsafeF)) ?? false };
    const scriptUser = suF && new HealthParser(this).user(suF);
    if (scriptUser !== undefined) scripts.user = scriptUser;

    const config: XlbConfig = {
      file: this.file,
      instance: instance ?? DEFAULT_INSTANCE,
      interfaces,
      metrics: this.metrics(get('metrics')),
      log: this.log(get('log')),
      limits: limits.value,
      tunnel: this.tunnel(get('tunnel')),
      services,
    };
    if (suF || unsafeF) config.scripts = scripts;
    const vrrpF = get('vrrp');
    if (vrrpF) {
      const before = this.errors.length;
      config.vrrp = new VrrpParser(this, bfdNames).parse(vrrpF);
      // VRRP alone with no instance runs nothing (said once, when vrrp: is otherwise valid)
      if (!get('services') && !bfdF && config.vrrp.instances.length === 0 && this.errors.length === before) {
        this.err('XLB_ERR_CONFIG_INVALID', 'expected at least one instance: a config without services runs its VRRP instances alone', vrrpF.at, child(vrrpF.path, 'instances'));
      }
    }
    if (bfdF && bfd) {
      config.bfd = bfd.config;
      // BFD alone (standalone sessions, for monitoring) with no session runs nothing (said once,
      // when bfd: is otherwise valid); beside services or VRRP instances it is only empty
      if (!get('services') && !config.vrrp?.instances.length && bfd.config.instances.length === 0 && bfdValid) {
        const alone = get('vrrp') ? 'runs its VRRP instances or BFD sessions alone' : 'or vrrp runs its BFD sessions alone';
        this.err('XLB_ERR_CONFIG_INVALID', `expected at least one instance: a config without services ${alone}`, bfdF.at, child(bfdF.path, 'instances'));
      }
    }
    return config;
  }

  /** `interfaces`: at least one when written, names unique. */
  interfaces(f: Field | undefined): InterfaceConfig[] {
    const out: InterfaceConfig[] = [];
    if (!f) return out;
    const items = this.list(f);
    if (!items) return out;
    if (items.length === 0) this.err('XLB_ERR_CONFIG_INVALID', 'expected at least one interface', f.at, f.path);
    const seen = new Map<string, SourceLoc>();
    for (const item of items) {
      const m = this.mapping(item, CONFIG_KEYS.interface);
      if (!m) continue;
      const nameF = m.get('name');
      const name = nameF && this.ifname(nameF);
      const modeF = m.get('xdp_mode');
      const xdpMode = modeF ? this.oneOf(modeF, XDP_MODES) : DEFAULT_XDP_MODE;
      if (nameF && name !== undefined) {
        const first = seen.get(name);
        if (first) this.err('XLB_ERR_CONFIG_DUPLICATE', [`interface ${name}`, this.cite(first)], nameF.at, nameF.path);
        else seen.set(name, m.at);
      }
      out.push({ name: name ?? '', xdpMode: xdpMode ?? DEFAULT_XDP_MODE, loc: m.at });
    }
    return out;
  }

  /** `metrics.listen`: `host:port` or `[v6]:port`. */
  metrics(f: Field | undefined): XlbConfig['metrics'] {
    const fallback = parseListen(DEFAULT_METRICS_LISTEN) as XlbConfig['metrics'];
    const m = f && this.mapping(f, CONFIG_KEYS.metrics);
    const listenF = m?.get('listen');
    if (!listenF) return fallback;
    const what = 'host:port or [v6]:port';
    const s = this.str(listenF, what);
    if (s === undefined) return fallback;
    const r = parseListen(s);
    if (typeof r === 'string') return this.expected(listenF, r === '' ? what : `${what} (${r})`) ?? fallback;
    return r;
  }

  /** `log`. */
  log(f: Field | undefined): XlbConfig['log'] {
    const m = f && this.mapping(f, CONFIG_KEYS.log);
    const levelF = m?.get('level');
    const formatF = m?.get('format');
    return {
      level: (levelF && this.oneOf(levelF, LOG_LEVELS)) ?? DEFAULT_LOG_LEVEL,
      format: (formatF && this.oneOf(formatF, LOG_FORMATS)) ?? DEFAULT_LOG_FORMAT,
    };
  }

  /**
   * `limits`. @returns the limits (defaults where absent or invalid) and which
   * of them are trustworthy for the count checks.
   */
  limits(f: Field | undefined): { value: Limits; valid: { maxVips: boolean; maxBackends: boolean } } {
    const value: Limits = { ...DEFAULT_LIMITS, nextHopCacheMs: parseDuration(DEFAULT_NEXT_HOP_CACHE) };
    const valid = { maxVips: true, maxBackends: true };
    const m = f && this.mapping(f, CONFIG_KEYS.limits);
    if (!m) return { value, valid };
    const set = new Set<keyof Limits>();
    for (const [yamlKey, field] of Object.entries(LIMIT_KEYS) as [keyof typeof LIMIT_KEYS, keyof Limits][]) {
      const lf = m.get(yamlKey);
      if (!lf) continue;
      const v = this.int(lf, LIMIT_RANGES[field]);
      if (v === undefined) {
        if (field === 'maxVips' || field === 'maxBackends') valid[field] = false;
        continue;
      }
      if (field === 'ringSize' && !isPrime(v)) {
        this.err('XLB_ERR_CONFIG_INVALID', `ring_size ${v} is not prime (try ${nearPrime(v, LIMIT_RANGES.ringSize.max)})`, lf.at, lf.path);
        continue;
      }
      if (field === 'flowCache' && (v === 1 || v & (v - 1))) {
        this.err('XLB_ERR_CONFIG_INVALID', `flow_cache ${v} is not a power of 2 from 2 (try ${Math.max(2, 2 ** Math.round(Math.log2(v)))}, or 0 for none)`, lf.at, lf.path);
        continue;
      }
      value[field] = v;
      set.add(field);
    }
    if (!set.has('maxConns6')) value.maxConns6 = value.maxConns;
    if (!set.has('maxNat')) value.maxNat = value.maxConns;
    const nh = m.get('next_hop_cache');
    if (nh) {
      const ms = this.duration(nh, LIMIT_RANGES.nextHopCacheMs.max);
      if (ms !== undefined) value.nextHopCacheMs = ms;
    }
    return { value, valid };
  }

  /** `tunnel`: outer sources of their own family. */
  tunnel(f: Field | undefined): XlbConfig['tunnel'] {
    const out: XlbConfig['tunnel'] = { sourceEntropy: false };
    const m = f && this.mapping(f, CONFIG_KEYS.tunnel);
    if (!m) return out;
    const s4 = m.get('source4');
    const s6 = m.get('source6');
    const ent = m.get('source_entropy');
    const a4 = s4 && this.addr(s4, 4);
    const a6 = s6 && this.addr(s6, 6);
    if (a4) out.source4 = a4.text;
    if (a6) out.source6 = a6.text;
    if (ent) out.sourceEntropy = this.bool(ent) ?? false;
    return out;
  }

  /** `services` and their backends, with every cross check. */
  services(f: Field | undefined, limits: ReturnType<ConfigChecker['limits']>, bfd: BfdNames): ServiceConfig[] {
    const out: ServiceConfig[] = [];
    if (!f) return out;
    const health = new HealthParser(this, bfd);
    const items = this.list(f);
    if (!items) return out;
    const { maxVips, maxBackends } = limits.value;
    if (limits.valid.maxVips && items.length > maxVips) {
      const extra = items[maxVips]!;
      this.err('XLB_ERR_CONFIG_CONFLICT', `${items.length} services exceed limits.max_vips (${maxVips})`, extra.at, extra.path);
    }
    const byKey = new Map<string, SourceLoc>();
    const byName = new Map<string, SourceLoc>();
    let backendCount = 0;
    let sorryCount = 0;
    let firstOver: Field | undefined;
    for (const item of items) {
      const m = this.mapping(item, CONFIG_KEYS.service);
      if (!m) continue;
      const addrF = m.get('address');
      const portF = m.get('port');
      const protoF = m.get('protocol');
      const modeF = m.get('mode');
      const persF = m.get('persistence');
      const nameF = m.get('name');
      const addr = addrF && this.addr(addrF);
      let port: number | undefined;
      if (portF) {
        const pn = portF.node;
        if (isScalar(pn) && pn.value === 'all') port = 0;
        else port = this.int(portF, PORT_RANGE, ' or "all"');
      }
      const protocol = protoF ? this.oneOf(protoF, PROTOCOLS) : DEFAULT_PROTOCOL;
      const mode = modeF && this.oneOf(modeF, SERVICE_MODES);
      const persistence = persF ? this.bool(persF) : false;
      let name = nameF && this.str(nameF, 'a service name');
      if (nameF && name !== undefined && (name.length === 0 || name.length > 128 || /[\p{Cc}]/u.test(name))) {
        name = this.expected(nameF, 'a service name (1..128 characters, no control characters)');
      }
      if (mode === 'nat' && port === 0 && portF) {
        this.err('XLB_ERR_CONFIG_CONFLICT', 'port: all is not supported in nat mode', portF.at, portF.path);
      }

      // identity and name
      let duplicate = false;
      if (addr && port !== undefined && protocol !== undefined) {
        const id = { address: addr.text, port, protocol };
        const key = `${addr.text}|${port}|${protocol}`;
        const first = byKey.get(key);
        if (first) {
          duplicate = true;
          this.err('XLB_ERR_CONFIG_DUPLICATE', [`service ${defaultServiceName(id)}`, this.cite(first)], m.at, item.path);
        } else byKey.set(key, m.at);
        if (name === undefined && !nameF) name = defaultServiceName(id);
      }
      if (name !== undefined && !duplicate) {
        const first = byName.get(name);
        if (first) this.err('XLB_ERR_CONFIG_DUPLICATE', [`service name ${JSON.stringify(name)}`, this.cite(first)], nameF?.at ?? m.at, nameF?.path ?? item.path);
        else byName.set(name, nameF?.at ?? m.at);
      }

      // health: what backends inherit, and the quorum
      const ctx: ServiceContext = { protocol, mode };
      if (addr) ctx.family = addr.family;
      if (port !== undefined) ctx.port = port;
      const svcHealth = health.service(m.get('health'), ctx);

      // backends
      const backends: BackendConfig[] = [];
      const backendsF = m.get('backends');
      const bItems = backendsF ? this.list(backendsF) : undefined;
      const seen = new Map<string, SourceLoc>();
      for (const bItem of bItems ?? []) {
        if (++backendCount === maxBackends) firstOver = bItem;
        const b = this.backend(bItem, addr, mode, health, ctx, svcHealth.defaults);
        if (!b) continue;
        const effPort = b.port !== 0 ? b.port : (port ?? 0);
        const label = formatHostPort(b.address, effPort === 0 ? undefined : effPort);
        const first = seen.get(`${b.address}|${effPort}`);
        if (first) this.err('XLB_ERR_CONFIG_DUPLICATE', [`backend ${label}`, this.cite(first)], b.loc, bItem.path);
        else seen.set(`${b.address}|${effPort}`, b.loc);
        backends.push(b);
      }

      // the sorry server: another backend, used alone while the quorum is lost
      const sorryF = m.get('sorry_server');
      let sorry: SorryServerSpec | undefined;
      if (sorryF) {
        sorryCount++;
        if (++backendCount === maxBackends) firstOver = sorryF;
        sorry = this.sorryServer(sorryF, addr, mode);
        if (sorry) {
          const effPort = sorry.port !== 0 ? sorry.port : (port ?? 0);
          const first = seen.get(`${sorry.address}|${effPort}`);
          if (first) {
            const label = formatHostPort(sorry.address, effPort === 0 ? undefined : effPort);
            this.err('XLB_ERR_CONFIG_CONFLICT', `the sorry server ${label} is also a backend of this service (${this.cite(first)})`, sorryF.at, sorryF.path);
          }
        }
      }

      const svc: ServiceConfig = {
        name: name ?? '',
        address: addr?.text ?? '',
        family: addr?.family ?? 4,
        port: port ?? 0,
        protocol: protocol ?? DEFAULT_PROTOCOL,
        mode: mode ?? 'dr',
        persistence: persistence ?? false,
        backends,
        health: svcHealth.spec,
        loc: m.at,
      };
      if (sorry) svc.sorryServer = sorry;
      out.push(svc);
    }
    if (limits.valid.maxBackends && firstOver) {
      const what = sorryCount > 0 ? 'backends and sorry servers' : 'backends';
      this.err(
        'XLB_ERR_CONFIG_CONFLICT',
        `${backendCount} ${what} in total exceed limits.max_backends - 1 (${maxBackends - 1}; backend id 0 is reserved)`,
        firstOver.at,
        firstOver.path,
      );
    }
    return out;
  }

  /** `services[].sorry_server`: an address of the service's family; a port only in nat mode, as for backends. */
  sorryServer(f: Field, svcAddr: Addr | undefined, mode: ServiceMode | undefined): SorryServerSpec | undefined {
    const m = this.mapping(f, CONFIG_KEYS.sorryServer);
    if (!m) return undefined;
    const addrF = m.get('address');
    const addr = addrF && this.addr(addrF);
    let ok = addr !== undefined;
    if (addrF && addr && svcAddr && addr.family !== svcAddr.family) {
      ok = false;
      this.err(
        'XLB_ERR_CONFIG_CONFLICT',
        `sorry server address ${addr.text} is IPv${addr.family} but the service address ${svcAddr.text} is IPv${svcAddr.family}`,
        addrF.at,
        addrF.path,
      );
    }
    const port = this.natPort(m.get('port'), mode, 'sorry server');
    if (port === undefined) ok = false;
    return ok && addr ? { address: addr.text, port: port ?? 0 } : undefined;
  }

  /**
   * The `port` of a backend or sorry server: nat only.
   * @returns the port, 0 when absent, undefined after an error
   */
  natPort(f: Field | undefined, mode: ServiceMode | undefined, what: string): number | undefined {
    if (!f) return 0;
    if (mode === 'dr' || mode === 'tunnel') {
      this.err('XLB_ERR_CONFIG_CONFLICT', `port is only used in nat mode: dr and tunnel ${what}s receive the VIP's port`, f.keyAt, f.path);
      return undefined;
    }
    return this.int(f, PORT_RANGE);
  }

  /**
   * One backend. `svcAddr` and `mode` are the service's (undefined when they
   * did not parse: the checks that need them are skipped).
   */
  backend(
    f: Field,
    svcAddr: Addr | undefined,
    mode: ServiceMode | undefined,
    health: HealthParser,
    ctx: ServiceContext,
    inherited: HealthDefaults,
  ): BackendConfig | undefined {
    const m = this.mapping(f, CONFIG_KEYS.backend);
    if (!m) return undefined;
    let ok = true;
    const addrF = m.get('address');
    const addr = addrF && this.addr(addrF);
    if (addrF && addr && svcAddr && addr.family !== svcAddr.family) {
      ok = false;
      this.err(
        'XLB_ERR_CONFIG_CONFLICT',
        `backend address ${addr.text} is IPv${addr.family} but the service address ${svcAddr.text} is IPv${svcAddr.family}`,
        addrF.at,
        addrF.path,
      );
    }
    const port = this.natPort(m.get('port'), mode, 'backend');
    if (port === undefined) ok = false;
    const weightF = m.get('weight');
    const weight = weightF ? this.int(weightF, WEIGHT_RANGE) : DEFAULT_WEIGHT;
    const ifF = m.get('interface');
    let iface: string | undefined;
    if (ifF) {
      if (mode === 'tunnel' || mode === 'nat') {
        ok = false;
        this.err('XLB_ERR_CONFIG_CONFLICT', `interface is only used in dr mode: ${mode} backends are reached by routing`, ifF.keyAt, ifF.path);
      } else {
        iface = this.ifname(ifF);
        if (iface === undefined) ok = false;
      }
    }
    const h = health.backend(m.get('health'), ctx, inherited);
    if (!addr || port === undefined || weight === undefined || !ok) return undefined;
    const b: BackendConfig = { address: addr.text, port, weight, health: h, loc: m.at };
    if (iface !== undefined) b.interface = iface;
    return b;
  }
}


/**
 * Split a listen address.
 * @param s `host:port`, `[v6]:port`; host an IP address or a DNS name
 * @returns host (canonical when an address) and port, or what is wrong ('' = the form)
 */
function parseListen(s: string): { host: string; port: number } | string {
  const v6 = /^\[([^\]]*)\]:([0-9]{1,5})$/.exec(s);
  const hit = v6 ?? /^([^:[\]]+):([0-9]{1,5})$/.exec(s);
  if (!hit) return '';
  const [, hostText, portText] = hit as unknown as [string, string, string];
  let host = hostText;
  if (v6 || /^[0-9.]+$/.test(hostText)) {
    let a;
    try {
      a = parseAddr(hostText);
    } catch {
      a = undefined;
    }
    if (!a || (a.family === AF_INET) === !!v6) return v6 ? 'an IPv6 address in brackets' : `not an IPv4 address: ${hostText}`;
    host = formatAddr(a.family, a.bytes);
  } else if (!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(hostText)) {
    return `not a host name: ${hostText}`;
  }
  const port = Number(portText);
  if (port < PORT_RANGE.min || port > PORT_RANGE.max) return `port ${PORT_RANGE.min}..${PORT_RANGE.max}`;
  return { host, port };
}

/**
 * The prime nearest above `n` within `max` (or below, when none is).
 * @param n a non-prime integer
 * @param max the largest acceptable value
 */
function nearPrime(n: number, max: number): number {
  for (let p = n + 1; p <= max; p++) if (isPrime(p)) return p;
  for (let p = n - 1; p >= 2; p--) if (isPrime(p)) return p;
  return 2;
}

/** Sorts by line then column, keeping discovery order for ties. */
function byPosition(a: ConfigError, b: ConfigError): number {
  return a.line - b.line || a.col - b.col;
}

/**
 * Parse and validate a config.
 * @param text the YAML text
 * @param file the file name to use in messages and {@link XlbConfig.file}
 * @returns the model, or every error sorted by line then column; never throws
 *   for bad input
 */
export function parseConfig(text: string, file: string): ConfigResult {
  return parseWithCommands(text, file).result;
}

/** {@link parseConfig}, and the commands the config holds (for the load-time check). */
function parseWithCommands(text: string, file: string): { result: ConfigResult; sites: CommandSite[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    keepSourceTokens: true,
    prettyErrors: false,
    uniqueKeys: false, // duplicates are reported by the checker, citing the first
  });
  const c = new ConfigChecker(file, lc, doc);
  const fail = (): { result: ConfigResult; sites: CommandSite[] } => ({ result: { ok: false, errors: c.errors.sort(byPosition) }, sites: [] });
  for (const e of [...doc.errors, ...doc.warnings]) c.syntax(e);
  if (c.errors.length === 0) c.aliases();
  if (c.errors.length > 0) return fail();
  const config = c.root();
  if (c.errors.length > 0) return fail();
  return { result: { ok: true, config }, sites: commandSites(c) };
}

/**
 * Read and validate a config file, then check and resolve its commands
 * (./script-check.ts: script security, users; reads the file system) and
 * read its BFD secret files (./bfd-secret.ts). The
 * daemon's load and reload and `xlb validate` all come through here.
 * @param path the file; also used as the file name in messages
 * @param scripts options of the command check (PATH, euid, user lookup:
 *   `{ euid: 0 }` checks as a root daemon would, as `xlb validate` does), or
 *   false to skip it and the secret files (a CLI command that only needs the instance name)
 * @returns as {@link parseConfig}; a file that cannot be read is one error at 1:1
 */
export async function loadConfigFile(path: string, scripts: Omit<SecureOptions, 'enforce' | 'defaultUser'> | false = {}): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const err = new ConfigError('XLB_ERR_CONFIG_READ', [reason], { file: path, line: 1, col: 1, key: ROOT_KEY }, { cause: e });
    return { ok: false, errors: [err] };
  }
  const { result, sites } = parseWithCommands(text, path);
  if (!result.ok || scripts === false) return result;
  const secretOpts = { allowUnsafe: result.config.scripts?.allowUnsafe ?? false, ...(scripts.euid !== undefined ? { euid: scripts.euid } : {}) };
  const errors = [...(await checkCommands(result.config, sites, scripts)), ...(await loadBfdSecrets(result.config, secretOpts))].sort(byPosition);
  return errors.length > 0 ? { ok: false, errors } : result;
}
