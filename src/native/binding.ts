/**
 * The typed face of the native addon (native/, target `xlb_native`), and the
 * ONLY module that loads the `.node` file (H-26).
 *
 * Layer: the kernel edge. Everything below these interfaces is C++ over
 * libbpf and a few syscalls; it moves bytes (Buffer in, Buffer out) and never
 * interprets struct fields (H-14). Loading is lazy ({@link native}), so code
 * and unit tests that never touch the kernel do not need the addon built.
 * Consumers take the native classes as injectable parameters with
 * `native().X` as the default, so unit tests can pass fakes.
 *
 * Conventions of every call below:
 * - Errors from the kernel or libbpf are `Error`s shaped like Node's system
 *   errors: `code` (`'EPERM'`, `'ENOENT'`, ... or `'XLB_ERR_BPF_<NAME>'` for
 *   libbpf's private codes), `errno` (NEGATIVE, Node's convention: ENOENT is
 *   -2), `syscall` (the libbpf function or syscall, e.g.
 *   `'bpf_map_update_elem'`), message `"<syscall> failed: <strerror>"` plus
 *   `" (<detail or path>)"`, and `path` when a file path was involved.
 *   Wrap calls with `callNative` (./errors.ts) to get {@link SystemError}s.
 * - Argument errors are `TypeError`s with precise messages, e.g.
 *   `"bpfMap.update: key must be a Buffer of 20 bytes"`. C++ checks only
 *   types and sizes (H-25): ranges, defaults and spelling are checked by the
 *   TS that calls these.
 * - Using a closed object throws `Error("bpfMap.lookup: map is closed")`.
 * - Everything is synchronous on the calling thread, except `loadAsync`,
 *   `mmapAsync`, and socket readiness (`RawSocket.start`, `LinkSocket.start`,
 *   `TcpConnect`), which libuv reports on the event loop.
 *
 * @module native/binding
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XlbError } from '../errors.js';

/** BPF map types (`enum bpf_map_type`, include/uapi/linux/bpf.h) that xlb uses or tests. */
export const BPF_MAP_TYPE = {
  HASH: 1,
  ARRAY: 2,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  DEVMAP: 14,
  PERCPU_CGROUP_STORAGE: 21,
  DEVMAP_HASH: 25,
} as const;

/** Flags of `update()` / `updateBatch()` (include/uapi/linux/bpf.h). */
export const BPF_UPDATE = {
  /** Create or update. */
  ANY: 0,
  /** Create only; EEXIST if present. */
  NOEXIST: 1,
  /** Update only; ENOENT if absent. */
  EXIST: 2,
} as const;

/** Map creation flags for `setMapFlags()` (include/uapi/linux/bpf.h). */
export const BPF_MAP_FLAG = {
  /** Hash maps: allocate elements on demand. */
  NO_PREALLOC: 1 << 0,
  /** Arrays: allow `mmap()`. */
  MMAPABLE: 1 << 10,
} as const;

/** XDP program verdicts (`enum xdp_action`). */
export const XDP_ACTION = {
  ABORTED: 0,
  DROP: 1,
  PASS: 2,
  TX: 3,
  REDIRECT: 4,
} as const;

/** How to attach an XDP program: driver, generic (skb), or driver-if-supported. */
export type XdpMode = 'native' | 'generic' | 'auto';

/** What `xdpQuery()` reports as attached. */
export interface XdpAttachment {
  /** Kernel id of the attached program. */
  progId: number;
  /** Attach mode; `'multi'` when programs are attached in several modes (progId is the driver one, else generic). */
  mode: 'native' | 'generic' | 'hw' | 'multi';
}

/** What {@link NativeAddon.ethtoolQuery} reads of a device (SIOCETHTOOL). */
export interface EthtoolInfo {
  /** The device's name (if_indextoname). */
  ifname: string;
  /** Driver name from ETHTOOL_GDRVINFO (`'veth'`, `'virtio_net'`...); `''` when the device has none (lo). */
  driver: string;
  /** Bus address from ETHTOOL_GDRVINFO (`''` for virtual devices). */
  busInfo: string;
  /** ETHTOOL_GGRO: generic receive offload on; null when the device does not say. */
  gro: boolean | null;
  /** ETHTOOL_GTXCSUM: any transmit checksum offload on (`ethtool -K <dev> tx off` clears it); null when the device does not say. */
  txChecksum: boolean | null;
}

/** Options of `new BpfObject()`; an extension beyond libbpf's defaults. */
export interface BpfObjectOpenOptions {
  /**
   * Kernel log level for BTF and program loads. 0 (default): no log on the
   * first attempt; a failed load is retried by libbpf at level 1 into the
   * object's 16 MiB buffer, so `verifierLog` is always there on failure,
   * while successful loads cost nothing extra and cannot fail with ENOSPC
   * because of a long log. 1 or 2: log from the first attempt.
   */
  kernelLogLevel?: number;
}

