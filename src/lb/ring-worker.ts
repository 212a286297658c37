/**
 * @module lb/ring-worker
 * Worker-thread entry that builds Maglev rings (src/lb/maglev.ts), so that a
 * reload changing many rings (1,000 VIPs at M = 65,537: over a second of CPU)
 * does not block the daemon's event loop. Messages: {seq, backends, m, out?,
 * layout?} in (out: a recycled buffer to build into), {seq, ring} or
 * {seq, error} out; buffers are transferred both ways. With `layout` (a ring
 * built ahead with stand-in ids 1..n, see ring-builder.ts) the ring comes back
 * in the smallest array that holds n: a quarter of the memory at n < 256
 * while it waits for its ids.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { buildMaglevRing, type MaglevBackend } from './maglev.js';

interface Job {
  seq: number;
  backends: MaglevBackend[];
  m: number;
  /** A buffer of m entries to build into (transferred), or none. */
  out?: ArrayBuffer;
  /** Return the ring in the smallest array that holds the backends' ids (stand-ins 1..n). */
  layout?: boolean;
}

// On Linux, setpriority(PRIO_PROCESS, 0) applies to the calling thread only:
// the builder yields the CPU to the daemon's event loop (timers first).
try {
  setPriority(19);
} catch {
  /* not permitted: run at the default priority */
}

/** The ring layouts are built into: one buffer, warm in this CPU's cache. */
let scratch = new Uint32Array(0);

function layoutOf(job: Job): Uint8Array | Uint16Array | Uint32Array {
  if (scratch.length !== job.m) scratch = new Uint32Array(job.m);
  const ring = buildMaglevRing(job.backends, job.m, scratch);
  const n = job.backends.length;
  const out = n < 0x100 ? new Uint8Array(job.m) : n < 0x10000 ? new Uint16Array(job.m) : new Uint32Array(job.m);
  out.set(ring);
  return out;
}

parentPort?.on('message', (job: Job) => {
  try {
    const ring = job.layout ? layoutOf(job) : buildMaglevRing(job.backends, job.m, job.out && new Uint32Array(job.out));
    parentPort?.postMessage({ seq: job.seq, ring }, [ring.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ seq: job.seq, error: (err as Error).message });
  }
});
