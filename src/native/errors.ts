/**
 * Turns the errors the native addon throws into {@link SystemError}s.
 *
 * Layer: the TS side of the addon boundary (src/native). Pure: no I/O and no
 * addon import, so unit tests can feed it plain objects.
 *
 * The addon throws two kinds of errors (native/src/errors.h):
 * - system errors: an `Error` with `code` (errno name such as `EPERM`, or
 *   `XLB_ERR_BPF_*` for libbpf's private codes), `errno` (negative, Node's
 *   convention), `syscall`, message `"<syscall> failed: <strerror>"`, and
 *   optionally `path`, `verifierLog`, `libbpfLog`, `count`;
 * - argument and state errors: `TypeError`/`Error` without `syscall`
 *   (programming errors; they pass through unchanged).
 *
 * @module native/errors
 */
import { isTableCode, SystemError, type SystemErrorCode, type SystemErrorDetails } from '../errors.js';

/** The shape of a system error thrown by the addon. */
export interface NativeSystemError extends Error, SystemErrorDetails {
  /** Errno name or `XLB_ERR_BPF_*`. */
  code: string;
}

/**
 * @param e any thrown value
 * @returns whether `e` is a system error from the addon
 */
export function isNativeSystemError(e: unknown): e is NativeSystemError {
  if (!(e instanceof Error)) return false;
  const o = e as Error & Record<string, unknown>;
  return typeof o['code'] === 'string' && typeof o['errno'] === 'number' && typeof o['syscall'] === 'string';
}

/** Errno names the addon produces: uv/glibc names, ENOTSUPP, EUNKNOWN_<n>. */
const ERRNO_NAME = /^E[A-Z0-9_]+$/;

function systemCode(code: string): SystemErrorCode {
  if (ERRNO_NAME.test(code)) return code as `E${string}`;
  if (code.startsWith('XLB_ERR_BPF_') && isTableCode(code)) return code as SystemErrorCode;
  return 'XLB_ERR_SYSTEM';
}

/**
 * Converts an addon system error to a {@link SystemError} with the same
 * message, code, errno, syscall and attachments; the original becomes
 * `cause`. Anything else (TypeErrors from argument checks, XlbErrors, non
 * errors) is returned unchanged.
 * @param e any thrown value
 * @returns the SystemError, or `e`
 */
export function toSystemError(e: unknown): unknown {
  if (e instanceof SystemError || !isNativeSystemError(e)) return e;
  const prefix = `${e.syscall} failed: `;
  const description = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  const details: SystemErrorDetails = { errno: e.errno, syscall: e.syscall };
  if (typeof e.path === 'string') details.path = e.path;
  if (typeof e.verifierLog === 'string') details.verifierLog = e.verifierLog;
  if (typeof e.libbpfLog === 'string') details.libbpfLog = e.libbpfLog;
  if (typeof e.count === 'number') details.count = e.count;
  return new SystemError(systemCode(e.code), [e.syscall, description], details, { cause: e });
}

/**
 * Runs a synchronous addon call, rethrowing system errors as SystemError.
 * @param fn the call
 * @returns what fn returns
 * @throws SystemError on a kernel/libbpf failure; other errors unchanged
 */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toSystemError(e);
  }
}

/**
 * Awaits an addon promise (e.g. `loadAsync()`), rethrowing system errors as
 * SystemError.
 * @param fn returns the promise
 * @throws SystemError on a kernel/libbpf failure; other errors unchanged
 */
export async function callNativeAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toSystemError(e);
  }
}