/** Input of `BpfObject.testRun()`. */
export interface TestRunOptions {
  /** The packet, from the Ethernet header on. */
  data: Buffer;
  /** Repetitions (the kernel treats 0 as 1); `duration` is the mean. Default 1. */
  repeat?: number;
  /**
   * Run as if received on this interface: passes `ctx_in = struct xdp_md
   * { data: 0, data_end: len, ingress_ifindex, rx_queue_index }`. Resolved in
   * the calling thread's netns. Without it the kernel uses lo (ifindex 1).
   */
  ingressIfindex?: number;
  /** RX queue for `ingressIfindex` (must exist on the device). Default 0. */
  rxQueueIndex?: number;
  /**
   * BPF_F_TEST_* flags; BPF_F_TEST_XDP_LIVE_FRAMES (2) really transmits what
   * the program returns XDP_TX / XDP_REDIRECT for (a traffic generator); no
   * output data is returned then.
   */
  flags?: number;
  /** Frames per batch with live frames (kernel default 64). */
  batchSize?: number;
  /** Capacity of the output buffer, bytes. Default `data.length + 512` (room for encapsulation). */
  dataOutSize?: number;
}

/** Output of `BpfObject.testRun()`. */
export interface TestRunResult {
  /** The program's return value (an XDP verdict). */
  retval: number;
  /** The packet after the program (exactly `data_size_out` bytes). */
  data: Buffer;
  /** Kernel-measured mean run time per repetition, ns. */
  duration: number;
}

/** Output of `BpfMap.lookupBatch()`. */
export interface LookupBatchResult {
  /** `count` keys, back to back. */
  keys: Buffer;
  /** `count` values of `valueBufferSize` bytes each. */
  values: Buffer;
  /** Elements returned (may be less than asked, even mid-walk). */
  count: number;
  /** Token to pass as `inBatch` to continue; null when the walk is over. */
  nextBatch: Buffer | null;
}

/** A BPF map by fd. */
export interface NativeBpfMap {
  /** Map name: libbpf's full name for object maps, the kernel's (15 chars max) for pins. */
  readonly name: string;
  /** `enum bpf_map_type`; see {@link BPF_MAP_TYPE}. */
  readonly type: number;
  /** Key size, bytes. */
  readonly keySize: number;
  /** Value size as declared (one CPU's slot for per-CPU maps), bytes. */
  readonly valueSize: number;
  /** Capacity, entries. */
  readonly maxEntries: number;
  /** `map_flags` at creation. */
  readonly flags: number;
  /** The map fd (-1 once closed). Borrowed from the object for object maps. */
  readonly fd: number;
  /** Whether values are one slot per possible CPU. */
  readonly perCpu: boolean;
  /**
   * Bytes of one value in lookup/update buffers: `valueSize`, or for per-CPU
   * maps `possibleCpus() * roundup(valueSize, 8)` (split with ./percpu.ts).
   */
  readonly valueBufferSize: number;

  /** @returns the value, or null if the key is absent. */
  lookup(key: Buffer): Buffer | null;
  /** @param flags {@link BPF_UPDATE}; default ANY. */
  update(key: Buffer, value: Buffer, flags?: number): void;
  /** @returns false if the key was absent. */
  delete(key: Buffer): boolean;
  /** Iteration: the key after `key` (null: the first); null at the end. */
  nextKey(key: Buffer | null): Buffer | null;
  /**
   * Batched lookup of up to `count` elements, starting at `inBatch` (null:
   * the start). The token is 4 bytes (a bucket index) for hash-type maps and
   * `keySize` bytes (the last key) for arrays, per the kernel. Hash maps fail
   * with ENOSPC if `count` is smaller than the fullest bucket.
   */
  lookupBatch(inBatch: Buffer | null, count: number): LookupBatchResult;
  /**
   * Batched update. `keys` is count x keySize, `values` count x valueBufferSize.
   * @param flags 0 (BPF_ANY) or BPF_F_LOCK only: the kernel rejects NOEXIST/EXIST
   *   for batches with EINVAL (generic_map_update_batch)
   * @returns elements updated; on failure the error has `count` (done so far)
   */
  updateBatch(keys: Buffer, values: Buffer, count: number, flags?: number): number;
  /** Batched delete (hash-type maps). @returns elements deleted; on failure the error has `count` */
  deleteBatch(keys: Buffer, count: number): number;
  /**
   * Maps a `BPF_F_MMAPABLE` array read-write, shared with the kernel. Element
   * i is at byte `i * roundup(valueSize, 8)`; the length is that times
   * maxEntries. The mapping holds its own reference on the map: it stays
   * valid after `close()` (and after the object closes) and is unmapped when
   * the ArrayBuffer is garbage collected.
   */
  mmap(): ArrayBuffer;
  /** As mmap(), with the mmap syscall on a libuv pool thread (a large array maps every page at once). */
  mmapAsync(): Promise<ArrayBuffer>;
  /** Pins the map at `path` on a bpffs. */
  pin(path: string): void;
  /** Idempotent. Maps of an object are also closed when the object closes. */
  close(): void;
}

