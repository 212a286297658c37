/**
 * @module config/script-check
 * The load-time check of a config's commands: script security and users
 * (src/security/script-security.ts) applied to every command the parser
 * recorded, with the refusals turned into config errors at the command's
 * file:line:col. A command written once and used by several backends (a
 * service's misc check) is reported once.
 *
 * Layer: control plane, the file-system half of config validation; called
 * by load.ts loadConfigFile only, after the pure parse succeeded. It fills
 * in `path` and `runAs` of the commands in the model; it changes nothing
 * else and never runs a command.
 */
import { ConfigError } from '../errors.js';
import { secureCommands, type CommandSite, type SecureOptions } from '../security/script-security.js';
import type { XlbConfig } from './model.js';

/**
 * Check and resolve the commands of a parsed config.
 * @param config the model (its `scripts` settings apply)
 * @param sites the commands the parser recorded
 * @param opts test seams: PATH, euid, user lookup
 * @returns the errors, sorted by position; empty = every command passed and is resolved
 */
export async function checkCommands(config: XlbConfig, sites: readonly CommandSite[], opts: Omit<SecureOptions, 'enforce' | 'defaultUser'> = {}): Promise<ConfigError[]> {
  const full: SecureOptions = { ...opts, enforce: !(config.scripts?.allowUnsafe ?? false) };
  if (config.scripts?.user !== undefined) full.defaultUser = config.scripts.user;
  const refused = await secureCommands(sites, full);
  const seen = new Set<string>();
  const out: ConfigError[] = [];
  for (const r of refused) {
    const { file, line, col } = r.site.at;
    const id = `${line}:${col}:${r.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(new ConfigError('XLB_ERR_CONFIG_INVALID', r.message, { file, line, col, key: r.site.key }));
  }
  return out;
}
