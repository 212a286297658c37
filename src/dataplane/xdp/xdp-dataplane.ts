/**
 * @module dataplane/xdp/xdp-dataplane
 * The XDP data plane seen from TypeScript: loads bpf/.output/xlb.bpf.o with
 * sizes from the config, checks the maps against the generated ABI, and
 * writes VIPs, backends, rings and globals, and the BFD echo peers and
 * own-echo slots; reads the per-CPU counters.
 * Edge module: all kernel access goes through the addon (src/native).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native, type NativeBpfLink, type NativeBpfMap, type NativeBpfObject, type NativeBpfObjectCtor } from '../../native/binding.js';
import { AbiError } from '../../errors.js';
import { splitPerCpu } from '../../native/percpu.js';
import { rdU64, wrU64 } from './abi-runtime.js';
import { formatAddr, parseAddr, type AddrKey } from '../../net/addr.js';
import { addrFilterBit, buildFilterPlane } from './addr-filter.js';
import { BfdEchoSlots } from './bfd-echo.js';
import {
  MAPS,
  STRUCTS,
  XLB_ABI_VERSION,
  XlbEvent,
  XlbHcResult,
  XlbMode,
  XlbReason,
  XlbRingConsts,
  decodeXlbReasonStats,
  decodeXlbStats,
  encodeXlbAddrKey,
  encodeXlbAddrVal,
  encodeXlbBackendVal,
  encodeXlbGlobals,
  encodeXlbHcVal,
  encodeXlbVipKey,
  decodeXlbVipKey,
  encodeXlbVipRef,
  encodeXlbVipVal,
  decodeXlbVipRef,
  decodeXlbVipVal,
  decodeXlbGlobals,
  decodeXlbAddrKey,
  decodeXlbBfdPeerVal,
  encodeXlbBfdEchoSlot,
  encodeXlbBfdPeerVal,
  XlbBfdPeerFlags,
  XlbFamily,
  XlbFilterConsts,
  XlbVipFlags,
  type XlbGlobals,
  type XlbStats,
} from './abi.gen.js';

/** Default Maglev ring size M (prime), as Katran: M > 100 x backends per VIP. */
export const DEFAULT_RING_SIZE = 65537;
/** Flow cache entries per CPU (128 bytes each): direct-mapped, so several times the flows a CPU carries at once. */
export const DEFAULT_FLOW_CACHE = 16384;
/** BFD peers whose echo can be reflected (xlb_bfd_peers entries), and own-echo slots (xlb_bfd_echo, 64 bytes each). */
export const DEFAULT_BFD_PEERS = 256;
export const DEFAULT_BFD_ECHO_SLOTS = 256;

/** Where the build puts the object, relative to the repository root. */
export function defaultObjectPath(): string {
  // dist/src/dataplane/xdp/ -> repository root
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../../..', '../../..']) {
    const p = resolve(here, up, 'bpf/.output/xlb.bpf.o');
    if (existsSync(p)) return p;
  }
  return resolve(here, '../../../../bpf/.output/xlb.bpf.o');
}

/** Sizes and knobs fixed at load time. */
export interface XdpLoadOptions {
  /** path of xlb.bpf.o; default: the build output */
  objectPath?: string;
  /** Maglev ring size M, prime; default 65537 */
  ringSize?: number;
  /** most VIPs (xlb_vips, xlb_stats_vip) */
  maxVips: number;
  /** ring slots; default maxVips + 2 (spares for write-beside-then-flip) */
  maxRings?: number;
  /** backend ids are 1 .. maxBackends - 1 (id 0 means "none") */
  maxBackends: number;
  /** IPv4 connection-table entries (LRU) */
  maxConns: number;
  /** IPv6 connection-table entries (LRU); default maxConns */
  maxConns6?: number;
  /** NAT reverse entries (LRU); default maxConns */
  maxNat?: number;
  /** lifetime of a cached next hop, jiffies (default 25; 0 = a route lookup per packet) */
  nhCacheJiffies?: number;
  /** new flows recorded per second per CPU (default 125000; 0 = no limit) */
  connRateLimit?: number;
  /** flow cache entries per CPU, a power of 2 (default DEFAULT_FLOW_CACHE; 0 = no flow cache) */
  flowCache?: number;
  /** BFD peers whose echo can be reflected (default DEFAULT_BFD_PEERS) */
  maxBfdPeers?: number;
  /** own-echo session slots, 0 .. n - 1 (default DEFAULT_BFD_ECHO_SLOTS) */
  bfdEchoSlots?: number;
  /**
   * bpffs directory for the maps (/sys/fs/bpf/xlb/<instance>): maps pinned
   * there are reused (forwarding state survives a restart), the others are
   * pinned there after load
   */
  pinDir?: string;
}