/** The BpfMap class. */
export interface NativeBpfMapCtor {
  /** Opens a pinned map (bpf_obj_get); EINVAL if the pin is not a map. */
  fromPin(path: string): NativeBpfMap;
}

/** A BPF link (an XDP attachment). */
export interface NativeBpfLink {
  /** The link fd (-1 once closed). */
  readonly fd: number;
  /** Pins the link: the attachment then outlives this process. */
  pin(path: string): void;
  /** Removes the pin made by `pin()` or opened by `fromPin()`; EINVAL if none. */
  unpin(): void;
  /** Atomically replaces the attached program (bpf_link_update). */
  update(progFd: number): void;
  /** Detaches the program; the link stays, defunct, until closed. */
  detach(): void;
  /** Idempotent. Detaches the program unless the link is pinned. */
  close(): void;
}

/** The BpfLink class. */
export interface NativeBpfLinkCtor {
  /** Opens a pinned link; EINVAL if the pin is not a link. */
  fromPin(path: string): NativeBpfLink;
}

/** A BPF ELF object: open, configure, load, use. */
export interface NativeBpfObject {
  /** Object name (from the file name). */
  readonly name: string;
  /** Maps as libbpf names them (internal ones like `<obj>.rodata`). */
  mapNames(): string[];
  /** Programs, by function name. */
  programNames(): string[];

  /** Before load. */
  setMapMaxEntries(map: string, n: number): void;
  /** Before load: `map_flags` (see {@link BPF_MAP_FLAG}). */
  setMapFlags(map: string, flags: number): void;
  /**
   * Before load: sets a global variable of .rodata/.data/.bss (found in the
   * BTF DATASEC) to `value`, which must be exactly the variable's size
   * (TypeError otherwise). Host byte order is the caller's business.
   */
  setGlobal(name: string, value: Buffer): void;
  /**
   * Before load: use the map pinned at `pinPath` instead of creating `map`.
   * Type, key/value size, max_entries and flags must match (EINVAL with the
   * mismatch in the message otherwise).
   */
  reuseMap(map: string, pinPath: string): void;

  /**
   * Loads and verifies every program, on the calling thread. On failure the
   * error also has `verifierLog` (kernel log; empty if the failure was not
   * the verifier's) and `libbpfLog` (libbpf's WARN/INFO lines). An object
   * can be loaded once; after a failed load it can only be closed.
   */
  load(): void;
  /** `load()` on a libuv worker thread (AsyncWorker "xlb:LoadWorker"); the object refuses other calls meanwhile. */
  loadAsync(): Promise<void>;

  /** After load: the map, valid while this object is open (closed by it first). */
  map(name: string): NativeBpfMap;
  /** After load: the program's fd (owned by the object). */
  programFd(name: string): number;
  /**
   * After load: attaches `prog` to `ifindex` (in the calling thread's netns)
   * through a BPF_XDP link. The link is independent of this object.
   */
  attachXdp(prog: string, ifindex: number, mode: XdpMode): NativeBpfLink;
  /**
   * After load: attaches the "tc" program `prog` at the ingress or egress of
   * `ifindex` (calling thread's netns) through a tcx link (Linux 6.6+),
   * after the programs already there. The link is independent of this object.
   */
  attachTcx(prog: string, ifindex: number, direction: 'ingress' | 'egress'): NativeBpfLink;
  /**
   * After load: BPF_PROG_TEST_RUN, synchronous on the calling thread, so
   * helpers such as bpf_fib_lookup see that thread's netns (after
   * `enterNetns`). Per call it allocates only the result and its Buffer.
   */
  testRun(prog: string, opts: TestRunOptions): TestRunResult;
  /** Idempotent; closes this object's maps first. Also runs on GC and env teardown. */
  close(): void;
}

/** The BpfObject class. */
export interface NativeBpfObjectCtor {
  /** Opens (does not load) the ELF object at `path` (bpf_object__open_file). */
  new (path: string, options?: BpfObjectOpenOptions): NativeBpfObject;
}

/** Options of `new RawSocket()`. */
export interface RawSocketOptions {
  /** 4: AF_INET, 6: AF_INET6. */
  family: 4 | 6;
  /** `'raw'`: SOCK_RAW (IPv4 reads include the IP header); `'dgram'`: SOCK_DGRAM (e.g. ICMP ping sockets). */
  type: 'raw' | 'dgram';
  /** IP protocol number: 112 (VRRP), 1 (ICMP), 58 (ICMPv6), ... */
  protocol: number;
}

