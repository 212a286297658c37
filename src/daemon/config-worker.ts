/**
 * @module daemon/config-worker
 * Worker-thread entry of src/daemon/config-load.ts: loadConfigFile() of the
 * path in workerData, its result posted back once (errors as their message
 * and code: a ConfigError does not survive the structured clone as a class).
 * Layer: daemon, edge (a worker of its own, no other state).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfigFile } from '../config/load.js';
import type { ConfigLoadResult } from './config-load.js';

const { path } = workerData as { path: string };
const r = await loadConfigFile(path);
const out: ConfigLoadResult = r.ok ? r : { ok: false, errors: r.errors.map((e) => ({ message: e.message, code: e.code })) };
parentPort?.postMessage(out);