/** A VIP as written to xlb_vips and xlb_vip_table. */
export interface VipSpec {
  addr: string;
  /** 0 = all ports */
  port: number;
  /** 6 TCP, 17 UDP */
  proto: number;
  /** slot in xlb_vip_table and xlb_stats_vip, < maxVips */
  vipId: number;
  /** ring slot */
  ring: number;
  /** XlbMode */
  mode: number;
  /** XlbVipFlags */
  flags?: number;
}

/** A backend entry as written to xlb_backends. */
export interface BackendSpec {
  addr: string;
  /** nat: destination port, 0 = the VIP's */
  port?: number;
  vipId: number;
  /** XlbBackendFlags; default UP */
  flags?: number;
}

/** Packets and bytes per reason name (summed over CPUs). */
export type ReasonCounters = Record<string, { packets: bigint; bytes: bigint }>;

/** Decode every CPU's slot of a per-CPU value and add the fields up. */
function sumPerCpuStruct<T extends object>(buf: Buffer, valueSize: number, ncpus: number, decode: (b: Buffer) => T): T {
  const slots = splitPerCpu(buf, valueSize, ncpus).map((b) => decode(b) as Record<string, bigint>);
  const acc: Record<string, bigint> = { ...slots[0] };
  for (const v of slots.slice(1)) for (const k in v) acc[k] = (acc[k] ?? 0n) + (v[k] ?? 0n);
  return acc as T;
}

const MAP_NAMES = [
  'xlb_vips',
  'xlb_vip_table',
  'xlb_addr_filter',
  'xlb_vip_addrs',
  'xlb_backends',
  'xlb_rings',
  'xlb_conns4',
  'xlb_conns6',
  'xlb_nat',
  'xlb_globals',
  'xlb_nh_cache',
  'xlb_cpu',
  'xlb_stats_vip',
  'xlb_stats_backend',
  'xlb_stats_reason_v2',
  'xlb_stats_event_v2',
  'xlb_bfd_peers',
  'xlb_bfd_echo',
] as const;
type MapName = (typeof MAP_NAMES)[number];

/**
 * Pinned maps of earlier versions that a load removes (the running program
 * keeps its reference): counters sized to the events or reasons of their
 * version, which the next version's would not fit (its load would fail on
 * them); their _v2 successors have spare slots.
 */
const RETIRED_MAP_NAMES = ['xlb_stats_event', 'xlb_stats_reason'] as const;

/** The loaded XDP program and its maps. */
export class XdpDataplane {
  readonly obj: NativeBpfObject;
  readonly ringSize: number;
  readonly maxRings: number;
  readonly maps: Record<MapName, NativeBpfMap>;
  readonly ncpus: number;
  /** maps taken over from pins rather than created by this load */
  reusedMaps: string[] = [];
  #ring: Uint32Array | null = null;
  /** xlb_hc_targets: never pinned, the running daemon's probes fill it */
  readonly #hcTargets: NativeBpfMap;
  /** xlb_flow_cache: never pinned (refilled from the connection tables) */
  readonly #flowCache: NativeBpfMap;
  #flowCacheView: Uint8Array | null = null;
  #echoSlots: BfdEchoSlots | null = null;
  /** fc_epoch in the program's .bss (mmap'ed): bumped by #changed() */
  readonly #epoch: Uint32Array;

  private constructor(obj: NativeBpfObject, ringSize: number, maxRings: number) {
    this.obj = obj;
    this.ringSize = ringSize;
    this.maxRings = maxRings;
    const maps = {} as Record<MapName, NativeBpfMap>;
    for (const n of MAP_NAMES) maps[n] = obj.map(n);
    this.maps = maps;
    this.#hcTargets = obj.map('xlb_hc_targets');
    this.#flowCache = obj.map('xlb_flow_cache');
    const bss = obj.map('.bss');
    if (bss.valueSize !== 4) throw new AbiError('XLB_ERR_ABI_MISMATCH', `.bss is ${bss.valueSize} bytes: the program's only .bss variable must be fc_epoch (u32)`);
    this.#epoch = new Uint32Array(bss.mmap(), 0, 1);
    this.ncpus = native().possibleCpus();
  }

  /**
   * After a write that a flow's record check or its cached next hop depends
   * on (a VIP, a backend, a next hop): flow cache entries checked before it
   * are checked again (fc_epoch, bpf/lib/maps.h). A BFD peer's change too:
   * the per-CPU peer cache (xlb_bfd_peer_cache) holds under the same epoch. An atomic add to one u32
   * through the mmap: no syscall.
   */
  #changed(): void {
    Atomics.add(this.#epoch, 0, 1);
  }

