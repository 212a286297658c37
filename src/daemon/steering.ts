/**
 * @module daemon/steering
 * The data-path side of health checks with `target: vip`: attaching the
 * steering program (xlb_hc_egress, bpf/xlb.bpf.c) where the probes' packets
 * leave, and handing out the socket marks that name a backend in
 * xlb_hc_targets.
 *
 * Where the packets leave: a probe connects to the VIP. On a node that holds
 * the VIP (as the VRRP master does) the kernel routes that through `lo`;
 * otherwise out of the device of the route to the VIP, which for an xlb node
 * is one of its XDP interfaces. The program is attached at the egress of
 * `lo` and of every configured interface, only while some check needs it
 * (each unmarked packet there then costs one compare).
 *
 * Marks: XLB_HC_MARK_BASE + 1 .. + 0xffff. A mark is in use from acquire()
 * to release(); released marks are reused.
 *
 * Layer: daemon (I/O through the data plane and the addon).
 */
import type { Logger } from 'pino';
import type { XlbConfig } from '../config/model.js';
import type { HealthSteering } from '../health/runner.js';
import { XlbError } from '../errors.js';

/** The marks of steered probes: 0x584c = "XL" in the high 16 bits, the low 16 bits count. */
export const XLB_HC_MARK_BASE = 0x584c0000;
/** Marks available (low 16 bits, 0 unused). */
const MARKS = 0xffff;

/** What steering needs of the data plane (XdpDataplane; fakes in tests). */
export interface SteeringDataplane {
  attachSteering(linkPath: string, ifindex: number): 'updated' | 'attached';
  setSteering(mark: number, t: { backend: string; mode: 'dr' | 'tunnel'; inIfindex: number }): void;
  deleteSteering(mark: number): void;
}

/** Whether any check of a config goes through the data path. */
export function needsSteering(config: XlbConfig): boolean {
  return config.services.some((s) => s.backends.some((b) => b.health.checks.some((c) => 'target' in c && c.target === 'vip')));
}

/** Attaches the steering program and hands out marks (the HealthRunner's {@link HealthSteering}). */
export class Steering implements HealthSteering {
  readonly #dp: SteeringDataplane;
  readonly #pinDir: string;
  readonly #log: Logger;
  readonly #ifindex: (name: string) => number;
  readonly #detach: (linkPath: string) => void;
  /** devices the program is attached to */
  readonly #attached = new Set<string>();
  /** the interface whose routes steering borrows (the config's first), 0 = none */
  #inIfindex = 0;
  #next = 1;
  readonly #free: number[] = [];

  /**
   * @param dp the data plane
   * @param pinDir where the link pins go (`link_tc_<device>`)
   * @param log logger
   * @param ifindex interface name -> index
   * @param detach detaches and unpins a pinned link
   */
  constructor(dp: SteeringDataplane, pinDir: string, log: Logger, ifindex: (name: string) => number, detach: (linkPath: string) => void) {
    this.#dp = dp;
    this.#pinDir = pinDir;
    this.#log = log;
    this.#ifindex = ifindex;
    this.#detach = detach;
  }

  /** Devices the program is attached to. */
  get devices(): string[] {
    return [...this.#attached];
  }

  /**
   * Attach the program where a config needs it, detach it where it does not.
   * Call before the health runner syncs to that config.
   * @throws SystemError when an attach fails (the config cannot be applied)
   */
  sync(config: XlbConfig): void {
    const want = needsSteering(config) ? ['lo', ...config.interfaces.map((i) => i.name)] : [];
    this.#inIfindex = config.interfaces.length ? this.#ifindex(config.interfaces[0]!.name) : 0;
    for (const dev of want) {
      if (this.#attached.has(dev)) continue;
      const how = this.#dp.attachSteering(this.#pin(dev), this.#ifindex(dev));
      this.#attached.add(dev);
      this.#log.info({ ifname: dev, how }, 'health-check steering attached');
    }
    for (const dev of [...this.#attached]) {
      if (want.includes(dev)) continue;
      try {
        this.#detach(this.#pin(dev));
      } catch (err) {
        this.#log.warn({ err, ifname: dev }, 'health-check steering: detach failed');
      }
      this.#attached.delete(dev);
      this.#log.info({ ifname: dev }, 'health-check steering detached');
    }
  }

  /** HealthSteering: a mark steering to `backend`. */
  acquire(backend: string, mode: 'dr' | 'tunnel'): number {
    if (this.#inIfindex === 0) throw new XlbError('XLB_ERR_DAEMON_APPLY', 'target: vip checks need an xlb interface');
    const id = this.#free.pop() ?? (this.#next <= MARKS ? this.#next++ : 0);
    if (id === 0) throw new XlbError('XLB_ERR_DAEMON_APPLY', `more than ${MARKS} target: vip checks`);
    const mark = XLB_HC_MARK_BASE + id;
    try {
      this.#dp.setSteering(mark, { backend, mode, inIfindex: this.#inIfindex });
    } catch (err) {
      this.#free.push(id);
      throw err;
    }
    return mark;
  }

  /** HealthSteering: `mark` is free again. */
  release(mark: number): void {
    try {
      this.#dp.deleteSteering(mark);
    } catch (err) {
      this.#log.warn({ err, mark }, 'health-check steering: delete failed');
    }
    this.#free.push(mark - XLB_HC_MARK_BASE);
  }

  #pin(dev: string): string {
    return `${this.#pinDir}/link_tc_${dev}`;
  }
}
