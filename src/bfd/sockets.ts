/**
 * @module bfd/sockets
 * The real {@link BfdRuntimeIo} of the BFD worker: UDP sockets from the
 * addon's RawSocket (SOCK_DGRAM, IPPROTO_UDP), because the runtime needs the
 * received TTL and destination address (IP_RECVTTL / IPV6_RECVHOPLIMIT,
 * IP_PKTINFO / IPV6_RECVPKTINFO), which node:dgram does not give; one
 * setTimeout as the runtime's timer; node:crypto for discriminators.
 *
 * Listeners (RFC 5881 §4, RFC 5883 §5): UDP 3784 / 4784 on the wildcard
 * address, IPv6 ones with IPV6_V6ONLY so that the IPv4 listener can bind
 * the same port. Senders: one per session, bound to its source address and a
 * free port in 49152..65535, TTL / hop limit set.
 *
 * Namespaces: with `netns`, every socket is created inside that network
 * namespace (the e2e tests run the runtime against a peer in another one);
 * the thread goes back to its own at once (src/native/binding.ts inNetns).
 *
 * Layer: runtime edge (sockets, timers). No protocol logic.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { inNetns } from '../native/binding.js';
import { IPPROTO, RawSocket, SOCKOPT } from '../native/socket.js';
import { BFD_PORT_MULTIHOP, BFD_PORT_SINGLE_HOP, BFD_SOURCE_PORT_MAX, BFD_SOURCE_PORT_MIN } from './spec.js';
import type { BfdListener, BfdRuntimeIo, BfdTxSocket } from './runtime.js';

/** linux/in6.h IPV6_V6ONLY, asm-generic/socket.h SO_REUSEADDR. */
const IPV6_V6ONLY = 26;
const SO_REUSEADDR = 2;

/** Options of {@link createBfdIo}. */
export interface BfdIoOptions {
  /** Where log lines go. */
  log: BfdRuntimeIo['log'];
  /** Create the sockets in this network namespace (`/var/run/netns/<name>`); default the thread's. */
  netns?: string;
}

/** Runs `fn` in the namespace, if one is given. */
function inNs<T>(netns: string | undefined, fn: () => T): T {
  return netns === undefined ? fn() : inNetns(netns, fn);
}

/**
 * A UDP socket bound to `address` and a free port in 49152..65535: ports are
 * tried from a random one upwards, each at most once (RFC 5881 §4: the source
 * port MUST be in the range; a random start spreads sessions).
 * @throws the last bind error when every port is taken, or any other error at once
 */
function bindInRange(sock: RawSocket, address: string): number {
  const span = BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1;
  const start = randomInt(span);
  let last: unknown;
  for (let i = 0; i < span; i++) {
    const port = BFD_SOURCE_PORT_MIN + ((start + i) % span);
    try {
      sock.bind(address, port);
      return port;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
      last = err;
    }
  }
  throw last;
}

/**
 * The worker's I/O.
 * @param opts log sink and namespace
 */
export function createBfdIo(opts: BfdIoOptions): BfdRuntimeIo {
  let timer: NodeJS.Timeout | undefined;
  return {
    now: () => performance.now(),
    setTimer(delayMs, cb) {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        cb();
      }, delayMs);
    },
    clearTimer() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    random32: () => randomBytes(4).readUInt32BE(0),
    log: opts.log,
    openListener(family, multihop, onRx): BfdListener {
      const sock = inNs(opts.netns, () => new RawSocket({ family, type: 'dgram', protocol: IPPROTO.UDP }));
      try {
        sock.setOption(SOCKOPT.SOL_SOCKET, SO_REUSEADDR, 1);
        if (family === 6) sock.setOption(SOCKOPT.SOL_IPV6, IPV6_V6ONLY, 1);
        sock.enableRecvTtl(true);
        sock.enableRecvPktInfo(true);
        sock.bind(family === 4 ? '0.0.0.0' : '::', multihop ? BFD_PORT_MULTIHOP : BFD_PORT_SINGLE_HOP);
        sock.on('message', (m) => onRx({ data: m.data, source: m.address, destination: m.destination, ttl: m.ttl }));
        sock.on('error', (err) => opts.log('warn', { err, family, multihop }, 'bfd: listener error'));
        sock.start();
      } catch (err) {
        sock.close();
        throw err;
      }
      return { close: () => sock.close() };
    },
    openSender(family, local, ttl): BfdTxSocket {
      const sock = inNs(opts.netns, () => new RawSocket({ family, type: 'dgram', protocol: IPPROTO.UDP }));
      let port: number;
      try {
        sock.setTtl(ttl);
        port = bindInRange(sock, local ?? (family === 4 ? '0.0.0.0' : '::'));
      } catch (err) {
        sock.close();
        throw err;
      }
      return {
        port,
        send: (data, address, dport) => {
          sock.send(data, address, dport);
        },
        close: () => sock.close(),
      };
    },
  };
}