  /**
   * Open, size and load the object (sync: the verifier runs on this thread).
   * @throws SystemError from the addon (verifier log attached), AbiError on a layout mismatch
   */
  static load(opts: XdpLoadOptions, Ctor: NativeBpfObjectCtor = native().BpfObject): XdpDataplane {
    const { obj, reused } = XdpDataplane.#prepare(opts, Ctor);
    try {
      obj.load();
      return XdpDataplane.#finish(obj, reused, opts);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /**
   * As load(), with the verification and map creation on a worker thread, so
   * the event loop is not held while the kernel verifies the program.
   */
  static async loadAsync(opts: XdpLoadOptions, Ctor: NativeBpfObjectCtor = native().BpfObject): Promise<XdpDataplane> {
    const { obj, reused } = XdpDataplane.#prepare(opts, Ctor);
    try {
      await obj.loadAsync();
      const dp = XdpDataplane.#finish(obj, reused, opts);
      // mmap maps every page of the ring array (about 16 ms for 260 MB):
      // done on a pool thread, in pieces (native/src/bpf_map.cc MmapWorker)
      dp.#ring = new Uint32Array(await dp.maps.xlb_rings.mmapAsync(), 0, dp.#ringEntries());
      // the end of the load (pinning, the mapping, and the garbage collection
      // that 260 MB of new external memory brings on) and the caller's next
      // stretch (planning) go in turns of their own
      await new Promise((resolve) => setImmediate(resolve));
      return dp;
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /** Open the object, size it, and take over pinned maps. */
  static #prepare(opts: XdpLoadOptions, Ctor: NativeBpfObjectCtor): { obj: NativeBpfObject; reused: string[] } {
    const ringSize = opts.ringSize ?? DEFAULT_RING_SIZE;
    const maxRings = opts.maxRings ?? opts.maxVips + 2;
    const obj = new Ctor(opts.objectPath ?? defaultObjectPath());
    try {
      const u32 = (v: number): Buffer => {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(v);
        return b;
      };
      obj.setGlobal('ring_size', u32(ringSize));
      if (opts.nhCacheJiffies !== undefined) {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt(opts.nhCacheJiffies));
        obj.setGlobal('nh_cache_jiffies', b);
      }
      if (opts.connRateLimit !== undefined) obj.setGlobal('conn_rate_limit', u32(opts.connRateLimit));
      const flowCache = opts.flowCache ?? DEFAULT_FLOW_CACHE;
      if (flowCache !== 0 && (!Number.isInteger(flowCache) || flowCache < 2 || flowCache > 1 << 24 || (flowCache & (flowCache - 1)) !== 0)) {
        throw new RangeError(`flowCache ${flowCache}: a power of 2 from 2 to ${1 << 24}, or 0 for none`);
      }
      obj.setGlobal('flow_cache_bits', u32(flowCache ? Math.log2(flowCache) : 0));
      // a slice of flowCache entries per CPU
      obj.setMapMaxEntries('xlb_flow_cache', Math.max(flowCache, 1) * native().possibleCpus());
      if (opts.maxVips > 0xffff) throw new RangeError(`maxVips ${opts.maxVips}: at most 65535 (VIP ids are 16-bit in the connection table)`);
      obj.setMapMaxEntries('xlb_vips', opts.maxVips);
      obj.setMapMaxEntries('xlb_vip_table', opts.maxVips);
      obj.setMapMaxEntries('xlb_vip_addrs', opts.maxVips);
      obj.setMapMaxEntries('xlb_stats_vip', opts.maxVips);
      obj.setMapMaxEntries('xlb_backends', opts.maxBackends);
      obj.setMapMaxEntries('xlb_stats_backend', opts.maxBackends);
      obj.setMapMaxEntries('xlb_nh_cache', opts.maxBackends);
      obj.setMapMaxEntries('xlb_hc_targets', opts.maxBackends);
      obj.setMapMaxEntries('xlb_rings', maxRings * ringChunks(ringSize));
      obj.setMapMaxEntries('xlb_conns4', opts.maxConns);
      obj.setMapMaxEntries('xlb_conns6', opts.maxConns6 ?? opts.maxConns);
      obj.setMapMaxEntries('xlb_nat', opts.maxNat ?? opts.maxConns);
      obj.setMapMaxEntries('xlb_bfd_peers', opts.maxBfdPeers ?? DEFAULT_BFD_PEERS);
      obj.setMapMaxEntries('xlb_bfd_echo', opts.bfdEchoSlots ?? DEFAULT_BFD_ECHO_SLOTS);
      const reused: string[] = [];
      if (opts.pinDir) {
        for (const name of MAP_NAMES) {
          const path = `${opts.pinDir}/${name}`;
          if (!existsSync(path)) continue;
          try {
            obj.reuseMap(name, path);
          } catch (err) {
            throw new AbiError('XLB_ERR_ABI_MISMATCH', `pinned map ${path} does not fit this program or these limits (${(err as Error).message}); \`xlb unload\` removes the old maps (and their flows)`, { cause: err });
          }
          reused.push(name);
        }
      }
      return { obj, reused };
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /** After the load: check the ABI, pin what was not reused. */
  static #finish(obj: NativeBpfObject, reused: string[], opts: XdpLoadOptions): XdpDataplane {
    const dp = new XdpDataplane(obj, opts.ringSize ?? DEFAULT_RING_SIZE, opts.maxRings ?? opts.maxVips + 2);
    dp.checkAbi();
    dp.reusedMaps = reused;
    if (opts.pinDir) {
      mkdirSync(opts.pinDir, { recursive: true, mode: 0o700 });
      for (const name of MAP_NAMES) if (!reused.includes(name)) dp.maps[name].pin(`${opts.pinDir}/${name}`);
      for (const name of RETIRED_MAP_NAMES) rmSync(`${opts.pinDir}/${name}`, { force: true });
      if (reused.includes('xlb_globals')) dp.#checkPinnedGlobals();
    }
    return dp;
  }

  /**
   * Load-time guard (H-12): every map's key and value size must match the
   * generated layouts.
   * @throws AbiError
   */
  checkAbi(): void {
    const size = (t: string): number => {
      if (t === '__u32') return 4;
      if (t === '__u64') return 8;
      const s = STRUCTS.find((x) => x.name === t);
      if (!s) throw new AbiError('XLB_ERR_ABI_MISMATCH', `unknown ABI type ${t}`);
      return s.size;
    };
    for (const m of MAPS) {
      const live = this.maps[m.name as MapName];
      if (!live) continue;
      if (live.keySize !== size(m.key) || live.valueSize !== size(m.value)) {
        throw new AbiError('XLB_ERR_ABI_MISMATCH', `map ${m.name}: key/value ${live.keySize}/${live.valueSize} bytes, ABI v${XLB_ABI_VERSION} says ${size(m.key)}/${size(m.value)}`);
      }
    }
  }

  /**
   * Add or replace a VIP. The slot of `vipId` in xlb_vip_table is written
   * first, then the lookup by address points at it. Rewriting the same VIP
   * under the same id (a ring flip, a mode change) keeps the id's generation,
   * so its recorded flows stay; giving the id to another VIP bumps it, so
   * flows recorded for the previous owner are rescheduled.
   */
  putVip(v: VipSpec): void {
    const a = parseAddr(v.addr);
    const key = encodeXlbVipKey({ addr: a.bytes, port: v.port, proto: v.proto, family: a.family });
    const ref = this.maps.xlb_vips.lookup(key);
    const slotBuf = this.maps.xlb_vip_table.lookup(u32key(v.vipId));
    const slot = slotBuf ? decodeXlbVipVal(slotBuf) : { ring: 0, gen: 0, mode: 0, flags: 0 };
    const same = ref !== null && decodeXlbVipRef(ref).vipId === v.vipId && (slot.flags & XlbVipFlags.XLB_VIP_F_ACTIVE) !== 0;
    const gen = same ? slot.gen : (slot.gen + 1) & 0xffff || 1;
    this.maps.xlb_vip_table.update(u32key(v.vipId), encodeXlbVipVal({ ring: v.ring, gen, mode: v.mode, flags: (v.flags ?? 0) | XlbVipFlags.XLB_VIP_F_ACTIVE }));
    this.maps.xlb_vips.update(key, encodeXlbVipRef({ vipId: v.vipId }));
    this.#addFilterBit(XlbFilterConsts.XLB_FILTER_VIP, a);
    this.#changed();
  }

  /** Remove a VIP; false if it was not there. Its slot is marked free. */
  deleteVip(addr: string, port: number, proto: number): boolean {
    const a = parseAddr(addr);
    const key = encodeXlbVipKey({ addr: a.bytes, port, proto, family: a.family });
    const ref = this.maps.xlb_vips.lookup(key);
    if (!ref) return false;
    const id = decodeXlbVipRef(ref).vipId;
    this.maps.xlb_vips.delete(key);
    const slotBuf = this.maps.xlb_vip_table.lookup(u32key(id));
    if (slotBuf) this.maps.xlb_vip_table.update(u32key(id), encodeXlbVipVal({ ...decodeXlbVipVal(slotBuf), flags: 0 }));
    this.#writeFilter(XlbFilterConsts.XLB_FILTER_VIP, this.#vipKeyAddrs());
    this.#changed();
    return true;
  }

  /** The addresses of every VIP in xlb_vips (the map is the truth, also after a restart). */
  #vipKeyAddrs(): AddrKey[] {
    const out: AddrKey[] = [];
    const m = this.maps.xlb_vips;
    for (let k = m.nextKey(null); k; k = m.nextKey(k)) {
      const key = decodeXlbVipKey(k);
      out.push({ family: key.family, bytes: key.addr });
    }
    return out;
  }

  /** Set one address's bit, leaving every other bit as it is. */
  #addFilterBit(plane: number, a: AddrKey): void {
    const bit = addrFilterBit(a.family, a.bytes);
    const m = this.maps.xlb_addr_filter;
    const key = u32key(plane * XlbFilterConsts.XLB_FILTER_WORDS + (bit >> 6));
    const cur = m.lookup(key) ?? Buffer.alloc(8);
    const v = Buffer.alloc(8);
    wrU64(v, 0, rdU64(cur, 0) | (1n << BigInt(bit & 63)));
    m.update(key, v);
  }

  /** The source addresses of nat backends (their replies are looked up in xlb_nat). */
  setNatSources(addrs: Iterable<string>): void {
    this.#writeFilter(XlbFilterConsts.XLB_FILTER_NAT_SRC, [...addrs].map(parseAddr));
  }

  /**
   * Rewrite a plane word by word. A bit that stays set is set in both the old
   * and the new word, and each word is replaced whole: no lookup ever sees a
   * present address missing.
   */
  #writeFilter(plane: number, addrs: Iterable<AddrKey>): void {
    const words = buildFilterPlane(addrs);
    const m = this.maps.xlb_addr_filter;
    const v = Buffer.alloc(8);
    for (let i = 0; i < words.length; i++) {
      wrU64(v, 0, words[i]!);
      m.update(u32key(plane * XlbFilterConsts.XLB_FILTER_WORDS + i), v);
    }
  }