/** One datagram from `RawSocket.recv()`. */
export interface RawMessage {
  /** The payload: for an IPv4 raw socket from the IP header on; otherwise what follows the IP header(s). */
  data: Buffer;
  /** Source address (inet_ntop text, no scope). */
  address: string;
  /** Source port: datagram sockets only (0 for ICMP ping sockets). */
  port?: number;
  /** TTL / hop limit of the packet, after `enableRecvTtl()`. */
  ttl?: number;
  /** Receiving interface, after `enableRecvPktInfo()`. */
  ifindex?: number;
  /** Destination address of the packet (e.g. the multicast group), after `enableRecvPktInfo()`. */
  destination?: string;
  /** Set when the datagram was longer than 65536 bytes and was cut. */
  truncated?: true;
}

/**
 * An AF_INET/AF_INET6 SOCK_RAW or SOCK_DGRAM socket of any IP protocol,
 * non-blocking and close-on-exec. Addresses are text (`'192.0.2.1'`,
 * `'fe80::1%eth0'`: an IPv6 scope may be an interface name or index; a
 * name is resolved in the CALLING thread's netns, which is not the socket's
 * after `restoreNetns()`: use the index there).
 * Every syscall failure throws a system error (`syscall` `'setsockopt'` with
 * the option in the message, `'bind'`, `'sendto'`, ...).
 */
export interface NativeRawSocket {
  /** The socket fd (-1 once closed). */
  readonly fd: number;
  /** setsockopt with an int, or with the bytes of a Buffer (struct options). */
  setOption(level: number, name: number, value: number | Buffer): void;
  /** getsockopt of an int option. */
  getOption(level: number, name: number): number;
  /** SO_BINDTODEVICE (ENODEV for a missing device); `''` unbinds. */
  bindToDevice(name: string): void;
  /** SO_MARK (needs CAP_NET_ADMIN). */
  setMark(mark: number): void;
  /** bind(2); port default 0. */
  bind(address: string, port?: number): void;
  /** connect(2): fixes the peer (send() without address) and filters what is received. */
  connect(address: string, port?: number): void;
  /** getsockname(2). For an ICMP ping socket, `port` is the echo identifier the kernel uses. */
  localAddress(): { address: string; port: number };
  /** IP_ADD_MEMBERSHIP (ip_mreqn with ifindex) / IPV6_ADD_MEMBERSHIP. */
  joinMulticast(group: string, ifindex: number): void;
  /** IP_DROP_MEMBERSHIP / IPV6_DROP_MEMBERSHIP. */
  leaveMulticast(group: string, ifindex: number): void;
  /** IP_MULTICAST_IF (ip_mreqn) / IPV6_MULTICAST_IF: the interface multicast goes out of; 0 = by route. */
  setMulticastInterface(ifindex: number): void;
  /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP. */
  setMulticastLoop(on: boolean): void;
  /** IPv4 TTL or IPv6 hop limit of what is sent, unicast and multicast (IP_TTL + IP_MULTICAST_TTL, IPV6_UNICAST_HOPS + IPV6_MULTICAST_HOPS). */
  setTtl(ttl: number): void;
  /** recv() reports `ttl` (IP_RECVTTL / IPV6_RECVHOPLIMIT). Default on. */
  enableRecvTtl(on?: boolean): void;
  /** recv() reports `ifindex` and `destination` (IP_PKTINFO / IPV6_RECVPKTINFO). Default on. */
  enableRecvPktInfo(on?: boolean): void;
  /**
   * Sends one datagram (sendto, or send when address is absent). Never
   * blocks: a full buffer throws EAGAIN. @returns bytes sent
   */
  send(data: Buffer, address?: string, port?: number): number;
  /** One datagram (recvmsg with ancillary data), or null when none is queued (EAGAIN). */
  recv(): RawMessage | null;
  /**
   * Watches readability with uv_poll on the event loop (no threads):
   * `callback(null, 1)` when readable (drain with recv() until null);
   * `callback(err, 0)` for an asynchronous socket error, after which
   * polling goes on: one IP_RECVERR / IPV6_RECVERR queue entry (code from
   * ee_errno, message detail `"ICMP type 3 code 1 from 192.0.2.1"`), else
   * the pending SO_ERROR (e.g. a hard ICMP error on a connected socket);
   * `syscall` is `'recvmsg'`. `syscall` `'uv_poll'` means libuv gave up on
   * the fd: polling has stopped. A second start() replaces the callback.
   * While started the socket keeps the event loop alive and is not collected.
   */
  start(callback: (err: Error | null, events: number) => void): void;
  /** Stops polling. Idempotent. */
  stop(): void;
  /** Stops polling and closes the fd. Idempotent; also on GC and env teardown. */
  close(): void;
}

