/**
 * The packet-rate benches' namespace plumbing (bench/pps.ts, bench/pump.ts):
 * `ip` and a command inside a namespace, synchronous, output as text; a
 * bench's namespaces made afresh, and their removal. Edge module
 * (child processes); the lab rules hold: the benches make and remove their
 * own namespaces only.
 */
import { execFileSync } from 'node:child_process';

/** Run `ip` with `args`; its stdout. */
export const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

/** Run `cmd args` in network namespace `ns` (`ip netns exec`), with `input` on its stdin; its stdout. */
export const inNs = (ns: string, cmd: string, args: string[], input?: string): string => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input });

/** Delete those of the namespaces `names` that exist. */
export function removeNamespaces(names: readonly string[]): void {
  const have = ip('netns', 'list');
  for (const ns of names) if (new RegExp(`^${ns}\\b`, 'm').test(have)) ip('netns', 'del', ns);
}

/** Make the namespaces `names` afresh (those left by an earlier run removed first), each with its loopback up. */
export function freshNamespaces(names: readonly string[]): void {
  removeNamespaces(names);
  for (const ns of names) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}
