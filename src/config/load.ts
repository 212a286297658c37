/**
 * @module config/load
 * YAML text -> validated {@link XlbConfig}, or every error found, each
 * pointing at `file:line:col` and the dotted key (`services[1].backends[0].weight`).
 *
 * Layer: control plane. Pure except {@link loadConfigFile}, which reads the
 * file. Never throws for bad input: a config is either wholly valid or the
 * result lists all its errors, sorted by line then column (DESIGN §4: a reload
 * validates everything before anything is applied).
 *
 * Order of work: YAML syntax errors are reported alone (a broken document
 * yields spurious type errors); otherwise every key is type-checked, then the
 * cross checks (duplicates, families, mode rules, limits) run on whatever
 * parsed. The health part (`health`, `checks`) is checked and resolved by
 * ./health.ts, the VRRP part (`vrrp`) by ./vrrp.ts, both with this
 * module's Checker.
 */
import { readFile } from 'node:fs/promises';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import { ConfigError, type ConfigErrorCode, type MessageInput } from '../errors.js';
import type { SorryServerSpec } from '../health/spec.js';
import { isPrime } from '../lb/maglev.js';
import { AF_INET, formatAddr, parseAddr } from '../net/addr.js';
import { unknownKeyMessage } from './did-you-mean.js';
import { DurationError, formatDuration, parseDuration } from './duration.js';
import { commandSites, HEALTH_KEYS, HealthParser, type HealthDefaults, type ServiceContext } from './health.js';
import { checkCommands } from './script-check.js';
import type { CommandSite, SecureOptions } from '../security/script-security.js';
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
  IFNAME_PATTERN,
  INSTANCE_PATTERN,
  LIMIT_RANGES,
  LOG_FORMATS,
  LOG_LEVELS,
  PORT_RANGE,
  PROTOCOLS,
  SERVICE_MODES,
  WEIGHT_RANGE,
  XDP_MODES,
  type BackendConfig,
  type IntRange,
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
  // `vrrp`: its own mappings are in ./vrrp.ts VRRP_KEYS
  root: {
    allowed: ['instance', 'interfaces', 'metrics', 'log', 'limits', 'tunnel', 'script_user', 'allow_unsafe_scripts', 'services', 'vrrp'],
    required: ['interfaces', 'services'],
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

/** The key shown for errors about the document as a whole. */
const ROOT_KEY = '(root)';

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

/** One value found in the document, with where it is and how it is named. */
export interface Field {
  /** Dotted path, e.g. `services[0].port`. */
  path: string;
  /** The value (aliases resolved); null/undefined when the document has none. */
  node: Node | null | undefined;
  /** Where to point for errors about the value (the key, when the value is empty). */
  at: SourceLoc;
  /** Where the key is (for errors about the key's presence); `at` for list items. */
  keyAt: SourceLoc;
}

/** The entries of a checked mapping, by key; `at` is where the mapping starts. */
export interface Fields {
  at: SourceLoc;
  get(key: string): Field | undefined;
}

/** A parsed address. */
export interface Addr {
  /** Canonical text. */
  text: string;
  family: 4 | 6;
}

/** @returns whether `n` is a scalar with no source text (`key:` with nothing after it). */
function isImplicitEmpty(n: Node | null | undefined): boolean {
  if (n == null) return true;
  return isScalar(n) && n.value === null && n.range !== undefined && n.range !== null && n.range[0] === n.range[1];
}

/**
 * How a value is shown in "expected X, got Y" messages.
 * @returns `"eighty"`, `80`, `true`, `null`, `an empty value`, `a mapping`, `a list`
 */
function describe(n: Node | null | undefined): string {
  if (isImplicitEmpty(n)) return 'an empty value';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return JSON.stringify(v);
    return String(v);
  }
  return 'an unsupported value';
}

/** `path.key`, or `key` at the root. */
function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Walks the document, collecting errors; then builds the model from what parsed. Exported as a type for health.ts. */
class Checker {
  /** Every error found so far, in discovery order. */
  readonly errors: ConfigError[] = [];

  constructor(
    private readonly file: string,
    private readonly lc: LineCounter,
    private readonly doc: Document.Parsed,
  ) {}