/** The RawSocket class. */
export interface NativeRawSocketCtor {
  /** socket(AF_INET|AF_INET6, SOCK_RAW|SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol). */
  new (options: RawSocketOptions): NativeRawSocket;
}

/** Options of `new TcpConnect()`. */
export interface TcpConnectOptions {
  /** 4 or 6; every address below is of this family. */
  family: 4 | 6;
  /** Peer address (an IPv6 one may carry `%<ifname|index>`). */
  address: string;
  /** Peer port. */
  port: number;
  /** SO_MARK, set before bind/connect. */
  mark?: number;
  /** SO_BINDTODEVICE, set before bind/connect. */
  device?: string;
  /** Local address to bind (with IP_BIND_ADDRESS_NO_PORT when bindPort is 0/absent). */
  bindAddress?: string;
  /** Local port, with bindAddress. */
  bindPort?: number;
  /**
   * Delayed ACKs from the start (TCP_QUICKACK 0 before connect): the
   * handshake's last ACK goes with the first bytes written, one packet
   * fewer, for a client that writes as soon as it is connected. Best effort.
   */
  delayAck?: boolean;
}

/** A TCP connect in progress. */
export interface NativeTcpConnect {
  /** The socket fd while pending; -1 after completion or cancel(). */
  readonly fd: number;
  /** Aborts a pending connect (closes the fd; the callback never runs). Idempotent. */
  cancel(): void;
}

/** The TcpConnect class. */
export interface NativeTcpConnectCtor {
  /**
   * Creates a non-blocking TCP socket, sets mark/device, binds, starts
   * connect(2). Immediate failures throw (ENODEV, EADDRNOTAVAIL,
   * ENETUNREACH, ...); otherwise `callback` runs once from the event loop
   * (uv_poll writable + SO_ERROR): `(null, fd)` with a connected fd that is
   * now the caller's to close, or `(err)` with syscall `'connect'` (e.g.
   * ECONNREFUSED) and the fd closed.
   */
  new (options: TcpConnectOptions, callback: (err: Error | null, fd?: number) => void): NativeTcpConnect;
}

/** What a ProbeEngine batch holds per event (native/src/probe_engine.h). */
export const PROBE_EVENT = {
  /** The handshake finished; writes may start. */
  CONNECTED: 0,
  /** Bytes read: `a` is their offset in the engine's `data`, `b` their length. */
  DATA: 1,
  /** The peer's FIN: nothing more will be read. */
  END: 2,
  /** DATA, and the peer's FIN came after those bytes. */
  DATA_END: 3,
  /** `a` indexes the batch's errors (a SystemError); the connection is closed already. */
  ERROR: 4,
} as const;

/** One check's connect options, parsed once (native/src/probe_engine.h). Opaque. */
export interface NativeTcpTarget {
  /** Never set: only tells the type apart. */
  readonly __tcpTarget?: never;
}

/** The TcpTarget class. */
export interface NativeTcpTargetCtor {
  /** Parses the options as TcpConnect does (TypeError on bad ones); opens nothing. */
  new (options: TcpConnectOptions): NativeTcpTarget;
}

/**
 * The health checker's TCP connections on one epoll fd, their events handed
 * to JS in batches: the batch callback gets `count` events in `events`
 * (4 words each: id, kind, a, b; kinds in {@link PROBE_EVENT}), their bytes
 * in `data`, both valid only during the callback, and the batch's
 * SystemErrors in `errors` (undefined when there are none).
 */
export interface NativeProbeEngine {
  /** The batch's events; valid during the callback. */
  readonly events: Uint32Array;
  /** The batch's bytes; valid during the callback. */
  readonly data: Buffer;
  /** Connections open. */
  readonly open: number;
  /**
   * Opens the socket of `target` and starts its connect.
   * @returns the connection's id
   * @throws SystemError when the socket cannot be made or the connect fails at once
   */
  connect(target: NativeTcpTarget): number;
  /** Sends now what the socket takes, the rest when it is writable; throws SystemError (EPIPE...) or when not connected. */
  write(id: number, data: Buffer): void;
  /** Closes the connection (RST instead of FIN with `reset`, unless still connecting); unknown ids are ignored. */
  close(id: number, reset: boolean): void;
}

/** The ProbeEngine class. */
export interface NativeProbeEngineCtor {
  new (callback: (count: number, errors: unknown[] | undefined) => void): NativeProbeEngine;
}

