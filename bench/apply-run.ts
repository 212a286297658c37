/**
 * One run of the apply bench (bench/apply.ts) in a process of its own, as the
 * daemon is: the event loop it measures carries nothing from the benches that
 * ran before it (their heap, their timers). Started by bench/run.ts; prints
 * the rows as JSON.
 */
import { benchApply } from './apply.js';

const rows = await benchApply((s) => void process.stderr.write(`${s}\n`));
process.stdout.write(`${JSON.stringify(rows)}\n`);
