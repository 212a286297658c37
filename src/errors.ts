/**
 * The one error hierarchy of xlb (STYLE H-36): every error xlb throws on
 * purpose is an {@link XlbError} with a stable `code`, optionally chained to
 * the error that caused it (`cause`, ES2022).
 *
 * Layer: shared by every layer. Pure: no I/O, no imports beyond `node:util`.
 *
 * Subclasses exist only where callers handle errors differently:
 * - {@link ConfigError}: points at `file:line:col` and the offending key;
 * - {@link CodecError}: a wire format did not decode; carries the byte offset;
 * - {@link SystemError}: a syscall or libbpf call failed (from the addon,
 *   see src/native/errors.ts); Node-style `code`/`errno`/`syscall`;
 * - {@link AbiError}: the BPF object, the generated TS layouts or a pinned map
 *   disagree about a struct or map layout;
 * - {@link CliUsageError}: bad command line; carries the process exit code.
 *
 * Messages come from {@link ERROR_CODES}: pass the template's arguments as an
 * array (`new CodecError('XLB_ERR_CODEC_TRUNCATED', ['vrrp', 'ip_addrs[2]', 28], 28)`),
 * or pass a finished message string when no template argument list fits.
 *
 * @module errors
 */
import { format } from 'node:util';

/**
 * Every xlb error code and its message template (`util.format` placeholders:
 * `%s` string, `%d` number). Codes are `XLB_ERR_<AREA>_<WHAT>` (H-9) and are
 * never renamed once released: tests and operators match on them.
 */
export const ERROR_CODES = {
  // --- General --------------------------------------------------------------
  /** A bug: an invariant of xlb itself does not hold. */
  XLB_ERR_INTERNAL: 'internal error: %s',

  // --- Configuration (ConfigError; the location is prefixed) ----------------
  /** The YAML does not parse. */
  XLB_ERR_CONFIG_SYNTAX: 'YAML syntax error: %s',
  /** A value has the wrong type, range or form. */
  XLB_ERR_CONFIG_INVALID: 'invalid value: %s',
  /** A required key is absent. */
  XLB_ERR_CONFIG_MISSING: 'missing required key',
  /** A key xlb does not know (with a suggestion, or ''). */
  XLB_ERR_CONFIG_UNKNOWN_KEY: 'unknown key%s',
  /** Two entries claim the same identity (VIP, backend, VRID, ...). */
  XLB_ERR_CONFIG_DUPLICATE: 'duplicate %s (first defined at %s)',
  /** Values that are each valid but cannot be combined. */
  XLB_ERR_CONFIG_CONFLICT: 'conflicts with %s: %s',
  /** The config file cannot be read: reason. */
  XLB_ERR_CONFIG_READ: 'cannot read config file: %s',

  // --- Wire formats (CodecError) --------------------------------------------
  /** Input ends before the field: proto, field, offset. */
  XLB_ERR_CODEC_TRUNCATED: '%s: truncated at %s (offset %d)',
  /** Unsupported protocol version: proto, version, offset. */
  XLB_ERR_CODEC_BAD_VERSION: '%s: unsupported version %d (offset %d)',
  /** Checksum mismatch: proto, got, expected, offset. */
  XLB_ERR_CODEC_BAD_CHECKSUM: '%s: bad checksum 0x%s, expected 0x%s (offset %d)',
  /** A length field disagrees with the data: proto, field, value, offset. */
  XLB_ERR_CODEC_BAD_LENGTH: '%s: bad length in %s: %d (offset %d)',
  /** A field holds a value the format forbids: proto, field, value, offset. */
  XLB_ERR_CODEC_BAD_VALUE: '%s: bad value in %s: %s (offset %d)',

  // --- Kernel ABI (AbiError) ------------------------------------------------
  /** Struct or map layout differs between object, abi.gen.ts and pins. */
  XLB_ERR_ABI_MISMATCH: 'ABI mismatch: %s',
  /** A pinned map or object carries another XLB_ABI_VERSION: found, expected. */
  XLB_ERR_ABI_VERSION: 'ABI version %d found, %d expected',

  // --- Native addon and kernel (SystemError, XlbError) ----------------------
  /** A system failure whose errno has no name (code of last resort). */
  XLB_ERR_SYSTEM: '%s failed: %s',
  /** The addon is not built or does not load: reason. */
  XLB_ERR_NATIVE_UNAVAILABLE: 'native addon not available: %s',
  // libbpf's private error codes (LIBBPF_ERRNO__*, 4000 and up), named by the
  // addon; the message is the addon's "<call> failed: <libbpf_strerror>".
  XLB_ERR_BPF_LIBELF: '%s failed: %s',
  XLB_ERR_BPF_FORMAT: '%s failed: %s',
  XLB_ERR_BPF_KVERSION: '%s failed: %s',
  XLB_ERR_BPF_ENDIAN: '%s failed: %s',
  XLB_ERR_BPF_INTERNAL: '%s failed: %s',
  XLB_ERR_BPF_RELOC: '%s failed: %s',
  XLB_ERR_BPF_LOAD: '%s failed: %s',
  XLB_ERR_BPF_VERIFY: '%s failed: %s',
  XLB_ERR_BPF_PROG2BIG: '%s failed: %s',
  XLB_ERR_BPF_KVER: '%s failed: %s',
  XLB_ERR_BPF_PROGTYPE: '%s failed: %s',
  XLB_ERR_BPF_WRNGPID: '%s failed: %s',
  XLB_ERR_BPF_INVSEQ: '%s failed: %s',
  XLB_ERR_BPF_NLPARSE: '%s failed: %s',

  // --- Daemon ---------------------------------------------------------------
  /** /sys/fs/bpf is not a bpffs: what to do. */
  XLB_ERR_DAEMON_BPFFS: '%s',
  /** The first config could not be applied: why. */
  XLB_ERR_DAEMON_APPLY: '%s',
  /** No daemon answers on the control socket: path, reason. */
  XLB_ERR_DAEMON_NOT_RUNNING: 'no xlb daemon on %s (%s)',

  // --- Command line (CliUsageError) -----------------------------------------
  /** Bad arguments or options: what is wrong. */
  XLB_ERR_CLI_USAGE: '%s',
} as const satisfies Record<`XLB_ERR_${string}`, string>;