  /** Mark an address as carrying VIPs (ICMP echo and PTB handling). */
  putVipAddr(addr: string, vips = 1): void {
    const a = parseAddr(addr);
    this.maps.xlb_vip_addrs.update(encodeXlbAddrKey({ addr: a.bytes, family: a.family }), encodeXlbAddrVal({ vips }));
  }

  /** Forget a VIP address. */
  deleteVipAddr(addr: string): boolean {
    const a = parseAddr(addr);
    return this.maps.xlb_vip_addrs.delete(encodeXlbAddrKey({ addr: a.bytes, family: a.family }));
  }

  /** Write backend `id` (1 .. maxBackends - 1). */
  putBackend(id: number, b: BackendSpec): void {
    if (!Number.isInteger(id) || id < 1 || id >= this.maps.xlb_backends.maxEntries) throw new RangeError(`backend id ${id} out of range 1..${this.maps.xlb_backends.maxEntries - 1}`);
    const a = parseAddr(b.addr);
    this.maps.xlb_backends.update(u32key(id), encodeXlbBackendVal({ addr: a.bytes, port: b.port ?? 0, family: a.family, flags: b.flags ?? 1, vipId: b.vipId }));
    this.flushNextHop(id);
  }

  /** Drop backend `id`'s cached next hop on every CPU (and the flow cache's copies): the next packet asks the kernel's FIB. */
  flushNextHop(id: number): void {
    const m = this.maps.xlb_nh_cache;
    m.update(u32key(id), Buffer.alloc(m.valueBufferSize));
    this.#changed();
  }

