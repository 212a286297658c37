/**
 * @module lb/ring-builder
 * Builds Maglev rings off the event loop: worker threads (one per CPU, started
 * on first use, unref'ed so they never keep the process alive, at the lowest
 * priority so the event loop's thread wins the CPU).
 * Small jobs are built in the calling thread, where a worker round trip would
 * cost more than the build. Edge module (worker_threads).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { buildMaglevRing, type MaglevBackend } from './maglev.js';

/** Rings this small are built in the calling thread (entries). */
const INLINE_MAX_ENTRIES = 4096;
/** Most worker threads: ring builds are CPU-bound, more than the CPUs only queue. */
const WORKERS_MAX = 4;
/** Ring buffers kept for reuse (see {@link RingBuilder.recycle}). */
const POOL_MAX = 16;

/** Builds rings in worker threads (one per CPU, at most WORKERS_MAX). */
export class RingBuilder {
  #workers: Worker[] = [];
  #next = 0;
  #seq = 0;
  readonly #size: number;
  readonly #pending = new Map<number, { resolve: (r: Uint32Array) => void; reject: (e: Error) => void }>();
  /** Buffers of written rings, handed to the next builds: a reload of 1,000 rings at M = 65,537 moves 260 MB through them, and fresh buffers each time made the garbage collector stop the event loop for tens of ms. */
  readonly #pool: ArrayBuffer[] = [];

  constructor(workers = Math.min(WORKERS_MAX, availableParallelism())) {
    this.#size = Math.max(1, workers);
  }

  /**
   * Build a ring of `m` entries (a promise that resolves off the event loop's back).
   * @param inline build in the calling thread whatever the size: one ring of a
   *   few backends takes 1-3 ms at M = 65537, less than a worker round trip
   *   when the machine is busy (the workers run at the lowest priority)
   */
  build(backends: readonly MaglevBackend[], m: number, inline = false): Promise<Uint32Array> {
    const out = this.#take(m);
    if (inline || m <= INLINE_MAX_ENTRIES) {
      try {
        return Promise.resolve(buildMaglevRing(backends, m, out && new Uint32Array(out)));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const w = this.#pick();
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      w.postMessage({ seq, backends: backends.map((b) => ({ id: b.id, key: b.key, weight: b.weight })), m, out }, out ? [out] : []);
    });
  }

  /**
   * Give back a ring the caller is done with (written to the map): its
   * buffer is reused by a later build of the same size.
   */
  recycle(ring: Uint32Array): void {
    if (this.#pool.length < POOL_MAX && ring.byteOffset === 0 && ring.byteLength === ring.buffer.byteLength && ring.buffer instanceof ArrayBuffer) this.#pool.push(ring.buffer);
  }

  /** A pooled buffer of exactly m entries, if any. */
  #take(m: number): ArrayBuffer | undefined {
    const i = this.#pool.findIndex((b) => b.byteLength === m * 4);
    return i < 0 ? undefined : this.#pool.splice(i, 1)[0];
  }

  /** The next worker, round-robin, started on first use. */
  #pick(): Worker {
    const i = this.#next++ % this.#size;
    const have = this.#workers[i];
    if (have) return have;
    const w = new Worker(new URL('./ring-worker.js', import.meta.url));
    w.unref();
    w.on('message', (msg: { seq: number; ring?: Uint32Array; error?: string }) => {
      const p = this.#pending.get(msg.seq);
      if (!p) return;
      this.#pending.delete(msg.seq);
      if (msg.ring) p.resolve(msg.ring);
      else p.reject(new Error(msg.error ?? 'ring worker failed'));
    });
    w.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#workers = [];
    });
    this.#workers[i] = w;
    return w;
  }

  /** Stop the workers (pending builds are rejected). */
  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = [];
    for (const p of this.#pending.values()) p.reject(new Error('ring builder closed'));
    this.#pending.clear();
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
