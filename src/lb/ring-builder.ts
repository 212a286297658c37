/**
 * @module lb/ring-builder
 * Builds Maglev rings off the event loop: worker threads (one per CPU, started
 * on first use, unref'ed so they never keep the process alive, at the lowest
 * priority so the event loop's thread wins the CPU).
 * Small jobs are built in the calling thread, where a worker round trip would
 * cost more than the build. Edge module (worker_threads).
 *
 * Rings can also be built ahead, before their backend ids are known
 * ({@link RingBuilder.prebuild}): a Maglev ring depends only on the backends'
 * keys and weights, so a ring is built with stand-in ids (the rank of each
 * key) and the real ids are put in when build() asks for the same backends.
 * The daemon does this while the kernel verifies the program (half a second
 * on one CPU, with the other one idle).
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
/** Jobs of prebuild() a worker holds at once: one building, one waiting, so it never idles for a round trip. */
const PREBUILD_PER_WORKER = 2;

/** A ring built ahead: entries are stand-in ids, 1 + the rank of the backend's key (0: empty). */
type Layout = Uint8Array | Uint16Array | Uint32Array;

interface Pending {
  resolve: (r: Uint32Array | Layout) => void;
  reject: (e: Error) => void;
  /** the worker holding the job */
  worker: number;
}

/** Key order of the ring builder (code units, as maglev.ts sorts). */
function byKey(a: MaglevBackend, b: MaglevBackend): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** What a ring depends on: M, and the keys and weights in key order. */
function signature(sorted: readonly MaglevBackend[], m: number): string {
  let s = String(m);
  for (const b of sorted) s += `|${b.key}=${b.weight}`;
  return s;
}

function mapIds8(layout: Uint8Array, ids: Uint32Array, ring: Uint32Array): void {
  for (let i = 0; i < ring.length; i++) ring[i] = ids[layout[i]!]!;
}
function mapIds16(layout: Uint16Array, ids: Uint32Array, ring: Uint32Array): void {
  for (let i = 0; i < ring.length; i++) ring[i] = ids[layout[i]!]!;
}
function mapIds32(layout: Uint32Array, ids: Uint32Array, ring: Uint32Array): void {
  for (let i = 0; i < ring.length; i++) ring[i] = ids[layout[i]!]!;
}

/** Builds rings in worker threads (one per CPU, at most WORKERS_MAX). */
export class RingBuilder {
  #workers: Worker[] = [];
  /** jobs each worker holds */
  #load: number[] = [];
  #seq = 0;
  readonly #size: number;
  readonly #pending = new Map<number, Pending>();
  /** Buffers of written rings, handed to the next builds: a reload of 1,000 rings at M = 65,537 moves 260 MB through them, and fresh buffers each time made the garbage collector stop the event loop for tens of ms. */
  readonly #pool: ArrayBuffer[] = [];
  /** rings built ahead (or being built), by signature() */
  readonly #prebuilt = new Map<string, Promise<Layout>>();
  /** the sets prebuild() still has to build, read as the workers take them */
  #ahead: { sets: Iterator<readonly { key: string; weight: number }[]>; m: number } | undefined;
  /** signatures build() was asked for while prebuild() had sets to read: it skips them */
  readonly #asked = new Set<string>();

  constructor(workers = Math.min(WORKERS_MAX, availableParallelism())) {
    this.#size = Math.max(1, workers);
  }