  /** Mark backend `id` removed (its flows are rescheduled). */
  clearBackend(id: number): void {
    this.maps.xlb_backends.update(u32key(id), Buffer.alloc(this.maps.xlb_backends.valueSize));
    this.flushNextHop(id);
  }

  /**
   * Write a whole ring slot through the mmap'ed xlb_rings (a memcpy, no
   * syscall). The slot must not be the one a VIP uses now: write beside,
   * then flip the VIP's ring index with putVip().
   */
  writeRing(slot: number, ring: Uint32Array): void {
    if (ring.length !== this.ringSize) throw new RangeError(`ring has ${ring.length} entries, ring size is ${this.ringSize}`);
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.maxRings) throw new RangeError(`ring slot ${slot} out of range 0..${this.maxRings - 1}`);
    this.#ringView().set(ring, this.#slotBase(slot));
  }

  /** The mmap'ed xlb_rings as one array of backend ids. */
  #ringView(): Uint32Array {
    if (!this.#ring) this.#ring = new Uint32Array(this.maps.xlb_rings.mmap(), 0, this.#ringEntries());
    return this.#ring;
  }

  #ringEntries(): number {
    return this.maxRings * ringChunks(this.ringSize) * XlbRingConsts.XLB_RING_CHUNK;
  }

  /** Index in #ringView() of the first entry of a slot. */
  #slotBase(slot: number): number {
    return slot * ringChunks(this.ringSize) * XlbRingConsts.XLB_RING_CHUNK;
  }

  /** Whether a ring slot holds `ring`, compared in place (no copy). */
  ringEquals(slot: number, ring: Uint32Array): boolean {
    if (ring.length !== this.ringSize || !Number.isInteger(slot) || slot < 0 || slot >= this.maxRings) return false;
    const base = this.#slotBase(slot);
    const view = this.#ringView();
    for (let i = 0; i < ring.length; i++) if (view[base + i] !== ring[i]) return false;
    return true;
  }

  /** Read a ring slot back (a copy). */
  readRing(slot: number): Uint32Array {
    const base = this.#slotBase(slot);
    return this.#ringView().slice(base, base + this.ringSize);
  }

  /** Replace the globals entry (the ring size and ABI version are always this program's). */
  setGlobals(g: Partial<XlbGlobals>): void {
    const full: XlbGlobals = { tunSrc6: new Uint8Array(16), tunSrc4: 0, flags: 0, wildcardVips: 0, ...g, ringSize: this.ringSize, abiVersion: XLB_ABI_VERSION };
    this.maps.xlb_globals.update(u32key(0), encodeXlbGlobals(full));
  }

  /** The globals entry as it is. */
  globals(): XlbGlobals {
    const v = this.maps.xlb_globals.lookup(u32key(0));
    return decodeXlbGlobals(v ?? Buffer.alloc(this.maps.xlb_globals.valueSize));
  }

  /**
   * Reused maps were written for a ring size and an ABI version: both must be
   * this program's (an empty record, never written, is accepted).
   * @throws AbiError
   */
  #checkPinnedGlobals(): void {
    const g = this.globals();
    if (g.abiVersion === 0 && g.ringSize === 0) return;
    if (g.abiVersion !== XLB_ABI_VERSION) throw new AbiError('XLB_ERR_ABI_MISMATCH', `pinned maps were written by ABI version ${g.abiVersion}, this is version ${XLB_ABI_VERSION}; \`xlb unload\` first`);
    if (g.ringSize !== this.ringSize) throw new AbiError('XLB_ERR_ABI_MISMATCH', `pinned rings were built for ring_size ${g.ringSize}, the config says ${this.ringSize}; \`xlb unload\` first (it drops the connection table)`);
  }

  /**
   * Attach the program to an interface through a pinned XDP link: an existing
   * link (a previous run's) has its program replaced atomically, so
   * forwarding never stops; otherwise a new link is made and pinned.
   * @param linkPath bpffs path of the link pin
   * @param ifindex interface index (in the caller's network namespace)
   */
  attach(linkPath: string, ifindex: number, mode: 'native' | 'generic' | 'auto'): 'updated' | 'attached' {
    return this.#attachPinned(linkPath, 'xlb_xdp', () => this.obj.attachXdp('xlb_xdp', ifindex, mode));
  }

  /**
   * Attach the health-check steering program (xlb_hc_egress) at the egress of
   * an interface through a pinned tcx link, replacing the program of an
   * existing pin in place (as {@link attach}).
   * @param linkPath bpffs path of the link pin
   * @param ifindex interface index (in the caller's network namespace)
   */
  attachSteering(linkPath: string, ifindex: number): 'updated' | 'attached' {
    return this.#attachPinned(linkPath, 'xlb_hc_egress', () => this.obj.attachTcx('xlb_hc_egress', ifindex, 'egress'));
  }

  /**
   * Replace the program of the link pinned at `linkPath`, or make one with
   * `make` and pin it (also when the pinned link was severed: its device was
   * deleted).
   */
  #attachPinned(linkPath: string, prog: string, make: () => NativeBpfLink): 'updated' | 'attached' {
    if (existsSync(linkPath)) {
      const link = native().BpfLink.fromPin(linkPath);
      try {
        link.update(this.obj.programFd(prog));
        return 'updated';
      } catch (err) {
        // the device went away (and may be back under the same name): its
        // link is severed for good, so the pin is stale; make a new one
        if ((err as { code?: string }).code !== 'ENOLINK') throw err;
        link.unpin();
      } finally {
        link.close();
      }
    }
    const link = make();
    try {
      link.pin(linkPath);
    } finally {
      link.close();
    }
    return 'attached';
  }

  /**
   * Steer the packets of probe sockets marked `mark` to a backend, as the
   * VIP's traffic goes to it (health checks with `target: vip`).
   * @param mark the probe socket's SO_MARK (non-zero)
   * @param t the backend's address, the VIP's mode (dr or tunnel), and the
   *   xlb interface whose route lookup the steering borrows
   */
  setSteering(mark: number, t: { backend: string; mode: 'dr' | 'tunnel'; inIfindex: number }): void {
    const a = parseAddr(t.backend);
    const mode = t.mode === 'dr' ? XlbMode.XLB_MODE_DR : XlbMode.XLB_MODE_TUNNEL;
    this.#hcTargets.update(u32key(mark), encodeXlbHcVal({ family: a.family, mode, inIfindex: t.inIfindex, addr: a.bytes }));
  }

  /** Stop steering `mark` (absent: nothing happens). */
  deleteSteering(mark: number): void {
    this.#hcTargets.delete(u32key(mark));
  }

  /** What the steering program did, summed over CPUs, by XlbHcResult name. */
  steeringCounters(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    const m = this.obj.map('xlb_stats_hc');
    for (const [name, idx] of Object.entries(XlbHcResult)) {
      if (name === 'XLB_HC_MAX') continue;
      const v = m.lookup(u32key(idx));
      out[name] = v ? sumPerCpuStruct(v, m.valueSize, this.ncpus, (b) => ({ n: rdU64(b, 0) })).n : 0n;
    }
    return out;
  }

  /**
   * Reflect (or stop reflecting) the BFD echo packets of a peer: UDP 3785
   * from `addr` with TTL / hop limit 255 go straight back (bpf/lib/bfd.h).
   * An entry with `reflect: false` is kept, and its echo goes to the kernel.
   */
  setBfdPeer(addr: string, opts: { reflect: boolean }): void {
    const a = parseAddr(addr);
    const flags = opts.reflect ? XlbBfdPeerFlags.XLB_BFD_PEER_F_REFLECT : 0;
    this.maps.xlb_bfd_peers.update(encodeXlbAddrKey({ addr: a.bytes, family: a.family }), encodeXlbBfdPeerVal({ flags }));
    this.#changed(); // xlb_bfd_peer_cache entries read before are stale
  }

  /** Forget a BFD peer; false if it was not there. */
  deleteBfdPeer(addr: string): boolean {
    const a = parseAddr(addr);
    const gone = this.maps.xlb_bfd_peers.delete(encodeXlbAddrKey({ addr: a.bytes, family: a.family }));
    this.#changed(); // xlb_bfd_peer_cache entries read before are stale
    return gone;
  }

  /** The BFD peers in xlb_bfd_peers (the map is the truth, also after a restart). */
  bfdPeers(): { addr: string; reflect: boolean }[] {
    const out: { addr: string; reflect: boolean }[] = [];
    const m = this.maps.xlb_bfd_peers;
    for (let k = m.nextKey(null); k; k = m.nextKey(k)) {
      const v = m.lookup(k);
      if (!v) continue; // deleted meanwhile
      const key = decodeXlbAddrKey(k);
      out.push({ addr: formatAddr(key.family, key.addr), reflect: (decodeXlbBfdPeerVal(v).flags & XlbBfdPeerFlags.XLB_BFD_PEER_F_REFLECT) !== 0 });
    }
    return out;
  }

  /**
   * Give own-echo slot `slot` to a session: its echoes that come back
   * (payload struct xlb_bfd_echo_pkt naming this slot and discriminator) are
   * counted and timestamped there. The slot starts from zero.
   * @param s.discr the session's My Discriminator (non-zero)
   * @param s.family 4 or 6: the family of the session's echo packets
   * @throws RangeError for a slot outside the map or a zero discriminator
   */
  registerEchoSlot(slot: number, s: { discr: number; family: 4 | 6 }): void {
    this.#checkEchoSlot(slot);
    if (!Number.isInteger(s.discr) || s.discr < 1 || s.discr > 0xffffffff) throw new RangeError(`discriminator ${s.discr}: 1 .. 2^32-1 (RFC 5880 §6.8.1: non-zero)`);
    const family = s.family === 4 ? XlbFamily.XLB_AF_INET : XlbFamily.XLB_AF_INET6;
    this.maps.xlb_bfd_echo.update(u32key(slot), encodeXlbBfdEchoSlot({ lastNs: 0n, count: 0n, lastSeq: 0, discr: s.discr, family }));
  }

  /** Free an own-echo slot: echoes naming it are no longer ours (they go on as any echo-port datagram). */
  unregisterEchoSlot(slot: number): void {
    this.#checkEchoSlot(slot);
    this.maps.xlb_bfd_echo.update(u32key(slot), Buffer.alloc(this.maps.xlb_bfd_echo.valueSize));
  }

  /**
   * What XDP recorded in a slot: read from the mmap'ed map, no syscall (the
   * runtime may poll it every millisecond). A worker maps the pin itself:
   * `BfdEchoSlots.fromPin(<pinDir>/xlb_bfd_echo)`.
   */
  readEchoSlot(slot: number): { lastNs: bigint; lastSeq: number; count: bigint } {
    return this.echoSlots().read(slot);
  }

  /** The mmap'ed own-echo slots. */
  echoSlots(): BfdEchoSlots {
    this.#echoSlots ??= new BfdEchoSlots(this.maps.xlb_bfd_echo.mmap());
    return this.#echoSlots;
  }

  #checkEchoSlot(slot: number): void {
    const n = this.maps.xlb_bfd_echo.maxEntries;
    if (!Number.isInteger(slot) || slot < 0 || slot >= n) throw new RangeError(`echo slot ${slot} out of range 0..${n - 1}`);
  }

  /** Counters of every reason, summed over CPUs, by reason name. */
  reasonCounters(): ReasonCounters {
    const out: ReasonCounters = {};
    const m = this.maps.xlb_stats_reason_v2;
    for (const [name, idx] of Object.entries(XlbReason)) {
      if (name === 'XLB_R_MAX' || name === 'XLB_R_SLOTS') continue;
      const v = m.lookup(u32key(idx));
      out[name] = v ? sumPerCpuStruct(v, m.valueSize, this.ncpus, (b) => decodeXlbReasonStats(b)) : { packets: 0n, bytes: 0n };
    }
    return out;
  }

  /** Per-VIP counters summed over CPUs. */
  vipStats(vipId: number): XlbStats {
    return this.#stats(this.maps.xlb_stats_vip, vipId);
  }

  /** Per-backend counters summed over CPUs. */
  backendStats(id: number): XlbStats {
    return this.#stats(this.maps.xlb_stats_backend, id);
  }

  #stats(m: NativeBpfMap, idx: number): XlbStats {
    const v = m.lookup(u32key(idx));
    return v ? sumPerCpuStruct(v, m.valueSize, this.ncpus, (b) => decodeXlbStats(b)) : { packets: 0n, bytes: 0n, newFlows: 0n };
  }

  /** Event counters (XlbEvent names), summed over CPUs. */
  eventCounters(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    const m = this.maps.xlb_stats_event_v2;
    for (const [name, idx] of Object.entries(XlbEvent)) {
      if (name === 'XLB_EV_MAX' || name === 'XLB_EV_SLOTS') continue;
      const v = m.lookup(u32key(idx));
      out[name] = v ? sumPerCpuStruct(v, m.valueSize, this.ncpus, (b) => ({ n: rdU64(b, 0) })).n : 0n;
    }
    return out;
  }

  /** Zero the per-VIP, per-backend, per-reason and event counters. */
  clearCounters(): void {
    for (const n of ['xlb_stats_vip', 'xlb_stats_backend', 'xlb_stats_reason_v2', 'xlb_stats_event_v2'] as const) zeroArray(this.maps[n]);
  }

  /** Empty every map (tests): hash maps lose their keys, arrays are zeroed. */
  clearAll(): void {
    this.flushFlowCache();
    for (const n of MAP_NAMES) {
      const m = this.maps[n];
      if (n === 'xlb_rings') {
        this.#ringView().fill(0);
        continue;
      }
      if (m.type === BPF_MAP_TYPE_ARRAY || m.type === BPF_MAP_TYPE_PERCPU_ARRAY) {
        zeroArray(m);
        continue;
      }
      for (let k = m.nextKey(null); k; k = m.nextKey(null)) m.delete(k);
    }
    this.#changed();
  }

  /**
   * Empty every CPU's flow cache (a memset of the mmap'ed array, for tests:
   * an entry read while it is half cleared can hold half a next hop, so the
   * epoch goes first and nothing should be forwarding meanwhile).
   */
  flushFlowCache(): void {
    this.#changed();
    this.#flowCacheView ??= new Uint8Array(this.#flowCache.mmap());
    this.#flowCacheView.fill(0);
  }

  /** Close the object and its maps (the program stays attached only through a pinned link). */
  close(): void {
    this.#ring = null;
    this.#flowCacheView = null;
    this.#echoSlots = null;
    this.obj.close();
  }
}

/** Chunks of XLB_RING_CHUNK entries one ring of `m` entries takes in xlb_rings. */
export function ringChunks(m: number): number {
  return Math.ceil(m / XlbRingConsts.XLB_RING_CHUNK);
}

const BPF_MAP_TYPE_ARRAY = 2;
const BPF_MAP_TYPE_PERCPU_ARRAY = 6;

/** Write zeros into every element of an array map (all CPUs' slots of a per-CPU one). */
function zeroArray(m: NativeBpfMap): void {
  const zero = Buffer.alloc(m.valueBufferSize);
  for (let i = 0; i < m.maxEntries; i++) m.update(u32key(i), zero);
}

function u32key(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i);
  return b;
}
