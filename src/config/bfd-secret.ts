/**
 * @module config/bfd-secret
 * The load-time half of BFD authentication: reads each session's
 * `auth.secret_file`, refuses one that others could read or change (the
 * ownership rule of script security, src/security/script-security.ts, and
 * ssh's rule for private keys: no access for group or others), checks its
 * length for the authentication type, and puts the bytes in the model.
 *
 * Layer: control plane, the file-system half of config validation; called
 * by load.ts loadConfigFile only, after the pure parse succeeded. It fills
 * in `auth.secret` of the sessions with a `secret_file`; it changes nothing
 * else.
 */
import { open } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { bfdSecretRange } from './bfd-model.js';
import type { XlbConfig } from './model.js';

/** Most bytes read from a secret file: a secret is at most 20, so a longer file is a mistake. */
const SECRET_READ_BYTES = 256;

/** Options of {@link loadBfdSecrets}. */
export interface BfdSecretOptions {
  /** The daemon's effective uid (default process.geteuid()): a secret file is owned by it or by root. */
  euid?: number;
  /** Skip the ownership and mode check (`allow_unsafe_scripts`, whose reason applies alike). */
  allowUnsafe?: boolean;
}

/**
 * Read and check the secret files of a parsed config.
 * @param config the model; `auth.secret` is filled in for each `secret_file`
 * @param opts the daemon's euid (tests, `xlb validate` checks as root would)
 * @returns the errors, one per refused file, at the `secret_file` value
 */
export async function loadBfdSecrets(config: XlbConfig, opts: BfdSecretOptions = {}): Promise<ConfigError[]> {
  const euid = opts.euid ?? process.geteuid?.() ?? 0;
  const trusted = new Set([0, euid]);
  const out: ConfigError[] = [];
  for (const [i, inst] of (config.bfd?.instances ?? []).entries()) {
    const auth = inst.auth;
    if (!auth?.secretFile) continue;
    const path = auth.secretFile;
    const loc = auth.secretFileLoc ?? inst.loc;
    const fail = (why: string): void => {
      out.push(new ConfigError('XLB_ERR_CONFIG_INVALID', `secret_file ${path}: ${why}`, { ...loc, key: `bfd.instances[${i}].auth.secret_file` }));
    };
    let bytes: Buffer;
    try {
      const fh = await open(path, 'r');
      try {
        const st = await fh.stat();
        if (!st.isFile()) {
          fail('not a regular file');
          continue;
        }
        const why: string[] = [];
        const fix: string[] = [];
        if (!trusted.has(st.uid)) {
          why.push(`owned by uid ${st.uid}`);
          fix.push(`chown it to root or the daemon's user, uid ${euid}`);
        }
        if (st.mode & 0o070) why.push('accessible to its group');
        if (st.mode & 0o007) why.push('accessible to others');
        if (st.mode & 0o077) fix.push('chmod 600 it');
        if (why.length > 0 && !opts.allowUnsafe) {
          fail(`${why.join(', ')} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}; ${fix.join(', ')})`);
          continue;
        }
        const buf = Buffer.alloc(SECRET_READ_BYTES + 1);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        bytes = buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (e) {
      fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : e instanceof Error ? e.message : String(e));
      continue;
    }
    // one trailing newline, as `echo secret > file` writes it
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) bytes = bytes.subarray(0, bytes.length - 1);
    const range = bfdSecretRange(auth.type);
    if (bytes.length < range.min || bytes.length > range.max) {
      const got = bytes.length > SECRET_READ_BYTES ? `more than ${SECRET_READ_BYTES} bytes` : `${bytes.length} bytes`;
      fail(`expected a secret of ${range.min}..${range.max} bytes for ${auth.type} (RFC 5880 §4), got ${got}`);
      continue;
    }
    auth.secret = new Uint8Array(bytes);
  }
  return out;
}
