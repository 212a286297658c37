/**
 * @module daemon/config-load
 * Reads and validates a config file for a reload in a worker thread
 * (src/daemon/config-worker.ts), so the daemon's event loop keeps serving
 * while a large file is parsed: the YAML parse and validation of 1,000
 * services x 10 backends is one synchronous block of 0.3-1.4 s on a 2-CPU VM
 * (4-5 s with a health check per backend), during which `xlb status`, health
 * timers and an apply in progress waited. The main thread only takes the
 * validated config back (a structured clone: about 0.1 s for that file).
 *
 * Layer: daemon, edge (worker_threads). It must not change what a config
 * means: the worker runs config/load.ts's loadConfigFile unchanged.
 */
import { Worker } from 'node:worker_threads';
import type { XlbConfig } from '../config/model.js';

/** A config error as the reload reports it (the worker's ConfigError, its message carrying file:line:col). */
export interface ConfigLoadError {
  message: string;
  code?: string;
}

/** What {@link loadConfigOffThread} gives back. */
export type ConfigLoadResult = { ok: true; config: XlbConfig } | { ok: false; errors: ConfigLoadError[] };

/**
 * loadConfigFile(path), in a worker thread of its own (started for this
 * load, ended after it).
 * @param path the config file
 * @returns the config, or its errors; a worker that fails to start or dies
 *   is reported as one error, never thrown
 */
export function loadConfigOffThread(path: string): Promise<ConfigLoadResult> {
  return new Promise((resolve) => {
    let done = false;
    let worker: Worker | undefined;
    const finish = (r: ConfigLoadResult): void => {
      if (done) return;
      done = true;
      void worker?.terminate();
      resolve(r);
    };
    const fail = (why: string): void => finish({ ok: false, errors: [{ message: `${path}: config not loaded: ${why}` }] });
    try {
      worker = new Worker(new URL('./config-worker.js', import.meta.url), { workerData: { path } });
    } catch (err) {
      fail((err as Error).message);
      return;
    }
    worker.once('message', (r: ConfigLoadResult) => finish(r));
    worker.once('error', (err) => fail(err.message));
    worker.once('exit', (code) => fail(`the config worker exited (${code}) without an answer`));
  });
}