/** A code from {@link ERROR_CODES}. */
export type XlbTableCode = keyof typeof ERROR_CODES;
/** A Node/libuv errno name (`EPERM`, `ENOENT`, ...); only {@link SystemError} carries one. */
export type ErrnoCode = `E${string}`;
/** Every `code` an {@link XlbError} can carry. */
export type XlbErrorCode = XlbTableCode | ErrnoCode;

/** Codes of each subclass, picked from the table by prefix. */
export type ConfigErrorCode = Extract<XlbTableCode, `XLB_ERR_CONFIG_${string}`>;
export type CodecErrorCode = Extract<XlbTableCode, `XLB_ERR_CODEC_${string}`>;
export type AbiErrorCode = Extract<XlbTableCode, `XLB_ERR_ABI_${string}`>;
export type CliErrorCode = Extract<XlbTableCode, `XLB_ERR_CLI_${string}`>;
export type SystemErrorCode = ErrnoCode | 'XLB_ERR_SYSTEM' | Extract<XlbTableCode, `XLB_ERR_BPF_${string}`>;

/** One template argument. */
export type MessageArg = string | number | bigint | boolean;
/** Template arguments for the code's template, or a finished message. */
export type MessageInput = readonly MessageArg[] | string;

/** Template of errno-named system errors (the addon's message shape, H-24). */
const ERRNO_TEMPLATE = ERROR_CODES.XLB_ERR_SYSTEM;

/** @returns whether `code` is a key of {@link ERROR_CODES}. */
export function isTableCode(code: string): code is XlbTableCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/**
 * The message for `code`: its template filled with `input`, or `input` itself
 * when it is a string.
 * @param code an xlb code or an errno name (errno names use `"%s failed: %s"`)
 * @param input template arguments, or a finished message
 */
export function formatMessage(code: XlbErrorCode, input: MessageInput): string {
  if (typeof input === 'string') return input;
  const template = isTableCode(code) ? ERROR_CODES[code] : ERRNO_TEMPLATE;
  return format(template, ...input);
}

/** Options every xlb error takes. */
export interface XlbErrorOptions {
  /** The error this one wraps (kept as the standard `cause`). */
  cause?: unknown;
}

/** Sets the prototype's `name`, so it is not an own enumerable property. */
function named(cls: { prototype: Error }, name: string): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

/** Base of every error xlb throws on purpose. */
export class XlbError extends Error {
  /** Stable machine-readable code; see {@link ERROR_CODES}. */
  readonly code: XlbErrorCode;

  /**
   * @param code the error code
   * @param message template arguments for the code's template, or a finished message
   * @param options `cause`: the error this one wraps
   */
  constructor(code: XlbErrorCode, message: MessageInput = [], options: XlbErrorOptions = {}) {
    super(formatMessage(code, message), 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
  }
}
named(XlbError, 'XlbError');

/** Where in which config file a {@link ConfigError} points. */
export interface ConfigLocation {
  /** Config file path as the user gave it. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** Dotted path of the offending key, e.g. `vips[0].port`. */
  key: string;
}

/** A config error; the message reads `file:line:col: key: <text>`. */
export class ConfigError extends XlbError {
  /** Config file path. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
  /** Dotted path of the offending key. */
  readonly key: string;

