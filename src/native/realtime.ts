/**
 * @module native/realtime
 * Real-time scheduling of a protocol worker's thread (keepalived's
 * `vrrp_rt_priority`, `bfd_rt_priority`): the VRRP and BFD workers set
 * SCHED_FIFO on their own thread so that a busy machine cannot delay a
 * packet, and go back to normal scheduling with 0.
 *
 * Layer: control plane, a thin edge over the addon's setThreadRealtime.
 */
import { native } from './binding.js';

/** How the worker logs (its protocol's log message to the main thread). */
export type RealtimeLog = (level: 'info' | 'warn', obj: Record<string, unknown>, msg: string) => void;

/**
 * A setter of the calling thread's scheduling that does nothing when the
 * priority is already in force, and logs the change or the refusal (no
 * CAP_SYS_NICE: the thread keeps normal scheduling).
 * @param area log prefix (`vrrp`, `bfd`)
 * @param risk what a refusal means, for the warning (`adverts may be delayed`)
 * @param log the worker's log
 * @returns set(priority): 1..99 SCHED_FIFO, 0 normal
 */
export function realtimeScheduler(area: string, risk: string, log: RealtimeLog): (priority: number) => void {
  let current = 0;
  return (priority) => {
    if (priority === current) return;
    try {
      native().setThreadRealtime(priority);
      current = priority;
      log('info', { priority }, priority ? `${area}: thread scheduled SCHED_FIFO` : `${area}: thread scheduled normally`);
    } catch (err) {
      log('warn', { err, priority }, `${area}: real-time scheduling refused (CAP_SYS_NICE?); ${risk} when the machine is busy`);
    }
  };
}
