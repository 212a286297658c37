/**
 * @module health/probes/bfd
 * A placeholder probe for `type: bfd` checks (keepalived BFD_CHECK), so that
 * {@link ../probes/index.js createProbe} covers every check type the config
 * accepts. It fails every attempt with reason `io`, detail `bfd checks are
 * not wired yet`: the real check follows the BFD session's state, which the
 * BFD runtime (src/bfd/runtime*) will publish; it never probes anything
 * itself.
 *
 * Layer: control plane; no I/O.
 */
import type { BfdCheckSpec } from '../spec.js';
import { failResult, type Probe, type ProbeResult } from './types.js';

/** The detail of every attempt until the BFD runtime drives these checks. */
export const BFD_NOT_WIRED = 'bfd checks are not wired yet';

/**
 * Build the placeholder probe of a bfd check.
 * @param _spec the check (its session name is not used yet)
 * @returns a probe whose every attempt fails with reason `io`
 */
export function createBfdProbe(_spec: BfdCheckSpec): Probe {
  return {
    run(): Promise<ProbeResult> {
      return Promise.resolve(failResult(performance.now(), 'io', BFD_NOT_WIRED));
    },
  };
}
