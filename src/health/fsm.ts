/**
 * @module health/fsm
 * The health-check state machines, in one import for the runner
 * (src/health/runner.ts): one check ({@link CheckFsm}), one backend and its
 * checks ({@link BackendFsm}), one service's quorum and desired backend list
 * ({@link QuorumFsm}, {@link serviceDesire}).
 *
 * Layer: control plane, pure (STYLE H-3, H-28): no I/O, no timers, no addon.
 * Time is a `now` in ms passed by the caller; randomness is injected.
 */
export * from './fsm-check.js';
export * from './fsm-backend.js';
export * from './fsm-quorum.js';
