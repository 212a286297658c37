/**
 * @module health/probes/bfd
 * The probe of a `type: bfd` check (keepalived BFD_CHECK): an attempt
 * succeeds while the BFD session the check names is Up. It probes nothing
 * itself: it reads the session's state as the daemon last heard it from the
 * BFD worker (src/daemon/daemon.ts bfdSession), so an attempt costs a map
 * lookup. The health runner (../runner.ts) runs it again at once when the
 * session changes state (HealthRunner.bfdChanged), and gives it rise 1,
 * fall 1, no retries: the session's own detection time is the only delay.
 *
 * Layer: control plane; no I/O.
 */
import type { BfdCheckSpec } from '../spec.js';
import { failResult, okResult, type Probe, type ProbeResult } from './types.js';

/** What a bfd probe reads: a session's last known state by name. */
export interface BfdSessionSource {
  /**
   * @param name a session of the config's `bfd.instances`
   * @returns its state (`AdminDown`, `Down`, `Init`, `Up`) and local diag, or undefined when no such session runs
   */
  bfdSession(name: string): { state: string; diag: string } | undefined;
}

/** The detail of every attempt of a runner that has no BFD sessions to read (unit tests, `xlb check`). */
export const BFD_NO_SOURCE = 'no BFD runtime to read the session from';

/**
 * Build the probe of a bfd check.
 * @param spec the check
 * @param source where the session states are; absent: every attempt fails
 * @returns a probe whose attempt succeeds while the session is Up, and fails
 *   with reason `unreachable` otherwise (`io` when the session is unknown)
 */
export function createBfdProbe(spec: BfdCheckSpec, source?: BfdSessionSource): Probe {
  return {
    run(): Promise<ProbeResult> {
      const t0 = performance.now();
      if (!source) return Promise.resolve(failResult(t0, 'io', BFD_NO_SOURCE));
      const s = source.bfdSession(spec.name);
      if (s === undefined) return Promise.resolve(failResult(t0, 'io', `no bfd session ${spec.name}`));
      if (s.state === 'Up') return Promise.resolve(okResult(t0, undefined, `bfd session ${spec.name} Up`));
      return Promise.resolve(failResult(t0, 'unreachable', `bfd session ${spec.name} ${s.state} (diag ${s.diag})`));
    },
  };
}