/** Options of `new LinkSocket()`. */
export type LinkSocketOptions =
  | {
      /** AF_NETLINK (SOCK_RAW). */
      domain: 'netlink';
      /** Netlink protocol: 0 NETLINK_ROUTE (rtnetlink), ... */
      protocol: number;
    }
  | {
      /** AF_PACKET. */
      domain: 'packet';
      /** `'dgram'`: the kernel adds/strips the link-layer header; `'raw'`: whole frames. */
      type: 'dgram' | 'raw';
      /** Ethertype to receive, host order (0x0806 ARP, 0x86dd IPv6, 3 ETH_P_ALL); 0: receive nothing (send-only). */
      protocol: number;
    };

/** Where an AF_PACKET frame came from, or what a packet socket is bound to (struct sockaddr_ll). */
export interface PacketAddress {
  /** Interface index (in the socket's netns). */
  ifindex: number;
  /** Ethertype, host order. */
  protocol: number;
  /** ARPHRD_* link type (1: Ethernet). */
  hatype: number;
  /** PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4 (linux/if_packet.h). */
  pktType: number;
  /** Link-layer address: for a received frame the SOURCE (6 bytes on Ethernet). */
  address: Buffer;
}

/** One datagram from `LinkSocket.recv()` on a netlink socket. */
export interface NetlinkDatagram {
  /** One or more netlink messages, back to back. */
  data: Buffer;
  /** Sender port id: 0 is the kernel. */
  pid: number;
  /** Multicast group mask it was sent to; 0 for unicast (replies). */
  groups: number;
  /** Set when the datagram was longer than 65536 bytes and was cut. */
  truncated?: true;
}

/** One frame from `LinkSocket.recv()` on a packet socket. */
export interface PacketFrame extends PacketAddress {
  /** SOCK_DGRAM: the payload after the link-layer header; SOCK_RAW: the whole frame. */
  data: Buffer;
  /** Set when the frame was longer than 65536 bytes and was cut. */
  truncated?: true;
}

/**
 * An AF_NETLINK or AF_PACKET socket (native/src/link_socket.cc),
 * non-blocking and close-on-exec, in the netns of the thread that created
 * it. Moves bytes only: netlink messages and ARP/ND packets are built in TS
 * (src/net/rtnetlink.ts, src/net/arp-nd.ts). Using a method of the other
 * domain throws `Error('linkSocket.<method>: not a netlink socket')`.
 */
export interface NativeLinkSocket {
  /** The socket fd (-1 once closed). */
  readonly fd: number;
  /** setsockopt with an int, or with the bytes of a Buffer. */
  setOption(level: number, name: number, value: number | Buffer): void;
  /** getsockopt of an int option. */
  getOption(level: number, name: number): number;
  /** Netlink: bind(2) with a port id (0: the kernel picks) and the legacy group mask (RTMGRP_*). */
  bindNetlink(pid: number, groups: number): void;
  /** Packet: bind(2) to `ifindex` (0: any) and ethertype `protocol` (host order; 0: none). */
  bindPacket(ifindex: number, protocol: number): void;
  /** getsockname(2): `{ pid, groups }` for netlink, a {@link PacketAddress} for packet. */
  localAddress(): { pid: number; groups: number } | PacketAddress;
  /** Netlink: sendto port id `pid` (0: the kernel) / multicast `groups`. Never blocks. @returns bytes sent */
  sendNetlink(data: Buffer, pid: number, groups: number): number;
  /**
   * Packet: sendto (ifindex, link-layer `address`, ethertype `protocol`).
   * On a dgram socket the kernel prepends the link-layer header (destination
   * `address`, the interface's own source address). Never blocks.
   * @returns bytes sent (the payload, without the header the kernel added)
   */
  sendPacket(data: Buffer, ifindex: number, address: Buffer, protocol: number): number;
  /** One datagram, or null when none is queued (EAGAIN). */
  recv(): NetlinkDatagram | PacketFrame | null;
  /**
   * Watches readability with uv_poll on the event loop, as
   * {@link NativeRawSocket.start}: `callback(null, 1)` when readable;
   * `callback(err, 0)` for a pending socket error (SO_ERROR, e.g. ENOBUFS
   * when a netlink receive queue overran and messages were lost; `syscall`
   * `'recvmsg'`; polling goes on); `syscall` `'uv_poll'`: polling stopped.
   */
  start(callback: (err: Error | null, events: number) => void): void;
  /** Stops polling. Idempotent. */
  stop(): void;
  /** Stops polling and closes the fd. Idempotent; also on GC and env teardown. */
  close(): void;
}

/** The LinkSocket class. */
export interface NativeLinkSocketCtor {
  /** socket(AF_NETLINK, SOCK_RAW, protocol) or socket(AF_PACKET, SOCK_DGRAM|SOCK_RAW, htons(protocol)), non-blocking, close-on-exec. */
  new (options: LinkSocketOptions): NativeLinkSocket;
}

