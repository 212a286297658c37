/**
 * @module daemon/neigh-keeper
 * Keeps the kernel's neighbour entries for the backends resolved. The XDP
 * program takes next hops from the kernel (bpf_fib_lookup), which never
 * resolves a neighbour by itself; in dr mode a packet whose backend has no
 * neighbour entry cannot be handed to the kernel either (it says "to the
 * VIP"), so it is dropped and counted (XLB_R_DROP_DR_NO_NEIGH). A datagram to
 * the backend's discard port (9/udp) makes the kernel resolve the address; it
 * is sent right after each apply and then every `intervalMs`, at most
 * {@link NEIGH_BATCH} in one turn of the event loop, so that 10,000
 * backends do not queue 10,000 sends in one block of the loop. Health checks
 * do the same as a side effect. Edge module (sockets, timers).
 */
import { createSocket, type Socket } from 'node:dgram';

/** The discard service (RFC 863): nothing listens there, nothing is expected back. */
const DISCARD_PORT = 9;

/** Most probes sent in one turn of the event loop. */
export const NEIGH_BATCH = 512;

/** Sends one probe to an address (the sockets' send, or a test's). */
export type ProbeSend = (address: string) => void;

/** Sends the probes; start()/stop() are idempotent. */
export class NeighbourKeeper {
  #addrs: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #s4: Socket | null = null;
  #s6: Socket | null = null;
  /** The pass in progress: the next address to probe, and its continuation. */
  #next = 0;
  #pending: NodeJS.Immediate | null = null;
  readonly intervalMs: number;
  readonly #send: ProbeSend;

  /**
   * @param intervalMs how often every address is probed again
   * @param send sends one probe (default: an empty datagram to the discard port)
   */
  constructor(intervalMs = 5000, send?: ProbeSend) {
    this.intervalMs = intervalMs;
    this.#send = send ?? ((a) => this.#datagram(a));
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
    if (this.#pending) clearImmediate(this.#pending);
    this.#pending = null;
    this.#s4?.close();
    this.#s6?.close();
    this.#s4 = this.#s6 = null;
  }

  /** Starts a pass over every address (a pass in progress starts over). */
  #probe(): void {
    this.#next = 0;
    if (this.#pending) clearImmediate(this.#pending);
    this.#pending = null;
    this.#batch();
  }

  /** Probes the next batch; the rest after this turn's I/O. */
  readonly #batch = (): void => {
    this.#pending = null;
    const end = Math.min(this.#next + NEIGH_BATCH, this.#addrs.length);
    for (; this.#next < end; this.#next++) this.#send(this.#addrs[this.#next]!);
    if (this.#next < this.#addrs.length) this.#pending = setImmediate(this.#batch);
  };

  #datagram(a: string): void {
    const s = a.includes(':') ? this.#s6 : this.#s4;
    // an unroutable or refused address only fails this one send
    s?.send(EMPTY, DISCARD_PORT, a, () => undefined);
  }
}

/** The probe's payload: none. */
const EMPTY = Buffer.alloc(0);
