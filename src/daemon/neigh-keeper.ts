/**
 * @module daemon/neigh-keeper
 * Keeps the kernel's neighbour entries for the backends resolved. The XDP
 * program takes next hops from the kernel (bpf_fib_lookup), which never
 * resolves a neighbour by itself; in dr mode a packet whose backend has no
 * neighbour entry cannot be handed to the kernel either (it says "to the
 * VIP"), so it is dropped and counted (XLB_R_DROP_DR_NO_NEIGH). A datagram to
 * the backend's discard port (9/udp) makes the kernel resolve the address; it
 * is sent right after each apply and then every `intervalMs`. Health checks
 * (issue 5) will do the same as a side effect. Edge module (sockets, timers).
 */
import { createSocket, type Socket } from 'node:dgram';

/** The discard service (RFC 863): nothing listens there, nothing is expected back. */
const DISCARD_PORT = 9;

/** Sends the probes; start()/stop() are idempotent. */
export class NeighbourKeeper {
  #addrs: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #s4: Socket | null = null;
  #s6: Socket | null = null;
  readonly intervalMs: number;

  constructor(intervalMs = 5000) {
    this.intervalMs = intervalMs;
  }

  /** The backend addresses to keep resolved; probes them at once. */
  set(addrs: Iterable<string>): void {
    this.#addrs = [...new Set(addrs)];
    this.#probe();
  }

  start(): void {
    if (this.#timer) return;
    this.#s4 = createSocket('udp4').on('error', () => undefined);
    this.#s6 = createSocket('udp6').on('error', () => undefined);
    this.#timer = setInterval(() => this.#probe(), this.intervalMs);
    this.#timer.unref();
    this.#probe();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#s4?.close();
    this.#s6?.close();
    this.#s4 = this.#s6 = null;
  }

  #probe(): void {
    for (const a of this.#addrs) {
      const s = a.includes(':') ? this.#s6 : this.#s4;
      // an unroutable or refused address only fails this one send
      s?.send(Buffer.alloc(0), DISCARD_PORT, a, () => undefined);
    }
  }
}
