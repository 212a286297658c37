/**
 * @module vrrp/runner
 * Runs the VRRP instances of a config: one state machine per instance
 * (src/vrrp/fsm.ts), grouped by sync group (src/vrrp/sync-group.ts), fed by
 * the adverts the sockets receive (validated by src/vrrp/codec.ts), by one
 * timer per instance or group, and by the trackers; the actions they return
 * are carried out here: adverts sent, virtual addresses added and removed,
 * gratuitous ARP / unsolicited NA bursts, notify scripts and the notify FIFO.
 *
 * Every effect goes through the injected {@link VrrpIo} (sockets, netlink,
 * packet sockets, processes, the clock), so the runner is tested with fakes
 * and runs for real in the VRRP worker (src/vrrp/worker.ts), away from the
 * daemon's main event loop: a 1,000-VIP reload or 10,000 health checks a
 * second there do not delay an advert here.
 *
 * Layer: runner (H-29). Never throws from a timer or a socket callback:
 * failures are logged and counted, the state machines stay consistent.
 */
import { EventEmitter } from 'node:events';
import {
  advertIntervalToWire,
  encodeVrrp,
  validateAdvert,
  vrrpAuthPass,
  VRRP_AUTH,
  VRRP_GROUP_V4,
  VRRP_GROUP_V6,
  VRRP_TYPE,
  type VrrpAdvert,
  type VrrpChecksumMode,
  type VrrpDropReason,
  type VrrpExpect,
  type VrrpPeer,
  type VrrpRxMeta,
} from './codec.js';
import { restartReasons, VrrpFsm, type ReceivedAdvert, type VrrpAction, type VrrpFsmConfig, type VrrpNotifyEvent, type VrrpSnapshot, type VrrpState } from './fsm.js';
import { GARP_DEFAULTS } from './spec.js';
import { BFD_DIAG, BFD_DIAG_NAMES } from '../bfd/spec.js';
import { VrrpSyncGroup, type SyncGroupAction } from './sync-group.js';
import { evaluateTrackers, ScriptTrackerState, type Tracker } from './track.js';
import type { ResolvedCommand, RunAs } from '../security/command.js';

/** A virtual address as the instance adds it. */
export interface VrrpVip {
  /** Canonical address text. */
  address: string;
  /** Prefix length (default /32 or /128 in the config). */
  prefixLength: number;
  /** Device; default the instance's interface. */
  dev?: string;
  /** `ip addr ... label` (IPv4). */
  label?: string;
}

/** A script tracker (keepalived `vrrp_script`), shared by instances. */
export interface VrrpScriptSpec {
  name: string;
  /** argv; never run through a shell. */
  argv: readonly string[];
  /** The executable, resolved and checked at load (src/security/script-security.ts). */
  path?: string;
  /** The ids it runs as (`user` / `script_user`); absent = the worker's. */
  runAs?: RunAs;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  /** Start in the failed state. */
  initFail: boolean;
}

/** A tracked file (keepalived `track_file`): an integer, value x weight moves the priority. */
export interface VrrpTrackFileSpec {
  name: string;
  path: string;
  /** Write this value at start when the file is missing (or always, with overwrite). */
  init?: { value: number; overwrite: boolean };
}

/** A tracked object's reference from an instance, with its weight. */
export interface VrrpTrackRef {
  name: string;
  /** -253..253; 0 = down means FAULT. */
  weight: number;
  reverse?: boolean;
}

/** Notify commands (argv, path and ids resolved at load); keepalived semantics. */
export interface VrrpNotifySpec {
  master?: ResolvedCommand;
  backup?: ResolvedCommand;
  fault?: ResolvedCommand;
  stop?: ResolvedCommand;
  masterRxLowerPri?: ResolvedCommand;
  /** Run after the specific one with `INSTANCE|GROUP <name> <STATE> <priority>` appended. */
  generic?: ResolvedCommand;
}

/** One instance, resolved (durations in ms, defaults filled). */
export interface VrrpInstanceSpec {
  name: string;
  family: 4 | 6;
  /** Interface the adverts go out of and come in on. */
  interface: string;
  /** State machine configuration; `primaryAddress` defaults to the unicast source or the interface's primary address. */
  fsm: Omit<VrrpFsmConfig, 'primaryAddress' | 'name'> & { primaryAddress?: string };
  vips: readonly VrrpVip[];
  /** Added and removed with the VIPs, not carried in adverts. */
  excluded: readonly VrrpVip[];
  /** Unicast source (also the primary address). */
  unicastSrc?: string;
  /** Unicast peers; empty = multicast. */
  unicastPeers: readonly VrrpPeer[];
  checkUnicastSrc: boolean;
  /** v2 PASS authentication. */
  authPass?: string;
  /** v3 IPv4 checksum mode. */
  checksum: VrrpChecksumMode;
  trackInterfaces: readonly VrrpTrackRef[];
  trackScripts: readonly VrrpTrackRef[];
  trackFiles: readonly VrrpTrackRef[];
  /** Tracked BFD sessions (keepalived `track_bfd`), told by the daemon through {@link VrrpRunner.setBfdState}; absent = none. */
  trackBfd?: readonly VrrpTrackRef[];
  /**
   * The BFD session to the other VRRP node (xlb `bfd_peer`): when it goes
   * from Up to Down because the peer went silent, a BACKUP takes the master
   * as gone at once ({@link VrrpFsm.peerDown}); absent = none.
   */
  bfdPeer?: string;
  /** Ignore the instance interface's own link state. */
  dontTrackPrimary: boolean;
  /**
   * Virtual MAC: a macvlan (private mode) named `name` on `interface` with
   * the VRRP MAC `mac`; adverts, GARPs and the VIPs use it (keepalived
   * `use_vmac`).
   */
  vmac?: { name: string; mac: string };
  notify: VrrpNotifySpec;
  /** The sync group it belongs to. */
  syncGroup?: string;
}