/** Options of `new BfdEchoTx()`: the pinned own-echo slots and where two u64 fields of a slot sit. */
export interface BfdEchoTxOptions {
  /** The pinned xlb_bfd_echo (an mmapable array). */
  mapPath: string;
  /** Bytes per slot (the map's value size). */
  slotSize: number;
  /** Offset of the last echo's CLOCK_MONOTONIC ns in a slot. */
  lastNsOffset: number;
  /** Offset of the echoes-back counter in a slot. */
  countOffset: number;
  /** SCHED_FIFO priority of the thread (1..99); absent or 0: normal. */
  rtPriority?: number;
}

/** One slot's echo, as `BfdEchoTx.set()` takes it. */
export interface BfdEchoTxSession {
  /** Interface to send on. */
  ifindex: number;
  /** The whole frame (Ethernet header first) with sequence 0 at `seqOffset`. */
  frame: Buffer;
  /** Where the thread writes each echo's sequence number (u32, big endian). */
  seqOffset: number;
  /** The 16-bit checksum covering the sequence, updated per packet (RFC 1624); absent: none. */
  csumOffset?: number;
  /** Transmit interval, µs (≥ 100). */
  intervalUs: number;
  /** Detection time, µs (≥ intervalUs): the last echo back older than this fails the slot. */
  detectUs: number;
}

/** Counters of one slot's echo. */
export interface BfdEchoTxStats {
  sent: number;
  sendErrors: number;
  /** errno of the last failed send (0: none yet). */
  lastErrno: number;
  /** Sends more than one interval late (the thread skipped ahead). */
  late: number;
  /** Worst lateness of a send, µs. */
  lateMaxUs: number;
  /** Reported to onFail and not checked again until the next `set`. */
  failed: boolean;
  /** Echoes back, as XDP counted them in the slot. */
  returned: number;
}

/**
 * The BFD own-echo thread (native/src/bfd_echo.h): sends each slot's frame on
 * its interval from a packet socket of the creating thread's namespace, and
 * calls `onFail(slot, agoNs, returned)` once when a slot's last echo back is
 * older than its detection time.
 */
export interface NativeBfdEchoTx {
  /** Starts or restarts a slot's echo: the first goes out at once, detection counts from now. */
  set(slot: number, session: BfdEchoTxSession): void;
  /** Stops a slot's echo. @returns whether it ran */
  remove(slot: number): boolean;
  /** The slot's counters, or null when not set. */
  stats(slot: number): BfdEchoTxStats | null;
  /** What the thread's scheduling became (rtErrno: the refusal, e.g. EPERM = 1). */
  threadInfo(): { rtPriority: number; rtErrno: number };
  /** Stops the thread, unmaps, closes. Idempotent. */
  close(): void;
}

/** The BfdEchoTx class. */
export interface NativeBfdEchoTxCtor {
  /** @throws SystemError (ENOENT: no pin; EPERM: no CAP_NET_RAW), TypeError on bad options */
  new (options: BfdEchoTxOptions, onFail: (slot: number, agoNs: number, returned: number) => void): NativeBfdEchoTx;
}

/** Everything the addon exports. */
export interface NativeAddon {
  BpfObject: NativeBpfObjectCtor;
  BpfMap: NativeBpfMapCtor;
  BpfLink: NativeBpfLinkCtor;
  /** Raw and datagram IP sockets (VRRP, ICMP), see {@link NativeRawSocket}. */
  RawSocket: NativeRawSocketCtor;
  /** TCP connect with SO_MARK / SO_BINDTODEVICE / bind address, see {@link NativeTcpConnectCtor}. */
  TcpConnect: NativeTcpConnectCtor;
  /** One check's parsed connect options, see {@link NativeTcpTargetCtor}. */
  TcpTarget: NativeTcpTargetCtor;
  /** The health checker's connections on one epoll fd, see {@link NativeProbeEngine}. */
  ProbeEngine: NativeProbeEngineCtor;
  /** Netlink and packet sockets, see {@link NativeLinkSocket}. */
  LinkSocket: NativeLinkSocketCtor;
  /** The BFD own-echo thread, see {@link NativeBfdEchoTx}. */
  BfdEchoTx: NativeBfdEchoTxCtor;
  /** libbpf_num_possible_cpus(): the slot count of per-CPU values. */
  possibleCpus(): number;
  /** libbpf_version_string(), e.g. `'v1.1'`. */
  libbpfVersion(): string;
  /**
   * Moves the CALLING thread into the network namespace at `path` (e.g.
   * `/var/run/netns/<name>`). Other threads (libuv's pool) stay put.
   * @returns an fd of the previous namespace, for {@link NativeAddon.restoreNetns}
   */
  enterNetns(path: string): number;
  /** Moves the calling thread back and closes `fd` (kept open if setns fails). */
  restoreNetns(fd: number): void;
  /** if_nametoindex in the calling thread's netns; ENODEV if absent. */
  ifNameToIndex(name: string): number;
  /**
   * The calling thread's scheduling: SCHED_FIFO at `priority` (1..99, not
   * inherited by forked children), or SCHED_OTHER with 0. Needs CAP_SYS_NICE.
   */
  setThreadRealtime(priority: number): void;
  /** What XDP program is attached to `ifindex` (calling thread's netns), or null. */
  xdpQuery(ifindex: number): XdpAttachment | null;
  /**
   * Driver, GRO and transmit checksumming of `ifindex` in the CALLING
   * thread's netns (SIOCETHTOOL: ETHTOOL_GDRVINFO, ETHTOOL_GGRO,
   * ETHTOOL_GTXCSUM on a socket made in that netns): call it between
   * `enterNetns` and `restoreNetns` for a device of another namespace.
   * @throws SystemError ENXIO (no such ifindex), EPERM...
   */
  ethtoolQuery(ifindex: number): EthtoolInfo;
  /**
   * Allocation-free BPF_PROG_TEST_RUN for benchmark loops (an extension of
   * `testRun`): runs the program `progFd` (from `programFd()`) on `data`,
   * writes the output packet into `dataOut` (its length is the capacity;
   * ENOSPC if too small) and stores `[retval, dataSizeOut, durationNs]` into
   * `result`. `ingressIfindex` 0 means no ctx_in. Same threading rule as
   * `testRun`.
   * @returns retval
   */
  testRunFd(
    progFd: number,
    data: Buffer,
    dataOut: Buffer,
    repeat: number,
    ingressIfindex: number,
    rxQueueIndex: number,
    result: Uint32Array,
  ): number;
}