  /** File position of a character offset. */
  locAt(offset: number): SourceLoc {
    const p = this.lc.linePos(offset);
    // linePos reports line 0 before the first newline the lexer saw
    if (p.line === 0) return { file: this.file, line: 1, col: offset + 1 };
    return { file: this.file, line: p.line, col: p.col };
  }

  /** File position where a node starts. */
  nodeLoc(n: Node | null | undefined, fallback: SourceLoc): SourceLoc {
    return n?.range ? this.locAt(n.range[0]) : fallback;
  }

  /** `file:line:col`, as messages cite earlier definitions. */
  cite(loc: SourceLoc): string {
    return `${loc.file}:${loc.line}:${loc.col}`;
  }

  /** Records an error. */
  err(code: ConfigErrorCode, message: MessageInput, at: SourceLoc, key: string): void {
    this.errors.push(new ConfigError(code, message, { file: at.file, line: at.line, col: at.col, key }));
  }

  /** Records "expected X, got Y" at the field's value. */
  expected(f: Field, what: string): undefined {
    this.err('XLB_ERR_CONFIG_INVALID', `expected ${what}, got ${describe(f.node)}`, f.at, f.path);
    return undefined;
  }

  /** Follows aliases to the node they name (anchors may be reused, e.g. a backend list). */
  deref(n: Node | null | undefined): Node | null | undefined {
    let cur = n;
    for (let hops = 0; isAlias(cur) && hops < 64; hops++) cur = cur.resolve(this.doc);
    return cur;
  }

  // ---------------------------------------------------------------- YAML ---

  /** Records a YAML parser error or warning as a syntax error at its own position. */
  syntax(e: YAMLError): void {
    const at = this.locAt(e.pos[0]);
    if (e.code === 'MULTIPLE_DOCS') {
      this.err('XLB_ERR_CONFIG_SYNTAX', ['a config is one YAML document; found a second one after "---"'], at, ROOT_KEY);
      return;
    }
    const msg = e.message.replace(/\s+/g, ' ').trim();
    this.err('XLB_ERR_CONFIG_SYNTAX', [msg], at, this.pathAt(this.doc.contents, e.pos[0], '') || ROOT_KEY);
  }

  /** Records every alias that names no anchor (the parser leaves them to the consumer). */
  aliases(): void {
    const walk = (n: unknown, path: string): void => {
      if (isAlias(n)) {
        if (n.resolve(this.doc) === undefined && n.range) {
          this.err('XLB_ERR_CONFIG_SYNTAX', [`alias *${n.source} names no anchor (define it first with &${n.source})`], this.locAt(n.range[0]), path || ROOT_KEY);
        }
      } else if (isMap(n)) {
        for (const p of n.items) walk(p.value, child(path, isScalar(p.key) ? String(p.key.value) : '?'));
      } else if (isSeq(n)) {
        n.items.forEach((item, i) => walk(item, `${path}[${i}]`));
      }
    };
    walk(this.doc.contents, '');
  }

  /** The dotted path of the innermost node containing `offset` ('' if none). */
  pathAt(n: Node | null | undefined, offset: number, path: string): string {
    const inside = (x: Node | null | undefined): boolean => !!x?.range && x.range[0] <= offset && offset <= x.range[2];
    if (isMap(n)) {
      for (const p of n.items) {
        const k = p.key as Node | null;
        const v = p.value as Node | null;
        const name = isScalar(k) ? String(k.value) : '?';
        if (inside(k)) return child(path, name);
        if (inside(v)) return this.pathAt(v, offset, child(path, name));
      }
    } else if (isSeq(n)) {
      for (const [i, item] of n.items.entries()) {
        if (inside(item as Node)) return this.pathAt(item as Node, offset, `${path}[${i}]`);
      }
    }
    return path;
  }

  // ----------------------------------------------------- structure checks ---

