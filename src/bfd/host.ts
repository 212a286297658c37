/**
 * @module bfd/host
 * The daemon's side of the BFD worker: starts ./worker.ts on its own thread
 * (its own event loop, so 10 ms timers hold while the main loop applies a
 * 1,000-VIP config or runs 10,000 health checks a second), hands it the
 * sessions on start and reload, relays its log lines and state changes, and
 * asks it for status. As src/vrrp/host.ts is for VRRP.
 *
 * Layer: daemon edge (a worker thread and its messages).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { BfdRuntimeSpec, BfdRuntimeStatus, BfdStateEvent } from './runtime.js';
import type { BfdWorkerData, FromWorker, ToWorker } from './worker-protocol.js';

/** How long stop() waits for the sessions to say AdminDown and the worker to exit (the runtime drains 5 s at most). */
const STOP_TIMEOUT_MS = 7000;
/** How long a status request or an apply may take. */
const REQUEST_TIMEOUT_MS = 2000;

/** The log sink: pino's shape, one method per level. */
export interface BfdHostLog {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Events of {@link BfdHost}. */
export interface BfdHostEvents {
  state: [event: BfdStateEvent];
  /** The worker ended without being asked to stop. */
  crashed: [code: number];
}

const EMPTY: BfdRuntimeStatus = { sessions: [], drops: {}, received: 0, timer: { lateMaxMs: 0, lateOver1ms: 0, fired: 0 } };

/**
 * The BFD worker, seen from the main thread.
 */
export class BfdHost extends EventEmitter<BfdHostEvents> {
  readonly #log: BfdHostLog;
  readonly #worker: Worker;
  #nextId = 1;
  readonly #pending = new Map<number, (m: FromWorker) => void>();
  #stopped: Promise<void> | undefined;
  #exited = false;
  #last: BfdRuntimeStatus = EMPTY;

  /**
   * @param log the daemon's logger
   * @param data worker options (tests: a network namespace)
   * @param workerUrl the worker module (default ./worker.js beside this one)
   */
  constructor(log: BfdHostLog, data: BfdWorkerData = {}, workerUrl: URL = new URL('./worker.js', import.meta.url)) {
    super();
    this.#log = log;
    this.#worker = new Worker(workerUrl, { workerData: data });
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    this.#worker.on('error', (err) => this.#log.error({ err }, 'bfd worker failed'));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      for (const r of this.#pending.values()) r({ type: 'applied', id: 0, error: 'worker exited' });
      this.#pending.clear();
      if (!this.#stopped) {
        this.#log.error({ code }, 'bfd worker exited');
        this.emit('crashed', code);
      }
    });
  }

  /**
   * Run (or reload to) a spec.
   * @throws Error when the worker refuses it (a spec the config should have refused), has exited, or does not answer
   */
  async apply(spec: BfdRuntimeSpec, rtPriority = 0): Promise<void> {
    if (this.#exited) throw new Error('bfd worker has exited');
    const m = await this.#request((id) => ({ type: 'apply', id, spec, rtPriority }));
    if (m === undefined) throw new Error(this.#exited ? 'bfd worker has exited' : 'bfd worker did not answer the apply in time');
    if (m.type === 'applied' && m.error !== undefined) throw new Error(`bfd: ${m.error}`);
  }

  /** Every session's state and counters (the last known ones if the worker does not answer in time). */
  async status(): Promise<BfdRuntimeStatus> {
    const m = await this.#request((id) => ({ type: 'status', id }));
    if (m?.type === 'status') this.#last = m.status;
    return this.#last;
  }

  /** The status last received, without asking (metrics). */
  get lastStatus(): BfdRuntimeStatus {
    return this.#last;
  }

  /** Graceful stop: every session AdminDown, then the worker exits. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      if (this.#exited) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.#log.error({}, 'bfd worker did not stop in time; terminated');
        void this.#worker.terminate();
      }, STOP_TIMEOUT_MS);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#worker.postMessage({ type: 'stop' } satisfies ToWorker);
    });
    return this.#stopped;
  }

  /** Posts a request and waits for the answer with its id; undefined after a timeout or when the worker is gone. */
  #request(make: (id: number) => ToWorker): Promise<FromWorker | undefined> {
    if (this.#exited) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.#worker.postMessage(make(id));
    });
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'log':
        this.#log[m.level]({ area: 'bfd', ...m.obj }, m.msg);
        break;
      case 'state':
        this.emit('state', m.event);
        break;
      case 'applied':
      case 'status':
        this.#pending.get(m.id)?.(m);
        this.#pending.delete(m.id);
        break;
    }
  }
}
