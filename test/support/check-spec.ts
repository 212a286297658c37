/**
 * Test helper: the timing and network fields every check spec of the probe
 * tests shares (one attempt, 1 s timeout, no retries, no warmup), so a test
 * spells out only what it is about. Not a test file itself.
 */
import type { CheckTiming, NetCheckBase } from '../../src/health/spec.js';

/** CheckTiming of one attempt with a 1 s timeout. */
export const TEST_TIMING: Readonly<CheckTiming> = Object.freeze({ intervalMs: 1000, timeoutMs: 1000, retries: 0, retryDelayMs: 0, rise: 1, fall: 1, warmupMs: 0, alpha: false });

/** {@link TEST_TIMING} plus the network fields: no mark, the backend's own address. */
export const TEST_NET: Readonly<NetCheckBase> = Object.freeze({ ...TEST_TIMING, fwmark: 0, target: 'backend' });