/** A sync group: members move together. */
export interface VrrpGroupSpec {
  name: string;
  members: readonly string[];
  notify: VrrpNotifySpec;
}

/** Everything the runner runs. */
export interface VrrpSpec {
  instances: readonly VrrpInstanceSpec[];
  groups: readonly VrrpGroupSpec[];
  scripts: readonly VrrpScriptSpec[];
  files: readonly VrrpTrackFileSpec[];
  /** Pause between two gratuitous ARPs / unsolicited NAs of a burst, ms (0: back to back). */
  garpIntervalMs?: number;
  gnaIntervalMs?: number;
  /** SCHED_FIFO priority of the thread running the runner (0: normal); applied by the worker. */
  rtPriority?: number;
  /** keepalived's notify FIFO: one line per event. */
  notifyFifo?: string;
}

/** A socket as the runner needs it (RawSocket in the worker; fakes in tests). */
export interface VrrpSocket {
  /** Send one advert (the VRRP message; the kernel builds the IP header). */
  send(data: Buffer, destination: string): void;
  close(): void;
}

/** What a socket hands over per datagram. */
export interface VrrpRx {
  /** IPv4: the datagram from its IP header; IPv6: the VRRP message. */
  data: Buffer;
  meta: VrrpRxMeta;
}

/** An interface as the runner needs to know it. */
export interface VrrpLink {
  ifindex: number;
  up: boolean;
  /** Its addresses (canonical text), primary first per family; IPv6 link-local included. */
  addresses: { family: 4 | 6; address: string }[];
}

/** Every effect of the runner. */
export interface VrrpIo {
  /** Monotonic ms. */
  now(): number;
  /**
   * Open the socket of a family on an interface (the runner shares it
   * between instances); `onRx` gets every VRRP datagram it receives.
   * `multicast`: join the group; `source`: bind to it (unicast_src_ip).
   * @throws when the socket cannot be opened
   */
  openSocket(family: 4 | 6, ifname: string, opts: { multicast: boolean; source?: string }, onRx: (rx: VrrpRx) => void): VrrpSocket;
  /** The interface now, or undefined when it does not exist. */
  link(ifname: string): VrrpLink | undefined;
  /**
   * Make sure the macvlan `name` exists on `parent` with `mac`, is up, and has
   * keepalived's VMAC sysctls; known to link() when this returns.
   * @throws when it cannot be created
   */
  ensureVmac(name: string, parent: string, mac: string): void;
  /** Remove a macvlan made by ensureVmac (absent: nothing). */
  removeVmac(name: string): void;
  /** Link changes (up/down, created/removed) call `cb`. Returns an unsubscribe function. */
  watchLinks(cb: (ifname: string) => void): () => void;
  /** An address removed from an interface (by anyone) calls `cb`. Returns an unsubscribe function. */
  watchAddressRemovals(cb: (ifname: string, address: string) => void): () => void;
  addAddress(ifname: string, family: 4 | 6, vip: VrrpVip): Promise<void>;
  removeAddress(ifname: string, family: 4 | 6, vip: VrrpVip): Promise<void>;
  /** Send `count` gratuitous ARP (IPv4) or unsolicited NA (IPv6) for `address` out of `ifname`, `intervalMs` apart. */
  garp(ifname: string, family: 4 | 6, address: string, count: number, intervalMs: number): void;
  /** Run a command (no shell; from its resolved path, as its resolved ids); resolves with its success, false on timeout (killed). */
  run(cmd: ResolvedCommand, timeoutMs: number): Promise<boolean>;
  /**
   * Watch a file holding an integer: `cb` now and on every change, with the
   * value (0 for a missing, empty or unparsable file, as keepalived reads it).
   * `init` writes it first. Returns an unsubscribe function.
   */
  watchFile(path: string, init: VrrpTrackFileSpec['init'], cb: (value: number) => void): () => void;
  /** Start a notify command (from its resolved path, as its resolved ids) and forget it. */
  notify(cmd: ResolvedCommand): void;
  /** Append one line to the notify FIFO (never blocks; dropped when nobody reads). */
  fifo(path: string, line: string): void;
  log(level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
}

/** An instance's state for `xlb status` and metrics. */
export interface VrrpInstanceStatus {
  name: string;
  vrid: number;
  family: 4 | 6;
  interface: string;
  state: VrrpState;
  reason: string;
  basePriority: number;
  effectivePriority: number;
  master?: { address: string; priority: number };
  syncGroup?: string;
  /** Counters since start. */
  advertsSent: number;
  advertsReceived: number;
  becameMaster: number;
  /** Drops by reason (instance-level reasons only). */
  drops: Partial<Record<VrrpDropReason, number>>;
}

/** An instance and its resources. */
interface Inst {
  spec: VrrpInstanceSpec;
  fsm: VrrpFsm;
  expect: VrrpExpect;
  socket: VrrpSocket | undefined;
  /** Own primary address (advert source). */
  primary: string;
  /** The interface adverts and GARPs go through: the VMAC, else the instance's interface. */
  dev: string;
  /** Advert destinations: the group, or the unicast peers. */
  destinations: string[];
  unit: Unit;
  /** Address changes in flight, in order. */
  addrQueue: Promise<void>;
  stats: Omit<VrrpInstanceStatus, 'name' | 'vrid' | 'family' | 'interface' | 'state' | 'reason' | 'basePriority' | 'effectivePriority' | 'master' | 'syncGroup'>;
  digest: string;
}

/** A standalone instance or a sync group: what owns one timer. */
interface Unit {
  readonly name: string;
  readonly group: VrrpSyncGroup | undefined;
  readonly members: Inst[];
  timer: NodeJS.Timeout | undefined;
  notify: VrrpNotifySpec;
}

/** A running script tracker. */
interface Script {
  spec: VrrpScriptSpec;
  state: ScriptTrackerState;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
}

const STATE_ONLY_EVENTS = new Set<VrrpNotifyEvent>(['MASTER', 'BACKUP', 'FAULT', 'STOP']);
/**
 * The local diagnostics (BFD_DIAG_NAMES) of a session that left Up because
 * the peer went silent: its control packets (RFC 5880 §6.8.4) or its echo
 * (§6.8.5) stopped. Only these make a `bfd_peer` take the master as gone.
 */
export const BFD_PEER_LOST_DIAGS: readonly string[] = [BFD_DIAG_NAMES[BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED], BFD_DIAG_NAMES[BFD_DIAG.ECHO_FUNCTION_FAILED]];

/** How long after removing an address its removal events are taken as our own, ms. */
const OWN_REMOVAL_GRACE_MS = 2000;

/**
 * The VRRP runner.
 * Events: `state` (name, state, reason) on every transition.
 */
export class VrrpRunner extends EventEmitter {
  readonly #io: VrrpIo;
  readonly #instances = new Map<string, Inst>();
  readonly #units = new Map<string, Unit>();
  readonly #scripts = new Map<string, Script>();
  /** Tracked files: their spec, last value and unsubscribe. */
  readonly #files = new Map<string, { spec: VrrpTrackFileSpec; value: number; unwatch: () => void }>();
  /** Sockets by `family/ifname/m|u`, with their users. */
  readonly #sockets = new Map<string, { socket: VrrpSocket; users: Set<Inst> }>();
  #unwatch: (() => void) | undefined;
  #unwatchAddrs: (() => void) | undefined;
  /** `dev address` -> when this runner last removed it: its own removals are not "behind its back". */
  readonly #ownRemovals = new Map<string, number>();
  #spec: VrrpSpec | undefined;
  #stopped = false;
  /** BFD sessions by name: Up or not, as the daemon last said. */
  readonly #bfd = new Map<string, boolean>();

