/**
 * @module lb/ring-worker
 * Worker-thread entry that builds Maglev rings (src/lb/maglev.ts), so that a
 * reload changing many rings (1,000 VIPs at M = 65,537: over a second of CPU)
 * does not block the daemon's event loop. Messages: {seq, backends, m, out?}
 * in (out: a recycled buffer to build into), {seq, ring} or {seq, error}
 * out; buffers are transferred both ways.
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
}

// On Linux, setpriority(PRIO_PROCESS, 0) applies to the calling thread only:
// the builder yields the CPU to the daemon's event loop (timers first).
try {
  setPriority(19);
} catch {
  /* not permitted: run at the default priority */
}

parentPort?.on('message', (job: Job) => {
  try {
    const ring = buildMaglevRing(job.backends, job.m, job.out && new Uint32Array(job.out));
    parentPort?.postMessage({ seq: job.seq, ring }, [ring.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ seq: job.seq, error: (err as Error).message });
  }
});
