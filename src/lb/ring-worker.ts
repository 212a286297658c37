/**
 * @module lb/ring-worker
 * Worker-thread entry that builds Maglev rings (src/lb/maglev.ts), so that a
 * reload changing many rings (1,000 VIPs at M = 65,537: over a second of CPU)
 * does not block the daemon's event loop. Messages: {seq, backends, m} in,
 * {seq, ring} or {seq, error} out; the ring's buffer is transferred.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { buildMaglevRing, type MaglevBackend } from './maglev.js';

interface Job {
  seq: number;
  backends: MaglevBackend[];
  m: number;
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
    const ring = buildMaglevRing(job.backends, job.m);
    parentPort?.postMessage({ seq: job.seq, ring }, [ring.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ seq: job.seq, error: (err as Error).message });
  }
});