  constructor(io: VrrpIo) {
    super();
    this.#io = io;
  }

  /**
   * Run a spec: the first call starts everything; later calls (reloads)
   * start new instances, stop removed ones, reconfigure changed ones in
   * place when their state machine allows it (no role change, no advert
   * gap), and restart those whose identity changed (VRID, version,
   * interface, family, primary address, ownership).
   */
  apply(spec: VrrpSpec): void {
    if (this.#stopped) return;
    const now = this.#io.now();
    this.#spec = spec;
    this.#unwatch ??= this.#io.watchLinks((ifname) => this.#linkChanged(ifname));
    this.#unwatchAddrs ??= this.#io.watchAddressRemovals((ifname, address) => this.#addressRemoved(ifname, address));
    this.#syncScripts(spec.scripts);
    this.#syncFiles(spec.files);
    const wanted = new Map(spec.instances.map((i) => [i.name, i] as const));
    const groupOf = new Map<string, VrrpGroupSpec>();
    for (const g of spec.groups) for (const m of g.members) groupOf.set(m, g);

    // 1. decide, per running unit, whether it survives as it is
    for (const unit of [...this.#units.values()]) {
      const keep = unit.members.every((m) => {
        const next = wanted.get(m.spec.name);
        return next !== undefined && this.#reusable(m, next) && (groupOf.get(m.spec.name)?.name ?? m.spec.name) === unit.name;
      });
      const sameMembers = unit.group === undefined || sameSet(groupOf.get(unit.members[0]!.spec.name)?.members ?? [], unit.members.map((m) => m.spec.name));
      if (keep && sameMembers) continue;
      this.#stopUnit(unit, now, 'removed or changed by a reload');
    }
    // 2. reconfigure kept instances, start new ones
    const fresh: Inst[] = [];
    for (const s of spec.instances) {
      const running = this.#instances.get(s.name);
      if (running) {
        this.#reconfigure(running, s, now);
        continue;
      }
      const inst = this.#create(s);
      if (inst) fresh.push(inst);
    }
    // 3. units for new instances, a sync group or standalone; every unit is
    //    made (and its members know it) before the first starts, since a
    //    start emits events whose listeners read the status of all
    const units: Unit[] = [];
    const groupUnits = new Map<string, Inst[]>();
    for (const inst of fresh) {
      const g = groupOf.get(inst.spec.name);
      if (g) groupUnits.set(g.name, [...(groupUnits.get(g.name) ?? []), inst]);
      else units.push({ name: inst.spec.name, group: undefined, members: [inst], timer: undefined, notify: {} });
    }
    for (const [name, members] of groupUnits) {
      const g = spec.groups.find((x) => x.name === name)!;
      units.push({ name, group: new VrrpSyncGroup(name, members.map((m) => m.fsm)), members, timer: undefined, notify: g.notify });
    }
    for (const unit of units) {
      this.#units.set(unit.name, unit);
      for (const m of unit.members) m.unit = unit;
    }
    for (const unit of units) this.#startUnit(unit, now);
  }

  /** Per-instance state, for status and metrics. */
  status(): VrrpInstanceStatus[] {
    return [...this.#instances.values()].map((i) => {
      const snap: VrrpSnapshot = i.fsm.snapshot();
      const out: VrrpInstanceStatus = {
        name: i.spec.name,
        vrid: i.spec.fsm.vrid,
        family: i.spec.family,
        interface: i.spec.interface,
        state: snap.state,
        reason: snap.reason,
        basePriority: snap.basePriority,
        effectivePriority: snap.effectivePriority,
        ...i.stats,
        drops: { ...i.stats.drops },
      };
      if (snap.master) out.master = { ...snap.master };
      if (i.unit.group) out.syncGroup = i.unit.name;
      return out;
    });
  }

  /**
   * Graceful stop: every MASTER resigns (priority-0 advert) and removes its
   * addresses; resolves when the address removals are done.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    const now = this.#io.now();
    const members = [...this.#instances.values()];
    for (const unit of [...this.#units.values()]) this.#stopUnit(unit, now, 'daemon stopping');
    this.#stopped = true;
    for (const s of this.#scripts.values()) if (s.timer) clearTimeout(s.timer);
    this.#scripts.clear();
    for (const f of this.#files.values()) f.unwatch();
    this.#files.clear();
    this.#unwatch?.();
    this.#unwatchAddrs?.();
    // #stopUnit forgot the instances; their queued removals are still running
    await Promise.allSettled(members.map((i) => i.addrQueue));
  }

  // --- instances --------------------------------------------------------------

  /** The state machine config of a spec, with its primary address. */
  #fsmConfig(s: VrrpInstanceSpec, primary: string): VrrpFsmConfig {
    return { ...s.fsm, name: s.name, primaryAddress: primary };
  }

