/**
 * @module vrrp/worker
 * The VRRP worker thread: owns the sockets, timers and state machines of
 * every VRRP instance (src/vrrp/runner.ts) on an event loop of its own, so
 * the daemon's heavy work (config applies, health checks, metrics) cannot
 * delay an advert. Talks to the daemon through src/vrrp/host.ts with the
 * messages of src/vrrp/worker-protocol.ts.
 */
import { parentPort } from 'node:worker_threads';
import { createVrrpIo, type WorkerIo } from './io.js';
import { VrrpRunner } from './runner.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { createGarpSender } from './garp.js';
import { realtimeScheduler } from '../native/realtime.js';

const port = parentPort;
if (!port) throw new Error('vrrp/worker.ts runs as a worker thread');
const post = (m: FromWorker): void => port.postMessage(m);
const log: WorkerIo['log'] = (level, obj, msg) => post({ type: 'log', level, obj: serialisable(obj), msg });

/** Errors lose their class across threads: keep what the log needs. */
function serialisable(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code, stack: v.stack } : v;
  return out;
}

let garp;
try {
  garp = createGarpSender();
} catch (err) {
  log('warn', { err }, 'vrrp: packet socket for gratuitous ARP not opened');
}
const io = await createVrrpIo({ log, garp });
const runner = new VrrpRunner(io);
runner.on('state', (instance: string, state, reason: string) => post({ type: 'state', instance, state, reason, status: runner.status() }));

let stopping = false;
/** keepalived's vrrp_rt_priority: this thread real-time, so a busy main thread cannot delay an advert. */
const schedule = realtimeScheduler('vrrp', 'adverts may be delayed', log);
port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'apply':
      if (stopping) break;
      schedule(m.spec.rtPriority ?? 0);
      runner.apply(m.spec);
      break;
    case 'bfd':
      runner.setBfdState(m.session, m.up, m.diag);
      break;
    case 'status':
      post({ type: 'status', id: m.id, status: runner.status() });
      break;
    case 'stop':
      if (stopping) return;
      stopping = true;
      void runner.stop().finally(() => {
        io.close();
        port.close();
      });
      break;
  }
});