  /**
   * Checks that `f` is a mapping with only allowed, unique keys and every
   * required key; records errors for what is not.
   * @param unknown the message for a key that is not allowed (default: did-you-mean among `spec.allowed`)
   * @returns its fields, or undefined when it is not a mapping
   */
  mapping(
    f: Field,
    spec: { allowed: readonly string[]; required: readonly string[] },
    unknown: (key: string) => string = (k) => unknownKeyMessage(k, spec.allowed),
  ): Fields | undefined {
    const n = f.node;
    if (!isMap(n)) return this.expected(f, 'a mapping');
    const at = this.nodeLoc(n, f.at);
    const entries = new Map<string, Field>();
    const firstAt = new Map<string, SourceLoc>();
    for (const pair of n.items) {
      const keyNode = pair.key as Node | null;
      const keyAt = this.nodeLoc(keyNode, at);
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.err('XLB_ERR_CONFIG_INVALID', `expected a key name, got ${describe(keyNode)}`, keyAt, f.path || ROOT_KEY);
        continue;
      }
      const key = String(keyNode.value);
      const path = child(f.path, key);
      const first = firstAt.get(key);
      if (first !== undefined) {
        this.err('XLB_ERR_CONFIG_DUPLICATE', [`key ${JSON.stringify(key)}`, this.cite(first)], keyAt, path);
        continue;
      }
      firstAt.set(key, keyAt);
      if (!spec.allowed.includes(key)) {
        this.err('XLB_ERR_CONFIG_UNKNOWN_KEY', unknown(key), keyAt, path);
        continue;
      }
      const raw = pair.value as Node | null;
      const value = this.deref(raw);
      const valueAt = isImplicitEmpty(raw) ? keyAt : this.nodeLoc(raw, keyAt);
      entries.set(key, { path, node: value, at: valueAt, keyAt });
    }
    for (const key of spec.required) {
      if (!firstAt.has(key)) this.err('XLB_ERR_CONFIG_MISSING', [], at, child(f.path, key));
    }
    return { at, get: (k) => entries.get(k) };
  }

  /**
   * Checks that `f` is a list.
   * @returns its items as fields, or undefined when it is not a list
   */
  list(f: Field): Field[] | undefined {
    const n = f.node;
    if (!isSeq(n)) return this.expected(f, 'a list');
    return n.items.map((raw, i) => {
      const item = raw as Node | null;
      const at = this.nodeLoc(item, this.nodeLoc(n, f.at));
      return { path: `${f.path}[${i}]`, node: this.deref(item), at, keyAt: at };
    });
  }

  // ------------------------------------------------------- scalar checks ---

  /** A string value. */
  str(f: Field, what = 'a string'): string | undefined {
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'string') return n.value;
    return this.expected(f, what);
  }

  /** A string matching `re`; `what` names the form in the message. */
  pattern(f: Field, re: RegExp, what: string): string | undefined {
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'string' && re.test(n.value)) return n.value;
    return this.expected(f, what);
  }

  /** An integer in `r`; `extra` is appended to the expectation (`or "all"`). */
  int(f: Field, r: IntRange, extra = ''): number | undefined {
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'number' && Number.isInteger(n.value) && n.value >= r.min && n.value <= r.max) {
      return n.value;
    }
    return this.expected(f, `an integer ${r.min}..${r.max}${extra}`);
  }

  /** true or false. */
  bool(f: Field): boolean | undefined {
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'boolean') return n.value;
    return this.expected(f, 'true or false');
  }

  /** One of `choices`. */
  oneOf<T extends string>(f: Field, choices: readonly T[]): T | undefined {
    const n = f.node;
    if (isScalar(n) && typeof n.value === 'string' && (choices as readonly string[]).includes(n.value)) return n.value as T;
    return this.expected(f, `one of ${choices.join(', ')}`);
  }

  /** An IPv4 or IPv6 address, canonicalised; `want` restricts the family. */
  addr(f: Field, want?: 4 | 6): Addr | undefined {
    const what = want === undefined ? 'an IPv4 or IPv6 address' : `an IPv${want} address`;
    const n = f.node;
    if (!isScalar(n) || typeof n.value !== 'string') return this.expected(f, what);
    let a;
    try {
      a = parseAddr(n.value);
    } catch {
      return this.expected(f, what);
    }
    const family = a.family === AF_INET ? 4 : 6;
    if (want !== undefined && family !== want) return this.expected(f, what);
    return { text: formatAddr(a.family, a.bytes), family };
  }

  /** A duration string in `[minMs, maxMs]`, as milliseconds. */
  duration(f: Field, maxMs: number, minMs = 0): number | undefined {
    const n = f.node;
    const range = `a duration ${formatDuration(minMs)}..${formatDuration(maxMs)}`;
    if (!isScalar(n) || typeof n.value !== 'string') return this.expected(f, 'a duration such as 150ms or 2s');
    let ms: number;
    try {
      ms = parseDuration(n.value);
    } catch (e) {
      if (!(e instanceof DurationError)) throw e;
      this.err('XLB_ERR_CONFIG_INVALID', e.message, f.at, f.path);
      return undefined;
    }
    if (ms > maxMs || ms < minMs) return this.expected(f, range);
    return ms;
  }

  /** A Linux interface name. */
  ifname(f: Field): string | undefined {
    return this.pattern(f, IFNAME_PATTERN, 'an interface name (1..15 characters, no "/", ":" or whitespace)');
  }

  // ------------------------------------------------------------- the model ---

  /** Checks the whole document. @returns the model (meaningful only when no error was recorded). */
  root(): XlbConfig {
    const contents = this.doc.contents as Node | null;
    const start: SourceLoc = { file: this.file, line: 1, col: 1 };
    const top: Field = { path: '', node: contents, at: this.nodeLoc(contents, start), keyAt: start };
    let fields: Fields | undefined;
    if (contents === null) {
      // an empty file (or only comments): say what is missing, not "expected a mapping"
      for (const k of CONFIG_KEYS.root.required) this.err('XLB_ERR_CONFIG_MISSING', [], start, k);
    } else if (!isMap(contents)) {
      this.err('XLB_ERR_CONFIG_INVALID', `expected a mapping, got ${describe(contents)}`, top.at, ROOT_KEY);
    } else {
      fields = this.mapping(top, CONFIG_KEYS.root);
    }
    const get = (k: string): Field | undefined => fields?.get(k);

    const instanceF = get('instance');
    const instance = instanceF ? this.pattern(instanceF, INSTANCE_PATTERN, 'an instance name matching [a-z0-9][a-z0-9_-]{0,31}') : DEFAULT_INSTANCE;

    const limits = this.limits(get('limits'));
    const services = this.services(get('services'), limits);
    const suF = get('script_user');
    const unsafeF = get('allow_unsafe_scripts');
    const scripts: NonNullable<XlbConfig['scripts']> = { allowUnsafe: (unsafeF && this.bool(unsafeF)) ?? false };
    const scriptUser = suF && new HealthParser(this).user(suF);
    if (scriptUser !== undefined) scripts.user = scriptUser;

    const config: XlbConfig = {
      file: this.file,
      instance: instance ?? DEFAULT_INSTANCE,
      interfaces: this.interfaces(get('interfaces')),
      metrics: this.metrics(get('metrics')),
      log: this.log(get('log')),
      limits: limits.value,
      tunnel: this.tunnel(get('tunnel')),
      services,
    };
    if (suF || unsafeF) config.scripts = scripts;
    const vrrpF = get('vrrp');
    if (vrrpF) config.vrrp = new VrrpParser(this).parse(vrrpF);
    return config;
  }

  /** `interfaces`: at least one, names unique. */
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
  services(f: Field | undefined, limits: ReturnType<Checker['limits']>): ServiceConfig[] {
    const out: ServiceConfig[] = [];
    if (!f) return out;
    const health = new HealthParser(this);
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

export type { Checker };

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
  const c = new Checker(file, lc, doc);
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
 * (./script-check.ts: script security, users; reads the file system). The
 * daemon's load and reload and `xlb validate` all come through here.
 * @param path the file; also used as the file name in messages
 * @param scripts test seams of the command check (PATH, euid, user lookup)
 * @returns as {@link parseConfig}; a file that cannot be read is one error at 1:1
 */
export async function loadConfigFile(path: string, scripts: Omit<SecureOptions, 'enforce' | 'defaultUser'> = {}): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const err = new ConfigError('XLB_ERR_CONFIG_READ', [reason], { file: path, line: 1, col: 1, key: ROOT_KEY }, { cause: e });
    return { ok: false, errors: [err] };
  }
  const { result, sites } = parseWithCommands(text, path);
  if (!result.ok) return result;
  const errors = await checkCommands(result.config, sites, scripts);
  return errors.length > 0 ? { ok: false, errors } : result;
}
