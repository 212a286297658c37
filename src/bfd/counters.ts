/**
 * @module bfd/counters
 * BFD counters that survive the worker. The daemon starts a new BFD worker
 * after a crash (src/daemon/daemon.ts), and a new worker counts from zero;
 * `/metrics` exports the counts as Prometheus counters, which must never go
 * back (a counter that drops reads as a reset, and rate() over the gap
 * invents traffic). {@link BfdCounterCarry} keeps what the dead workers
 * counted, per session name, and adds it to every later status. A worker
 * stopped because a reload removed every session is absorbed too: its
 * sessions are gone (forgotten at once), the runtime-wide totals (drops by
 * reason, datagrams received) go on when a later reload adds sessions.
 *
 * What a crash loses: what the dead worker counted after the last status
 * the daemon read from it (the worker is gone and cannot be asked). The
 * carried sums are then below the truth, never above what was exported, so
 * the exported series stay monotonic.
 *
 * Layer: pure (no I/O, no clock).
 */
import type { BfdRuntimeDropReason, BfdRuntimeStatus, BfdSessionStatus } from './runtime.js';

/** The per-session counters that are carried. */
type Drops = Partial<Record<BfdRuntimeDropReason, number>>;
interface SessionCounts {
  packetsIn: number;
  packetsOut: number;
  sendErrors: number;
  stateChanges: number;
  drops: Drops;
}

const ZERO = (): SessionCounts => ({ packetsIn: 0, packetsOut: 0, sendErrors: 0, stateChanges: 0, drops: {} });

/** `into[k] += from[k]` for every reason of `from`. @returns `into` */
function addDrops(into: Drops, from: Drops): Drops {
  for (const [k, n] of Object.entries(from) as [BfdRuntimeDropReason, number | undefined][]) into[k] = (into[k] ?? 0) + (n ?? 0);
  return into;
}

/** The counts of the workers before this one, added to each status of the current one. */
export class BfdCounterCarry {
  readonly #sessions = new Map<string, SessionCounts>();
  #drops: Drops = {};
  #received = 0;

  /**
   * A worker ended (crashed): keep its last known counts.
   * @param last the last status read from it (BfdHost.lastStatus)
   */
  absorb(last: BfdRuntimeStatus): void {
    // a draining session is the removed twin of a live one, or gone: its counts end with it
    for (const s of last.sessions) {
      if (s.draining) continue;
      const c = this.#sessions.get(s.name) ?? ZERO();
      c.packetsIn += s.packetsIn;
      c.packetsOut += s.packetsOut;
      c.sendErrors += s.sendErrors;
      c.stateChanges += s.stateChanges;
      addDrops(c.drops, s.drops);
      this.#sessions.set(s.name, c);
    }
    addDrops(this.#drops, last.drops);
    this.#received += last.received;
  }

  /**
   * Forget the sessions a reload removed: their series end, and a session
   * added later under the same name is a new one (and starts from zero).
   * @param names the sessions the config defines now
   */
  retain(names: ReadonlySet<string>): void {
    for (const name of [...this.#sessions.keys()]) if (!names.has(name)) this.#sessions.delete(name);
  }

  /**
   * A status of the current worker with the carried counts added (a new
   * object; `st` is left alone).
   * @param st undefined while no worker runs (the second between a crash
   *   and its replacement): undefined, the series are absent until then
   */
  apply(st: BfdRuntimeStatus | undefined): BfdRuntimeStatus | undefined {
    if (!st) return undefined;
    const sessions = st.sessions.map((s): BfdSessionStatus => {
      const c = s.draining ? undefined : this.#sessions.get(s.name);
      if (!c) return s;
      return {
        ...s,
        packetsIn: s.packetsIn + c.packetsIn,
        packetsOut: s.packetsOut + c.packetsOut,
        sendErrors: s.sendErrors + c.sendErrors,
        stateChanges: s.stateChanges + c.stateChanges,
        drops: addDrops(addDrops({}, c.drops), s.drops),
      };
    });
    return { ...st, sessions, drops: addDrops(addDrops({}, this.#drops), st.drops), received: st.received + this.#received };
  }
}