  /** Whether a running instance can take `next` without a restart. */
  #reusable(i: Inst, next: VrrpInstanceSpec): boolean {
    if (i.spec.interface !== next.interface || i.spec.family !== next.family || !sameJson(i.spec.vmac, next.vmac)) return false;
    if (!sameJson(i.spec.unicastPeers, next.unicastPeers) || i.spec.unicastSrc !== next.unicastSrc) return false;
    const primary = this.#primaryOf(next);
    if (primary === undefined) return false;
    return restartReasons(i.fsm.config, this.#fsmConfig(next, primary)).length === 0;
  }

  #primaryOf(s: VrrpInstanceSpec): string | undefined {
    if (s.fsm.primaryAddress) return s.fsm.primaryAddress;
    if (s.unicastSrc) return s.unicastSrc;
    const link = this.#io.link(s.interface);
    const want = (a: { family: 4 | 6; address: string }): boolean => a.family === s.family && (s.family === 4 || a.address.startsWith('fe80:'));
    return link?.addresses.find(want)?.address;
  }

  /** Make an instance (not started). Undefined when its interface has no usable address yet: logged. */
  #create(s: VrrpInstanceSpec): Inst | undefined {
    if (s.vmac) {
      try {
        this.#io.ensureVmac(s.vmac.name, s.interface, s.vmac.mac);
      } catch (err) {
        this.#io.log('error', { err, instance: s.name, vmac: s.vmac.name }, 'vrrp: virtual MAC interface not created; instance not started');
        return undefined;
      }
    }
    const primary = this.#primaryOf(s);
    if (primary === undefined) {
      this.#io.log('error', { instance: s.name, interface: s.interface }, `vrrp: ${s.interface} is missing or has no ${s.family === 6 ? 'IPv6 link-local' : 'IPv4'} address to send adverts from; the instance starts when it has one`);
      return undefined;
    }
    const unicast = s.unicastPeers.length > 0;
    const expect: VrrpExpect = {
      vrid: s.fsm.vrid,
      version: s.fsm.version,
      advertIntMs: s.fsm.advertIntMs,
      unicast,
      peers: s.unicastPeers,
      checkUnicastSrc: s.checkUnicastSrc,
      checksum: s.checksum,
      addresses: s.vips.map((v) => v.address),
    };
    if (s.authPass !== undefined) {
      expect.authType = VRRP_AUTH.PASS;
      expect.authPass = vrrpAuthPass(s.authPass);
    }
    const inst: Inst = {
      spec: s,
      fsm: new VrrpFsm(this.#fsmConfig(s, primary)),
      expect,
      socket: undefined,
      primary,
      dev: s.vmac?.name ?? s.interface,
      destinations: unicast ? s.unicastPeers.map((p) => p.address) : [s.family === 6 ? VRRP_GROUP_V6 : VRRP_GROUP_V4],
      unit: undefined as unknown as Unit,
      addrQueue: Promise.resolve(),
      stats: { advertsSent: 0, advertsReceived: 0, becameMaster: 0, drops: {} },
      digest: JSON.stringify(s),
    };
    this.#instances.set(s.name, inst);
    this.#attachSocket(inst);
    return inst;
  }

