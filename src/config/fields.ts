/**
 * @module config/fields
 * The checking machinery every part of the config format shares: a
 * {@link Field} (a value found in the document, with its dotted path and
 * source position) and the {@link Checker} that records errors
 * (file:line:col, dotted key, "expected X, got Y") and checks structure
 * (mappings, lists) and scalars (strings, integers, durations, addresses).
 *
 * Layer: control plane. Pure: no I/O. It knows the YAML document and the
 * error codes, and nothing of any part of the format: it must not import
 * ./load.ts, ./health.ts, ./vrrp.ts or any other parser of a part (they all
 * import it; BFD, IPVS and `xlb convert` parsers are to do the same), so the
 * config modules' imports stay acyclic (test/unit/config/imports.test.ts).
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLError } from 'yaml';
import { ConfigError, type ConfigErrorCode, type MessageInput } from '../errors.js';
import { AF_INET, formatAddr, parseAddr } from '../net/addr.js';
import { unknownKeyMessage } from './did-you-mean.js';
import { DurationError, formatDuration, parseDuration } from './duration.js';

/** An absolute path (no NUL), as every part's file and command keys want it. */
export const ABS_PATH = /^\/[^\0]*$/;

/** A parsed IP address: its canonical text, family and bytes. */
export interface ParsedIp {
  text: string;
  family: 4 | 6;
  bytes: Uint8Array;
}

/** Parses an IP address; undefined when `s` is none. */
export function parseIp(s: string): ParsedIp | undefined {
  try {
    const a = parseAddr(s);
    return { text: formatAddr(a.family, a.bytes), family: a.family === AF_INET ? 4 : 6, bytes: a.bytes };
  } catch {
    return undefined;
  }
}

/**
 * Why `ip` cannot be a host's own address (a VRRP peer, a BFD session end):
 * multicast, unspecified, broadcast; '' when it can.
 */
export function badHostAddress(ip: ParsedIp): string {
  const b = ip.bytes;
  if (ip.family === 4) {
    if (b[0]! >= 224 && b[0]! <= 239) return 'a multicast address';
    if (b.every((x) => x === 0)) return 'the unspecified address';
    if (b.every((x) => x === 255)) return 'the broadcast address';
    return '';
  }
  if (b[0] === 0xff) return 'a multicast address';
  if (b.every((x) => x === 0)) return 'the unspecified address';
  return '';
}

/** Where a config node starts in its file. */
export interface SourceLoc {
  /** Config file path as the user gave it. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
}

/** An inclusive integer range. */
export interface IntRange {
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value. */
  max: number;
}

/**
 * Linux interface names: 1..15 bytes (IFNAMSIZ - 1), no '/', ':' or
 * whitespace (dev_valid_name), and not "." or "..".
 */
export const IFNAME_PATTERN = /^(?!\.{1,2}$)[^/:\s]{1,15}$/;

/** The key shown for errors about the document as a whole. */
export const ROOT_KEY = '(root)';

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
export function isImplicitEmpty(n: Node | null | undefined): boolean {
  if (n == null) return true;
  return isScalar(n) && n.value === null && n.range !== undefined && n.range !== null && n.range[0] === n.range[1];
}

/**
 * How a value is shown in "expected X, got Y" messages.
 * @returns `"eighty"`, `80`, `true`, `null`, `an empty value`, `a mapping`, `a list`
 */
export function describe(n: Node | null | undefined): string {
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
export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Walks a document, collecting errors. The parsers of the format's parts
 * (./load.ts for the top level and services, ./health.ts, ./vrrp.ts) check
 * their fields with it; ./load.ts extends it with the model.
 */
export class Checker {
  /** Every error found so far, in discovery order. */
  readonly errors: ConfigError[] = [];

  constructor(
    protected readonly file: string,
    private readonly lc: LineCounter,
    protected readonly doc: Document.Parsed,
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
}
