/**
 * @module bfd/worker-protocol
 * The messages between the daemon (./host.ts) and the BFD worker
 * (./worker.ts). Plain data (structured clone). Sessions go in by name, in
 * wire units (./runtime.ts {@link BfdRuntimeSpec}); state changes come out
 * as they happen, status on request.
 */
import type { BfdRuntimeSpec, BfdRuntimeStatus, BfdStateEvent } from './runtime.js';

/** What the worker is started with (`workerData`). */
export interface BfdWorkerData {
  /** Create the sockets in this network namespace (tests); default the daemon's. */
  netns?: string;
  /** Also relay the state machines' trace lines as `debug` logs. */
  trace?: boolean;
  /** The pinned xlb_bfd_echo of the loaded XDP program: sessions with own echo send it (absent: they cannot). */
  echoMap?: string;
}

/** Main thread -> worker. */
export type ToWorker =
  /**
   * Run this spec (the first one starts, later ones reload: unchanged
   * sessions untouched, changed timers through Poll/Final). Answered with
   * `applied` carrying `id`. `rtPriority`: SCHED_FIFO priority of the
   * worker thread (0: normal), as VRRP's `vrrp_rt_priority`.
   */
  | { type: 'apply'; id: number; spec: BfdRuntimeSpec; rtPriority?: number }
  /** Reply with a `status` message carrying `id`. */
  | { type: 'status'; id: number }
  /** Every session AdminDown, sockets closed, exit. */
  | { type: 'stop' };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }
  /** The spec of `apply` `id` runs; `error`: it was refused (nothing changed). */
  | { type: 'applied'; id: number; error?: string }
  /** A session changed state. */
  | { type: 'state'; event: BfdStateEvent }
  | { type: 'status'; id: number; status: BfdRuntimeStatus };
