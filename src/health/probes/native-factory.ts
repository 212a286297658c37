/**
 * @module health/probes/native-factory
 * The {@link SocketFactory} of checks that need what Node's sockets cannot
 * set: SO_MARK (`fwmark`, and the steering mark of `target: vip` checks),
 * SO_BINDTODEVICE (`bindInterface`). TCP connects go through the addon
 * (src/native/socket.ts connectSocket) and come back as ordinary
 * `net.Socket`s, so the tcp, http(s) and smtp probes use them unchanged.
 *
 * `target: vip`: the probe connects to the VIP from the address this node
 * would use towards the backend (unless `bindAddress` says otherwise). The
 * VIP is usually local to the node (the VRRP master holds it), and a
 * connection to a local address would otherwise take the VIP as its source
 * too, so the backend's answer would never leave the backend.
 *
 * Layer: control plane, I/O (the addon, a UDP socket for the source lookup).
 */
import dgram from 'node:dgram';
import type { Socket as NetSocket } from 'node:net';
import { connectSocket, type TcpConnectFdOptions } from '../../native/socket.js';
import type { NetCheckBase } from '../spec.js';
import type { ProbeTarget, SocketFactory } from './types.js';

/**
 * The source address the kernel picks towards `address`: a connected UDP
 * socket's local address (connect() on UDP sends nothing).
 * @param address the peer
 * @param family its family
 * @param signal aborts the lookup
 * @throws the socket's error (ENETUNREACH: no route)
 */
export function sourceToward(address: string, family: 4 | 6, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    const done = (): void => {
      signal.removeEventListener('abort', onAbort);
      s.close();
    };
    const onAbort = (): void => {
      done();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('error', (err) => {
      done();
      reject(err);
    });
    // the port only has to be valid; nothing is sent
    s.connect(9, address, (...args: unknown[]) => {
      if (args[0] instanceof Error) {
        done();
        reject(args[0]);
        return;
      }
      const local = s.address().address;
      done();
      resolve(local);
    });
  });
}

/** How long a looked-up source address is used before it is looked up again. */
export const SOURCE_TTL_MS = 5_000;

/**
 * Source addresses towards peers, each looked up again once SOURCE_TTL_MS
 * old: a `target: vip` check would otherwise open a UDP socket for every
 * attempt, and this node's route towards a backend rarely changes. Failed
 * lookups are not kept.
 */
export class SourceCache {
  readonly #entries = new Map<string, { address: string; expires: number }>();
  readonly #lookup: typeof sourceToward;
  readonly #now: () => number;
  readonly #ttlMs: number;

  /**
   * @param lookup the lookup (tests inject one)
   * @param now a monotonic clock, ms
   */
  constructor(lookup: typeof sourceToward = sourceToward, now: () => number = () => performance.now(), ttlMs = SOURCE_TTL_MS) {
    this.#lookup = lookup;
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** As sourceToward(), from the cache while the entry is fresh. */
  async get(address: string, family: 4 | 6, signal: AbortSignal): Promise<string> {
    const key = `${family} ${address}`;
    const hit = this.#entries.get(key);
    if (hit && hit.expires > this.#now()) return hit.address;
    const source = await this.#lookup(address, family, signal);
    this.#entries.set(key, { address: source, expires: this.#now() + this.#ttlMs });
    // one entry per backend with such checks; drop stale ones now and then
    if (this.#entries.size > 1024 && this.#entries.size % 1024 === 1) this.#prune();
    return source;
  }

  /** Entries held (tests). */
  get size(): number {
    return this.#entries.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.expires <= now) this.#entries.delete(k);
  }
}

const sources = new SourceCache();

/** The addon's sockets: SO_MARK, SO_BINDTODEVICE, `target.via`. */
export const nativeSocketFactory: SocketFactory = {
  supportsDeviceAndMark: true,
  tcp(target: ProbeTarget, spec: NetCheckBase, done: (err: Error | null, sock?: NetSocket) => void): () => void {
    const ac = new AbortController();
    let settled = false;
    const connect = async (): Promise<NetSocket> => {
      const opts: TcpConnectFdOptions = { family: target.family, address: target.address, port: target.port, signal: ac.signal };
      const mark = target.via?.mark ?? spec.fwmark;
      if (mark !== 0) opts.mark = mark;
      if (spec.bindInterface !== undefined) opts.device = spec.bindInterface;
      const source = spec.bindAddress ?? (target.via && (await sources.get(target.via.backend, target.family, ac.signal)));
      if (source !== undefined) opts.bindAddress = source;
      return connectSocket(opts);
    };
    connect().then(
      (sock) => {
        if (settled) sock.destroy();
        else done(null, sock);
        settled = true;
      },
      (err: unknown) => {
        if (!settled) done(err instanceof Error ? err : new Error(String(err)));
        settled = true;
      },
    );
    return () => {
      if (settled) return;
      settled = true;
      ac.abort();
    };
  },
  udp(): never {
    // dgram cannot adopt a socket made elsewhere before it is bound; the
    // config loader refuses fwmark, bind_interface and target: vip on udp
    // and dns checks until this exists
    throw new Error('udp and dns checks cannot use fwmark, bind_interface or target: vip yet');
  },
};