/** Exports the loaded module must have, checked once at load. */
const EXPORTS: readonly (keyof NativeAddon)[] = [
  'BpfObject',
  'BpfMap',
  'BpfLink',
  'RawSocket',
  'TcpConnect',
  'TcpTarget',
  'ProbeEngine',
  'LinkSocket',
  'BfdEchoTx',
  'possibleCpus',
  'libbpfVersion',
  'enterNetns',
  'restoreNetns',
  'ifNameToIndex',
  'setThreadRealtime',
  'xdpQuery',
  'ethtoolQuery',
  'testRunFd',
];

/**
 * The addon's directory (the one holding binding.gyp), found upward from this
 * file so it works from src/ (type stripping) and from dist/src/.
 */
function nativeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'native');
    if (existsSync(join(candidate, 'binding.gyp'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new XlbError('XLB_ERR_NATIVE_UNAVAILABLE', ['no native/binding.gyp above ' + fileURLToPath(import.meta.url)]);
    dir = parent;
  }
}

let cached: NativeAddon | undefined;

/**
 * Loads the addon (once) with node-gyp-build from the native/ directory.
 * @param dir the addon directory (holding binding.gyp and build/); default:
 *   `$XLB_NATIVE_DIR` when set (a test or out-of-tree build, e.g.
 *   `XLB_NATIVE_DIR=/work/main/.out-nl/native`), else the project's native/
 * @throws XlbError XLB_ERR_NATIVE_UNAVAILABLE if it is not built or incomplete
 */
export function loadNative(dir: string = process.env['XLB_NATIVE_DIR'] || nativeDir()): NativeAddon {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  let mod: unknown;
  try {
    mod = nodeGypBuild(dir);
  } catch (e) {
    throw new XlbError('XLB_ERR_NATIVE_UNAVAILABLE', [`${(e as Error).message} (build it: cd native && node-gyp rebuild)`], { cause: e });
  }
  const missing = EXPORTS.filter((k) => typeof (mod as Record<string, unknown>)[k] !== 'function');
  if (missing.length > 0) throw new XlbError('XLB_ERR_NATIVE_UNAVAILABLE', [`${dir}: addon lacks ${missing.join(', ')} (stale build?)`]);
  return mod as NativeAddon;
}

/**
 * The addon, loaded on first use.
 * @throws XlbError XLB_ERR_NATIVE_UNAVAILABLE
 */
export function native(): NativeAddon {
  cached ??= loadNative();
  return cached;
}

/**
 * Runs `fn` with the calling thread in the network namespace at `path`
 * (`/var/run/netns/<name>`, `/proc/<pid>/ns/net`), and moves it back after,
 * whatever `fn` does. Sockets `fn` opens stay in that namespace. `fn` must
 * be synchronous: nothing else may run on the thread meanwhile.
 * @param addon the addon (tests pass theirs)
 */
export function inNetns<T>(path: string, fn: () => T, addon: Pick<NativeAddon, 'enterNetns' | 'restoreNetns'> = native()): T {
  const back = addon.enterNetns(path);
  try {
    return fn();
  } finally {
    addon.restoreNetns(back);
  }
}
