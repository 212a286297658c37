/**
 * @module bfd/worker
 * The BFD worker thread: owns the sockets, the timer and the state machines
 * of every BFD session (./runtime.ts) on an event loop of its own, so the
 * daemon's heavy work (a 1,000-VIP reload, 10,000 health checks a second,
 * metrics) cannot delay a 10 ms control packet or a detection. Talks to the
 * daemon through ./host.ts with the messages of ./worker-protocol.ts.
 *
 * Why a worker of its own and not the VRRP one: the two have nothing to
 * share but the thread (BFD's sockets are UDP, VRRP's raw), VRRP's worker
 * is started only when the config has instances and BFD may run without
 * VRRP (standalone sessions, `type: bfd` checks); and a bug or a stall in
 * one must not take the other's timers with it. Sharing would save one
 * thread (~10 MB) per daemon.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BfdRuntime } from './runtime.js';
import { createBfdIo } from './sockets.js';
import { createBfdEchoIo } from './echo.js';
import type { BfdWorkerData, FromWorker, ToWorker } from './worker-protocol.js';
import { realtimeScheduler } from '../native/realtime.js';

const port = parentPort;
if (!port) throw new Error('bfd/worker.ts runs as a worker thread');
const data = (workerData ?? {}) as BfdWorkerData;
const post = (m: FromWorker): void => port.postMessage(m);

/** Errors lose their class across threads: keep what the log needs. */
function serialisable(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code, stack: v.stack } : v;
  return out;
}

const io = createBfdIo({
  ...(data.netns !== undefined ? { netns: data.netns } : {}),
  log: (level, obj, msg) => {
    if (level === 'debug' && !data.trace) return;
    post({ type: 'log', level, obj: serialisable(obj), msg });
  },
});
/** The echo thread takes the worker's SCHED_FIFO priority of the moment it starts (a later change does not reach it). */
let rtPriority = 0;
const echo =
  data.echoMap === undefined
    ? undefined
    : createBfdEchoIo({
        mapPath: data.echoMap,
        ...(data.netns !== undefined ? { netns: data.netns } : {}),
        get rtPriority() {
          return rtPriority;
        },
        log: io.log,
      });
if (echo) io.echo = echo;
const runtime = new BfdRuntime(io);
runtime.on('state', (event) => post({ type: 'state', event }));

let stopping = false;
/** SCHED_FIFO for this thread, so a busy machine cannot delay a packet (as the VRRP worker does). */
const schedule = realtimeScheduler('bfd', 'packets may be delayed', (level, obj, msg) => io.log(level, obj, msg));

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'apply':
      if (stopping) {
        post({ type: 'applied', id: m.id, error: 'stopping' });
        break;
      }
      try {
        rtPriority = m.rtPriority ?? 0;
        schedule(rtPriority);
        runtime.apply(m.spec);
        post({ type: 'applied', id: m.id });
      } catch (err) {
        post({ type: 'applied', id: m.id, error: (err as Error).message });
      }
      break;
    case 'status':
      post({ type: 'status', id: m.id, status: runtime.status() });
      break;
    case 'stop':
      if (stopping) return;
      stopping = true;
      void runtime.stop().finally(() => {
        echo?.close();
        port.close();
      });
      break;
  }
});