  #socketKey(i: Inst): string {
    return `${i.spec.family}/${i.dev}/${i.expect.unicast ? `u/${i.spec.unicastSrc ?? ''}` : 'm'}${i.spec.vmac ? `/${i.primary}` : ''}`;
  }

  #attachSocket(inst: Inst): void {
    const key = this.#socketKey(inst);
    let entry = this.#sockets.get(key);
    if (!entry) {
      try {
        const opts: { multicast: boolean; source?: string } = { multicast: !inst.expect.unicast };
        // a VMAC has no address of its own: send from the primary one
        const source = inst.spec.unicastSrc ?? (inst.spec.vmac ? inst.primary : undefined);
        if (source !== undefined) opts.source = source;
        const socket = this.#io.openSocket(inst.spec.family, inst.dev, opts, (rx) => this.#onRx(key, rx));
        entry = { socket, users: new Set() };
        this.#sockets.set(key, entry);
      } catch (err) {
        this.#io.log('error', { err, instance: inst.spec.name }, 'vrrp: socket not opened; the instance stays in FAULT');
        return;
      }
    }
    entry.users.add(inst);
    inst.socket = entry.socket;
  }

  #detachSocket(inst: Inst): void {
    const key = this.#socketKey(inst);
    const entry = this.#sockets.get(key);
    if (!entry) return;
    entry.users.delete(inst);
    if (entry.users.size === 0) {
      entry.socket.close();
      this.#sockets.delete(key);
    }
  }

  #reconfigure(inst: Inst, next: VrrpInstanceSpec, now: number): void {
    const digest = JSON.stringify(next);
    if (digest === inst.digest) return;
    const before = [...inst.spec.vips, ...inst.spec.excluded];
    inst.spec = next;
    inst.digest = digest;
    inst.expect.advertIntMs = next.fsm.advertIntMs;
    inst.expect.checksum = next.checksum;
    inst.expect.addresses = next.vips.map((v) => v.address);
    inst.expect.checkUnicastSrc = next.checkUnicastSrc;
    if (next.authPass !== undefined) {
      inst.expect.authType = VRRP_AUTH.PASS;
      inst.expect.authPass = vrrpAuthPass(next.authPass);
    } else {
      delete inst.expect.authType;
      delete inst.expect.authPass;
    }
    const step = inst.fsm.reconfigure(now, this.#fsmConfig(next, inst.primary), this.#trackedPriority(inst).priority);
    this.#perform(inst, step.actions);
    // a master holds its addresses: the ones the reload dropped go, the new
    // ones come (announced); a backup's wait for its next mastership
    if (inst.fsm.state === 'MASTER') {
      const key = (v: VrrpVip): string => `${v.dev ?? inst.dev} ${v.address}/${v.prefixLength} ${v.label ?? ''}`;
      const after = [...next.vips, ...next.excluded];
      const had = new Set(before.map(key));
      const has = new Set(after.map(key));
      this.#changeAddresses(inst, 'remove', before.filter((v) => !has.has(key(v))));
      const added = after.filter((v) => !had.has(key(v)));
      this.#changeAddresses(inst, 'add', added);
      const repeat = next.fsm.garp?.masterRepeat ?? GARP_DEFAULTS.masterRepeat;
      this.#announce(inst, added, repeat);
    }
    this.#evaluateTracking(inst.unit, now);
    this.#arm(inst.unit);
  }

  // --- units ------------------------------------------------------------------

  /** Start a unit that apply() registered. */
  #startUnit(unit: Unit, now: number): void {
    // faults and priorities known before the start
    for (const m of unit.members) {
      const t = this.#trackedPriority(m);
      if (t.priority !== m.fsm.priority) m.fsm.setPriority(now, t.priority);
      const fault = this.#faultOf(m, t.faults);
      if (fault) m.fsm.setFault(now, true, fault);
    }
    if (unit.group) this.#performGroup(unit, unit.group.start(now));
    else this.#perform(unit.members[0]!, unit.members[0]!.fsm.start(now).actions);
    // addresses left behind by a run that did not stop cleanly (kill -9):
    // only a master holds them (keepalived also removes them at start)
    for (const m of unit.members) if (m.fsm.state !== 'MASTER') this.#addresses(m, 'remove');
    this.#arm(unit);
  }

  #stopUnit(unit: Unit, now: number, why: string): void {
    if (unit.timer) clearTimeout(unit.timer);
    unit.timer = undefined;
    if (unit.group) this.#performGroup(unit, unit.group.stop(now));
    else this.#perform(unit.members[0]!, unit.members[0]!.fsm.stop(now).actions);
    for (const m of unit.members) {
      this.#detachSocket(m);
      const vmac = m.spec.vmac;
      if (vmac) m.addrQueue = m.addrQueue.then(() => this.#io.removeVmac(vmac.name)); // after its addresses are gone
      this.#instances.delete(m.spec.name);
      this.#io.log('info', { instance: m.spec.name, why }, 'vrrp: instance stopped');
    }
    this.#units.delete(unit.name);
  }

  #arm(unit: Unit): void {
    if (unit.timer) clearTimeout(unit.timer);
    unit.timer = undefined;
    if (this.#stopped) return;
    const at = unit.group ? unit.group.nextAt : unit.members[0]!.fsm.nextAt;
    if (at === undefined) return;
    unit.timer = setTimeout(() => this.#onTimer(unit), Math.max(0, at - this.#io.now()));
  }

  #onTimer(unit: Unit): void {
    unit.timer = undefined;
    if (this.#units.get(unit.name) !== unit) return;
    this.#guard(unit, () => {
      const now = this.#io.now();
      if (unit.group) this.#performGroup(unit, unit.group.onTimer(now));
      else this.#perform(unit.members[0]!, unit.members[0]!.fsm.onTimer(now).actions);
    });
    this.#arm(unit);
  }

  /** Run `fn`, logging instead of throwing. */
  #guard(unit: Unit, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#io.log('error', { err, unit: unit.name }, 'vrrp: input not handled');
    }
  }

  // --- receive ----------------------------------------------------------------

  #onRx(key: string, rx: VrrpRx): void {
    const entry = this.#sockets.get(key);
    if (!entry || this.#stopped) return;
    for (const inst of entry.users) {
      if (!rxMayBeFor(rx, inst)) continue;
      const r = validateAdvert(rx.data, rx.meta, inst.expect);
      if (!r.ok) {
        if (r.reason === 'vrid_err') continue; // another instance's (or nobody's)
        inst.stats.drops[r.reason] = (inst.stats.drops[r.reason] ?? 0) + 1;
        continue;
      }
      if (r.src === inst.primary) continue; // our own, looped back
      inst.stats.advertsReceived++;
      for (const w of r.warnings) this.#io.log('warn', { instance: inst.spec.name, kind: w.kind }, `vrrp: ${w.detail}`);
      const adv: ReceivedAdvert = r.advert.version === 3 ? { priority: r.advert.priority, source: r.src, advertIntMs: r.advert.maxAdvertIntCs * 10 } : { priority: r.advert.priority, source: r.src };
      const unit = inst.unit;
      this.#guard(unit, () => {
        const now = this.#io.now();
        if (unit.group) this.#performGroup(unit, unit.group.onAdvert(now, inst.spec.name, adv));
        else this.#perform(inst, inst.fsm.onAdvert(now, adv).actions);
      });
      this.#arm(unit);
    }
  }

  // --- actions ----------------------------------------------------------------

  #performGroup(unit: Unit, step: { members: Map<string, VrrpAction[]>; actions: SyncGroupAction[] }): void {
    for (const [name, actions] of step.members) {
      const inst = unit.members.find((m) => m.spec.name === name);
      if (inst) this.#perform(inst, actions);
    }
    for (const a of step.actions) {
      if (a.kind === 'trace') this.#io.log('info', { group: unit.name }, a.line);
      else this.#notify('GROUP', unit.name, unit.notify, a.event, a.priority);
    }
  }

  #perform(inst: Inst, actions: readonly VrrpAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'sendAdvert':
          this.#sendAdvert(inst, a.priority);
          break;
        case 'addAddresses':
          this.#addresses(inst, 'add');
          break;
        case 'removeAddresses':
          this.#addresses(inst, 'remove');
          break;
        case 'garpBurst':
          this.#announce(inst, [...inst.spec.vips, ...inst.spec.excluded], a.count);
          break;
        case 'notify':
          if (a.event === 'MASTER') inst.stats.becameMaster++;
          if (STATE_ONLY_EVENTS.has(a.event)) this.emit('state', inst.spec.name, a.event, inst.fsm.snapshot().reason);
          this.#notify('INSTANCE', inst.spec.name, inst.spec.notify, a.event, a.priority);
          break;
        case 'trace':
          this.#io.log('info', { instance: inst.spec.name }, a.line);
          break;
      }
    }
  }

  /** `count` gratuitous ARPs / unsolicited NAs per address, paced by garp_interval / gna_interval. */
  #announce(inst: Inst, vips: readonly VrrpVip[], count: number): void {
    for (const v of vips) {
      const fam = v.address.includes(':') ? 6 : 4;
      this.#io.garp(v.dev ?? inst.dev, fam, v.address, count, (fam === 4 ? this.#spec?.garpIntervalMs : this.#spec?.gnaIntervalMs) ?? 0);
    }
  }

  #sendAdvert(inst: Inst, priority: number): void {
    if (!inst.socket) return;
    const s = inst.spec;
    const base = { type: VRRP_TYPE.ADVERTISEMENT, vrid: s.fsm.vrid, priority, addresses: s.vips.map((v) => v.address) };
    const advert: VrrpAdvert =
      s.fsm.version === 2
        ? {
            ...base,
            version: 2,
            family: 4,
            authType: s.authPass !== undefined ? VRRP_AUTH.PASS : VRRP_AUTH.NONE,
            authData: s.authPass !== undefined ? vrrpAuthPass(s.authPass) : Buffer.alloc(8),
            advertIntS: advertIntervalToWire(2, s.fsm.advertIntMs),
          }
        : { ...base, version: 3, family: s.family, maxAdvertIntCs: advertIntervalToWire(3, s.fsm.advertIntMs) };
    for (const dst of inst.destinations) {
      try {
        inst.socket.send(encodeVrrp(advert, { src: inst.primary, dst, checksum: s.checksum }), dst);
        inst.stats.advertsSent++;
      } catch (err) {
        this.#io.log('warn', { err, instance: s.name, dst }, 'vrrp: advert not sent');
      }
    }
  }

  /** Add or remove every VIP and eVIP, in order after the changes before. */
  #addresses(inst: Inst, op: 'add' | 'remove'): void {
    this.#changeAddresses(inst, op, [...inst.spec.vips, ...inst.spec.excluded]);
  }

  /** Add or remove these addresses, in order after the changes before. */
  #changeAddresses(inst: Inst, op: 'add' | 'remove', all: readonly VrrpVip[]): void {
    if (all.length === 0) return;
    if (op === 'remove') {
      const now = this.#io.now();
      for (const [k, t] of this.#ownRemovals) if (now - t >= OWN_REMOVAL_GRACE_MS) this.#ownRemovals.delete(k);
      for (const v of all) this.#ownRemovals.set(`${v.dev ?? inst.dev} ${v.address}`, now);
    }
    inst.addrQueue = inst.addrQueue.then(async () => {
      for (const v of all) {
        const fam = v.address.includes(':') ? 6 : 4;
        const dev = v.dev ?? inst.dev;
        try {
          if (op === 'add') await this.#io.addAddress(dev, fam, v);
          else await this.#io.removeAddress(dev, fam, v);
        } catch (err) {
          const code = (err as { code?: string }).code;
          // already there / already gone: the wanted end state
          if (op === 'remove') this.#ownRemovals.delete(`${dev} ${v.address}`); // no event will come
          if ((op === 'add' && code === 'EEXIST') || (op === 'remove' && (code === 'EADDRNOTAVAIL' || code === 'ENODEV'))) continue;
          this.#io.log('error', { err, instance: inst.spec.name, address: v.address, dev }, `vrrp: ${op} address failed`);
        }
      }
    });
  }

  #notify(kind: 'INSTANCE' | 'GROUP', name: string, n: VrrpNotifySpec, event: VrrpNotifyEvent, priority: number): void {
    const specific =
      event === 'MASTER' ? n.master : event === 'BACKUP' ? n.backup : event === 'FAULT' ? n.fault : event === 'STOP' ? n.stop : event === 'MASTER_RX_LOWER_PRI' ? n.masterRxLowerPri : undefined;
    if (specific) this.#io.notify(specific);
    if (n.generic && STATE_ONLY_EVENTS.has(event)) this.#io.notify({ ...n.generic, argv: [...n.generic.argv, kind, name, event, String(priority)] });
    if (this.#spec?.notifyFifo) this.#io.fifo(this.#spec.notifyFifo, `${kind} "${name}" ${event} ${priority}\n`);
  }

  // --- tracking -----------------------------------------------------------------

  /** The trackers of an instance as the arithmetic sees them. */
  #trackers(inst: Inst): Tracker[] {
    const out: Tracker[] = [];
    for (const t of inst.spec.trackInterfaces) {
      const up = this.#io.link(t.name)?.up ?? false;
      out.push({ type: 'state', name: `interface ${t.name}`, weight: t.weight, reverse: t.reverse, up });
    }
    for (const t of inst.spec.trackScripts) {
      const sc = this.#scripts.get(t.name);
      out.push({ type: 'state', name: `script ${t.name}`, weight: t.weight, reverse: t.reverse, up: sc ? sc.state.up : false });
    }
    for (const t of inst.spec.trackBfd ?? []) {
      // a session not heard of yet is down: BFD sessions start Down (RFC 5880 §6.8.1)
      out.push({ type: 'state', name: `bfd ${t.name}`, weight: t.weight, reverse: t.reverse, up: this.#bfd.get(t.name) ?? false });
    }
    for (const t of inst.spec.trackFiles) {
      const f = this.#files.get(t.name);
      out.push({ type: 'file', name: `file ${f?.spec.path ?? t.name}`, weight: t.weight, reverse: t.reverse, value: f?.value ?? 0 });
    }
    return out;
  }

  #trackedPriority(inst: Inst): { priority: number; faults: string[] } {
    const ev = evaluateTrackers(inst.spec.fsm.priority, this.#trackers(inst));
    return { priority: ev.priority, faults: [...ev.faults] };
  }

  /** The FAULT reason of an instance, if any: its interface down, or a weight-0 tracker down. */
  #faultOf(inst: Inst, faults: readonly string[]): string | undefined {
    if (!inst.socket) return 'no socket';
    if (!inst.spec.dontTrackPrimary && !(this.#io.link(inst.spec.interface)?.up ?? false)) return `interface ${inst.spec.interface} down`;
    return faults.length ? faults.join(', ') : undefined;
  }

  /** Re-evaluate priorities and faults of a unit's members after a tracker changed. */
  #evaluateTracking(unit: Unit, now: number): void {
    for (const m of unit.members) {
      const t = this.#trackedPriority(m);
      const fault = this.#faultOf(m, t.faults);
      this.#guard(unit, () => {
        if (t.priority !== m.fsm.priority) {
          if (unit.group) this.#performGroup(unit, unit.group.setPriority(now, m.spec.name, t.priority));
          else this.#perform(m, m.fsm.setPriority(now, t.priority).actions);
        }
        if ((fault !== undefined) !== m.fsm.ownFault) {
          if (unit.group) this.#performGroup(unit, unit.group.setFault(now, m.spec.name, fault !== undefined, fault ?? 'interface and trackers up'));
          else this.#perform(m, m.fsm.setFault(now, fault !== undefined, fault ?? 'interface and trackers up').actions);
        }
      });
    }
    this.#arm(unit);
  }

  /**
   * keepalived: a MASTER whose VIP or eVIP someone else deleted resigns and
   * goes BACKUP (it comes back after Skew_Time unless a peer takes over, and
   * adds its addresses again). Its own removals never match: it leaves
   * MASTER before removing, and a reload drops an address from the spec first.
   */
  #addressRemoved(ifname: string, address: string): void {
    if (this.#stopped) return;
    const now = this.#io.now();
    for (const inst of this.#instances.values()) {
      if (inst.fsm.state !== 'MASTER') continue;
      const ours = [...inst.spec.vips, ...inst.spec.excluded].some((v) => v.address === address && (v.dev ?? inst.dev) === ifname);
      if (!ours) continue;
      // the event of a removal of our own (leaving MASTER) may arrive after a
      // quick return to MASTER (a Skew_Time of well under a millisecond)
      const mark = `${ifname} ${address}`;
      const own = this.#ownRemovals.get(mark);
      if (own !== undefined) {
        this.#ownRemovals.delete(mark); // this event was that removal's
        if (now - own < OWN_REMOVAL_GRACE_MS) continue;
      }
      const unit = inst.unit;
      const reason = `${address} deleted from ${ifname} behind our back`;
      this.#guard(unit, () => {
        if (unit.group) this.#performGroup(unit, unit.group.addressDeleted(now, inst.spec.name, reason));
        else this.#perform(inst, inst.fsm.addressDeleted(now, reason).actions);
      });
      this.#arm(unit);
    }
  }

  #linkChanged(ifname: string): void {
    if (this.#stopped) return;
    // an instance that could not start (its interface missing or without an
    // address yet) is tried again when its interface changes
    if (this.#spec?.instances.some((i) => i.interface === ifname && !this.#instances.has(i.name))) this.apply(this.#spec);
    const now = this.#io.now();
    for (const unit of this.#units.values()) {
      const uses = unit.members.some((m) => m.spec.interface === ifname || m.spec.trackInterfaces.some((t) => t.name === ifname));
      if (uses) this.#evaluateTracking(unit, now);
    }
  }

  #syncScripts(specs: readonly VrrpScriptSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.name, s] as const));
    for (const [name, sc] of this.#scripts) {
      const next = wanted.get(name);
      if (next && sameJson(next, sc.spec)) continue;
      if (sc.timer) clearTimeout(sc.timer);
      this.#scripts.delete(name);
    }
    for (const s of specs) {
      if (this.#scripts.has(s.name)) continue;
      const sc: Script = { spec: s, state: new ScriptTrackerState({ rise: s.rise, fall: s.fall, initFail: s.initFail }), timer: undefined, busy: false };
      this.#scripts.set(s.name, sc);
      this.#runScript(sc);
    }
  }

  #syncFiles(specs: readonly VrrpTrackFileSpec[]): void {
    const wanted = new Map(specs.map((f) => [f.name, f] as const));
    for (const [name, f] of this.#files) {
      const next = wanted.get(name);
      if (next && sameJson(next, f.spec)) continue;
      f.unwatch();
      this.#files.delete(name);
    }
    for (const spec of specs) {
      if (this.#files.has(spec.name)) continue;
      const entry = { spec, value: 0, unwatch: () => {} };
      this.#files.set(spec.name, entry);
      entry.unwatch = this.#io.watchFile(spec.path, spec.init, (value) => {
        if (this.#files.get(spec.name) !== entry || value === entry.value) return;
        entry.value = value;
        this.#io.log('info', { file: spec.path, value }, `vrrp: tracked file ${spec.name} = ${value}`);
        const now = this.#io.now();
        for (const unit of this.#units.values()) {
          if (unit.members.some((m) => m.spec.trackFiles.some((t) => t.name === spec.name))) this.#evaluateTracking(unit, now);
        }
      });
    }
  }

  /**
   * A BFD session went Up or left Up (the daemon relays the BFD worker's
   * state events): the instances and sync groups tracking it are
   * re-evaluated. Sessions are kept across reloads; one nobody tracks costs
   * an entry.
   *
   * When it leaves Up because the peer went silent (`diag` is
   * {@link BFD_PEER_LOST_DIAGS}), the instances whose `bfd_peer` it is take
   * the master as gone ({@link VrrpFsm.peerDown}; only a BACKUP acts). Not on
   * any other way down: a peer that signals AdminDown is alive and says so,
   * and a local AdminDown or a BFD worker that exited (diag `none`) says
   * nothing about the master; the down timer still runs for those.
   * @param session the session's name
   * @param up whether it is Up
   * @param diag the session's local diagnostic, named as BFD_DIAG_NAMES names it
   */
  setBfdState(session: string, up: boolean, diag?: string): void {
    const wasUp = this.#bfd.get(session) === true;
    if (this.#bfd.get(session) === up) return;
    this.#bfd.set(session, up);
    if (this.#stopped) return;
    this.#io.log('info', { session, up }, `vrrp: tracked bfd ${session} ${up ? 'up' : 'down'}`);
    const now = this.#io.now();
    // bfd_peer first: a tracker's weight may then lower the new MASTER's priority, not delay it
    if (wasUp && !up && diag !== undefined && BFD_PEER_LOST_DIAGS.includes(diag)) this.#peerDown(session, diag, now);
    for (const unit of this.#units.values()) {
      if (unit.members.some((m) => m.spec.trackBfd?.some((t) => t.name === session))) this.#evaluateTracking(unit, now);
    }
  }

  /** The `bfd_peer` session went Down: each BACKUP naming it acts as if its master-down timer fired. */
  #peerDown(session: string, diag: string, now: number): void {
    for (const unit of this.#units.values()) {
      const members = unit.members.filter((m) => m.spec.bfdPeer === session);
      if (members.length === 0) continue;
      for (const m of members) {
        const reason = `bfd_peer ${session} down (${diag})`;
        if (m.fsm.state === 'BACKUP') this.#io.log('warn', { instance: m.spec.name, session, diag }, `vrrp: ${m.spec.name}: ${reason}, master taken as gone`);
        this.#guard(unit, () => {
          if (unit.group) this.#performGroup(unit, unit.group.peerDown(now, m.spec.name, reason));
          else this.#perform(m, m.fsm.peerDown(now, reason).actions);
        });
      }
      this.#arm(unit);
    }
  }

  #runScript(sc: Script): void {
    if (this.#stopped || this.#scripts.get(sc.spec.name) !== sc) return;
    sc.timer = setTimeout(() => this.#runScript(sc), sc.spec.intervalMs);
    if (sc.busy) return; // still running (keepalived: "being timed out, expect idle - skipping run")
    sc.busy = true;
    this.#io.run(sc.spec, sc.spec.timeoutMs).then(
      (ok) => this.#scriptResult(sc, ok),
      () => this.#scriptResult(sc, false),
    );
  }

  #scriptResult(sc: Script, ok: boolean): void {
    sc.busy = false;
    if (this.#stopped || this.#scripts.get(sc.spec.name) !== sc) return;
    const step = sc.state.onResult(ok);
    if (!step.changed) return;
    this.#io.log('info', { script: sc.spec.name, up: step.up }, `vrrp: script ${sc.spec.name} ${step.up ? 'succeeded' : 'failed'}`);
    const now = this.#io.now();
    for (const unit of this.#units.values()) {
      if (unit.members.some((m) => m.spec.trackScripts.some((t) => t.name === sc.spec.name))) this.#evaluateTracking(unit, now);
    }
  }
}

/** Cheap pre-filter before validation: the VRID byte, where the family puts it. */
function rxMayBeFor(rx: VrrpRx, inst: Inst): boolean {
  const off = rx.meta.family === 4 ? ((rx.data[0] ?? 0) & 0x0f) * 4 : 0;
  return rx.data[off + 1] === inst.spec.fsm.vrid;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