  /**
   * Build a ring of `m` entries (a promise that resolves off the event loop's back).
   * A ring of the same keys and weights built ahead by prebuild() is taken
   * from there, with these backends' ids put in.
   * @param inline build in the calling thread whatever the size: one ring of a
   *   few backends takes 1-3 ms at M = 65537, less than a worker round trip
   *   when the machine is busy (the workers run at the lowest priority)
   */
  build(backends: readonly MaglevBackend[], m: number, inline = false): Promise<Uint32Array> {
    if (this.#prebuilt.size || this.#ahead) {
      const sorted = backends.slice().sort(byKey);
      const sig = signature(sorted, m);
      const pre = this.#prebuilt.get(sig);
      if (pre) {
        this.#prebuilt.delete(sig);
        // a prebuild that failed (a duplicate key, a bad weight) is built
        // again, to fail with these backends' own error
        return pre.then(
          (layout) => this.#withIds(layout, sorted, m),
          () => this.build(backends, m, inline),
        );
      }
      // asked before prebuild() got to it (or not among its sets): never built ahead now
      if (this.#ahead) this.#asked.add(sig);
    }
    const out = this.#take(m);
    if (inline || m <= INLINE_MAX_ENTRIES) {
      try {
        return Promise.resolve(buildMaglevRing(backends, m, out && new Uint32Array(out)));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    // ahead of the rings built ahead: on the least loaded worker
    return this.#post(this.#leastLoaded(), backends.map((b) => ({ id: b.id, key: b.key, weight: b.weight })), m, out, false) as Promise<Uint32Array>;
  }

  /**
   * Build rings ahead, before their backend ids are known: for each set of
   * backends (keys and weights), in the order given. build() takes them when
   * it is asked for the same keys and weights; call dropPrebuilt() once the
   * rings that were wanted are built. Nothing is done before this returns:
   * the workers start in later turns of the event loop, one a turn, and a
   * set is read when a worker is free to build it (so `sets` may be a
   * generator, and the sets not built yet are not held in memory); a set
   * build() was asked for before it was read is skipped.
   * Rings too small for the workers are not built ahead.
   */
  prebuild(sets: Iterable<readonly { key: string; weight: number }[]>, m: number): void {
    if (m <= INLINE_MAX_ENTRIES) return;
    const ahead = { sets: sets[Symbol.iterator](), m };
    this.#ahead = ahead;
    const start = (): void => {
      if (this.#ahead !== ahead) return; // dropped, or caught up
      const w = this.#unstarted();
      if (w < 0) return;
      this.#feed(w); // starts it: a few ms of this thread, a turn of its own
      setImmediate(start);
    };
    setImmediate(start);
  }

  /** Forget the rings built ahead that nobody asked for, and the sets not read yet. */
  dropPrebuilt(): void {
    this.#prebuilt.clear();
    this.#asked.clear();
    this.#ahead = undefined;
  }

  /**
   * Give back a ring the caller is done with (written to the map): its
   * buffer is reused by a later build of the same size.
   */
  recycle(ring: Uint32Array): void {
    if (this.#pool.length < POOL_MAX && ring.byteOffset === 0 && ring.byteLength === ring.buffer.byteLength && ring.buffer instanceof ArrayBuffer) this.#pool.push(ring.buffer);
  }

  /** A ring of real ids from a layout of stand-in ones (`sorted`: the backends in key order). */
  #withIds(layout: Layout, sorted: readonly MaglevBackend[], m: number): Uint32Array {
    const ids = new Uint32Array(sorted.length + 1);
    for (let i = 0; i < sorted.length; i++) ids[i + 1] = sorted[i]!.id;
    const out = this.#take(m);
    const ring = out ? new Uint32Array(out) : new Uint32Array(m);
    // one loop per array type: a loop that sees all three runs at half the speed
    if (layout instanceof Uint8Array) mapIds8(layout, ids, ring);
    else if (layout instanceof Uint16Array) mapIds16(layout, ids, ring);
    else mapIds32(layout, ids, ring);
    return ring;
  }

  /** A pooled buffer of exactly m entries, if any. */
  #take(m: number): ArrayBuffer | undefined {
    const i = this.#pool.findIndex((b) => b.byteLength === m * 4);
    return i < 0 ? undefined : this.#pool.splice(i, 1)[0];
  }

  /** Give worker w sets of prebuild() to build until it holds PREBUILD_PER_WORKER jobs. */
  #feed(w: number): void {
    while (this.#ahead && (this.#load[w] ?? 0) < PREBUILD_PER_WORKER) {
      const r = this.#ahead.sets.next();
      if (r.done) {
        this.#ahead = undefined;
        return;
      }
      const m = this.#ahead.m;
      const sorted = r.value.map((b) => ({ id: 0, key: b.key, weight: b.weight })).sort(byKey);
      const sig = signature(sorted, m);
      if (this.#prebuilt.has(sig) || this.#asked.has(sig)) continue;
      // stand-in ids: 1 + the rank in key order
      for (let i = 0; i < sorted.length; i++) sorted[i]!.id = i + 1;
      const layout = this.#post(w, sorted, m, undefined, true) as Promise<Layout>;
      layout.catch(() => undefined); // one nobody asks for may fail unseen
      this.#prebuilt.set(sig, layout);
    }
  }

  /** Send a job to worker w. */
  #post(w: number, backends: MaglevBackend[], m: number, out: ArrayBuffer | undefined, layout: boolean): Promise<Uint32Array | Layout> {
    const worker = this.#worker(w);
    const seq = ++this.#seq;
    this.#load[w] = (this.#load[w] ?? 0) + 1;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject, worker: w });
      worker.postMessage({ seq, backends, m, out, layout }, out ? [out] : []);
    });
  }

  /** The index of a worker not started yet, or -1. */
  #unstarted(): number {
    for (let w = 0; w < this.#size; w++) if (!this.#workers[w]) return w;
    return -1;
  }

  /** The index of the worker holding the fewest jobs. */
  #leastLoaded(): number {
    let best = 0;
    for (let w = 1; w < this.#size; w++) if ((this.#load[w] ?? 0) < (this.#load[best] ?? 0)) best = w;
    return best;
  }

  /** Worker i, started on first use. */
  #worker(i: number): Worker {
    const have = this.#workers[i];
    if (have) return have;
    const w = new Worker(new URL('./ring-worker.js', import.meta.url));
    w.unref();
    w.on('message', (msg: { seq: number; ring?: Uint32Array | Layout; error?: string }) => {
      const p = this.#pending.get(msg.seq);
      if (!p) return;
      this.#pending.delete(msg.seq);
      this.#load[p.worker] = Math.max(0, (this.#load[p.worker] ?? 0) - 1);
      if (msg.ring) p.resolve(msg.ring);
      else p.reject(new Error(msg.error ?? 'ring worker failed'));
      this.#feed(p.worker);
    });
    w.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#workers = [];
      this.#load = [];
    });
    this.#workers[i] = w;
    return w;
  }

  /** Stop the workers (pending builds are rejected). */
  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = [];
    this.#load = [];
    this.dropPrebuilt();
    for (const p of this.#pending.values()) p.reject(new Error('ring builder closed'));
    this.#pending.clear();
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
