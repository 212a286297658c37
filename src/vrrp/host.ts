/**
 * @module vrrp/host
 * The daemon's side of the VRRP worker: starts src/vrrp/worker.ts on its own
 * thread (its own event loop, so adverts keep their timing while the main
 * loop applies a 1,000-VIP config or runs 10,000 health checks a second),
 * hands it the spec on start and reload, relays its log lines and state
 * changes, and asks it for status.
 *
 * Layer: daemon edge (a worker thread and its messages).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { VrrpInstanceStatus, VrrpSpec } from './runner.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** How long stop() waits for the worker to resign and remove addresses. */
const STOP_TIMEOUT_MS = 5000;
/** How long a status request may take. */
const STATUS_TIMEOUT_MS = 2000;

/**
 * The VRRP worker, seen from the main thread.
 * Events: `state` (instance, state, reason); `crashed` (exit code) when the
 * worker ended without being asked to stop.
 */
export class VrrpHost extends EventEmitter {
  readonly #log: Logger;
  readonly #worker: Worker;
  #nextId = 1;
  readonly #pending = new Map<number, (s: VrrpInstanceStatus[]) => void>();
  #stopped: Promise<void> | undefined;
  #exited = false;
  /** The last status the worker reported (state changes refresh it). */
  #last: VrrpInstanceStatus[] = [];

  /**
   * @param log the daemon's logger
   * @param workerUrl the worker module (default ./worker.js beside this one)
   */
  constructor(log: Logger, workerUrl: URL = new URL('./worker.js', import.meta.url)) {
    super();
    this.#log = log;
    this.#worker = new Worker(workerUrl);
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    this.#worker.on('error', (err) => this.#log.error({ err }, 'vrrp worker failed'));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      for (const r of this.#pending.values()) r(this.#last);
      this.#pending.clear();
      if (!this.#stopped) {
        this.#log.error({ code }, 'vrrp worker exited');
        this.emit('crashed', code);
      }
    });
  }

  /** Run (or reload to) a spec. */
  apply(spec: VrrpSpec): void {
    this.#post({ type: 'apply', spec });
  }

  /**
   * A BFD session went Up or left Up: instances tracking it (track_bfd)
   * re-evaluate, and those whose bfd_peer it is may take over (by `diag`,
   * the session's local diagnostic as BFD_DIAG_NAMES names it).
   */
  bfdState(session: string, up: boolean, diag?: string): void {
    this.#post(diag === undefined ? { type: 'bfd', session, up } : { type: 'bfd', session, up, diag });
  }

  /** Every instance's state and counters (the last known ones if the worker does not answer in time). */
  status(): Promise<VrrpInstanceStatus[]> {
    if (this.#exited) return Promise.resolve(this.#last);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(this.#last);
      }, STATUS_TIMEOUT_MS);
      this.#pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.#post({ type: 'status', id });
    });
  }

  /** The status last received, without asking (metrics). */
  get lastStatus(): VrrpInstanceStatus[] {
    return this.#last;
  }

  /**
   * Graceful stop: masters resign (priority-0 advert) and remove their
   * addresses, then the worker exits. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      if (this.#exited) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.#log.error('vrrp worker did not stop in time; terminated');
        void this.#worker.terminate();
      }, STOP_TIMEOUT_MS);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#post({ type: 'stop' });
    });
    return this.#stopped;
  }

  #post(m: ToWorker): void {
    if (!this.#exited) this.#worker.postMessage(m);
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'log':
        this.#log[m.level]({ area: 'vrrp', ...m.obj }, m.msg);
        break;
      case 'state':
        this.#last = m.status;
        this.emit('state', m.instance, m.state, m.reason);
        break;
      case 'status':
        this.#last = m.status;
        this.#pending.get(m.id)?.(m.status);
        this.#pending.delete(m.id);
        break;
    }
  }
}
