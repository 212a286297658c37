/**
 * @module vrrp/worker-protocol
 * The messages between the daemon (src/vrrp/host.ts) and the VRRP worker
 * (src/vrrp/worker.ts). Plain data (structured clone).
 */
import type { VrrpInstanceStatus, VrrpSpec } from './runner.js';
import type { VrrpState } from './fsm.js';

/** Main thread -> worker. */
export type ToWorker =
  /** Run this spec (the first one starts, later ones reload). */
  | { type: 'apply'; spec: VrrpSpec }
  /** A BFD session went Up or left Up (track_bfd); `diag` names its local diagnostic (bfd_peer). */
  | { type: 'bfd'; session: string; up: boolean; diag?: string }
  /** Reply with a `status` message carrying `id`. */
  | { type: 'status'; id: number }
  /** Resign, remove addresses, exit. */
  | { type: 'stop' };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }
  /** An instance changed state; `status` is every instance's, after the change. */
  | { type: 'state'; instance: string; state: VrrpState; reason: string; status: VrrpInstanceStatus[] }
  | { type: 'status'; id: number; status: VrrpInstanceStatus[] };