  /**
   * @param code a `XLB_ERR_CONFIG_*` code
   * @param message template arguments, or a finished message (without location)
   * @param loc file, line, col, key
   * @param options `cause`
   */
  constructor(code: ConfigErrorCode, message: MessageInput, loc: ConfigLocation, options: XlbErrorOptions = {}) {
    super(code, `${loc.file}:${loc.line}:${loc.col}: ${loc.key}: ${formatMessage(code, message)}`, options);
    this.file = loc.file;
    this.line = loc.line;
    this.col = loc.col;
    this.key = loc.key;
  }
}
named(ConfigError, 'ConfigError');

/** A wire-format decode error (H-33). */
export class CodecError extends XlbError {
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;

  /**
   * @param code a `XLB_ERR_CODEC_*` code
   * @param message template arguments, or a finished message
   * @param offset byte offset of the failing field
   * @param options `cause`
   */
  constructor(code: CodecErrorCode, message: MessageInput, offset: number, options: XlbErrorOptions = {}) {
    super(code, message, options);
    this.offset = offset;
  }
}
named(CodecError, 'CodecError');

/** Kernel-call details of a {@link SystemError}, as the addon reports them. */
export interface SystemErrorDetails {
  /** Negative errno, Node's convention (ENOENT is -2). */
  errno: number;
  /** The libbpf function or syscall that failed, e.g. `bpf_map_update_elem`. */
  syscall: string;
  /** File path involved (pins, object files, netns). */
  path?: string;
  /** Kernel verifier log of a failed program load. */
  verifierLog?: string;
  /** WARN/INFO lines libbpf printed during the failed operation. */
  libbpfLog?: string;
  /** Elements processed before a batch operation failed. */
  count?: number;
}

/** A failed syscall or libbpf call (from the addon; see src/native/errors.ts). */
export class SystemError extends XlbError {
  /** Negative errno, Node's convention. */
  readonly errno: number;
  /** The libbpf function or syscall that failed. */
  readonly syscall: string;
  /** File path involved, if any. */
  readonly path?: string;
  /** Kernel verifier log (program loads only). */
  readonly verifierLog?: string;
  /** What libbpf printed during the operation, if anything. */
  readonly libbpfLog?: string;
  /** Elements processed before a batch operation failed. */
  readonly count?: number;

  /**
   * @param code errno name (`EPERM`), `XLB_ERR_BPF_*`, or `XLB_ERR_SYSTEM`
   * @param message `[syscall, description]` for the `"%s failed: %s"` template, or a finished message
   * @param details errno, syscall and the optional attachments
   * @param options `cause`: usually the addon's original error
   */
  constructor(code: SystemErrorCode, message: MessageInput, details: SystemErrorDetails, options: XlbErrorOptions = {}) {
    super(code, message, options);
    this.errno = details.errno;
    this.syscall = details.syscall;
    if (details.path !== undefined) this.path = details.path;
    if (details.verifierLog !== undefined) this.verifierLog = details.verifierLog;
    if (details.libbpfLog !== undefined) this.libbpfLog = details.libbpfLog;
    if (details.count !== undefined) this.count = details.count;
  }
}
named(SystemError, 'SystemError');

/** Layouts or ABI versions disagree (H-12). */
export class AbiError extends XlbError {
  /**
   * @param code a `XLB_ERR_ABI_*` code
   * @param message template arguments, or a finished message
   * @param options `cause`
   */
  constructor(code: AbiErrorCode, message: MessageInput, options: XlbErrorOptions = {}) {
    super(code, message, options);
  }
}
named(AbiError, 'AbiError');

/** Exit code for usage errors: 2, the shell convention (bash builtins, getopt-style tools). */
export const EXIT_USAGE = 2;

/** Bad command line (H-37 maps it to its exit code). */
export class CliUsageError extends XlbError {
  /** Process exit code to use. */
  readonly exitCode: number;

  /**
   * @param code a `XLB_ERR_CLI_*` code
   * @param message template arguments, or a finished message
   * @param exitCode process exit code, {@link EXIT_USAGE} by default
   * @param options `cause`
   */
  constructor(code: CliErrorCode, message: MessageInput, exitCode: number = EXIT_USAGE, options: XlbErrorOptions = {}) {
    super(code, message, options);
    this.exitCode = exitCode;
  }
}
named(CliUsageError, 'CliUsageError');

/**
 * The error and its causes, outermost first. Stops at a cycle.
 * @param err any thrown value
 * @returns `[err, err.cause, err.cause.cause, ...]`
 */
export function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let cur: unknown = err;
  while (cur !== undefined && !chain.includes(cur)) {
    chain.push(cur);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return chain;
}

/**
 * The first error in `err`'s cause chain that carries `code`.
 * @param err any thrown value
 * @param code the code to look for
 * @returns that error, or undefined
 */
export function findCode(err: unknown, code: XlbErrorCode): XlbError | undefined {
  for (const e of causeChain(err)) if (e instanceof XlbError && e.code === code) return e;
  return undefined;
}
