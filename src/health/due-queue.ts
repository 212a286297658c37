/**
 * @module health/due-queue
 * A min-heap of items by due time: the health runner's one schedule for all
 * its checks, in place of a timer per check.
 *
 * Why: at 10,000 checks a second, a `setTimeout` per attempt allocates a
 * Timeout and a closure that live for the whole interval (about a second).
 * Objects of that age survive the young generation's collections and are
 * copied, promoted and collected again: in the health bench that garbage
 * collection was the largest part of the checker's own CPU. The slots in
 * this heap live as long as their checks, and an attempt allocates nothing
 * here.
 *
 * Layer: control plane, pure data structure. No timers, no I/O.
 */

/** What the queue orders: an item with a due time it owns. */
export interface Due {
  /** When the item is due (a `performance.now()` reading, ms). */
  dueAt: number;
}

/** Items by due time, earliest first; ties in no particular order. */
export class DueQueue<T extends Due> {
  readonly #heap: T[] = [];

  /** Items queued. */
  get size(): number {
    return this.#heap.length;
  }

  /** The earliest due time, or undefined when empty. */
  get nextDueAt(): number | undefined {
    return this.#heap[0]?.dueAt;
  }

  /** Queue `item` at its `dueAt` (queue each item at most once at a time). */
  push(item: T): void {
    const h = this.#heap;
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.dueAt <= item.dueAt) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  /** Remove and return the earliest item if it is due at `now`, else undefined. */
  popDue(now: number): T | undefined {
    const h = this.#heap;
    const top = h[0];
    if (top === undefined || top.dueAt > now) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      // sift the last item down from the root
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && h[r]!.dueAt < h[l]!.dueAt ? r : l;
        if (h[c]!.dueAt >= last.dueAt) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Drop every item. */
  clear(): void {
    this.#heap.length = 0;
  }
}
