/**
 * @module dataplane/xdp/bfd-echo
 * The own-echo slots of the XDP program (xlb_bfd_echo, an mmapable array) as
 * the BFD runtime polls them: a view over the mapping, read through the
 * generated codec, no syscall per read. Pure once constructed; the only I/O
 * is {@link BfdEchoSlots.fromPin}, which opens the pinned map (from a worker
 * too: the mapping is this thread's own).
 */
import { native } from '../../native/binding.js';
import { XLB_BFD_ECHO_SLOT_SIZE, decodeXlbBfdEchoSlot } from './abi.gen.js';

/** What XDP recorded in a slot (struct xlb_bfd_echo_slot). */
export interface BfdEchoReading {
  /** bpf_ktime_get_ns() (CLOCK_MONOTONIC, ns) when the last echo came back; 0n = none yet */
  lastNs: bigint;
  /** the sequence number of that echo */
  lastSeq: number;
  /** echoes back since the slot was registered */
  count: bigint;
}

/** Map name of the slots (XLB_MAP_BFD_ECHO in bpf/xlb_abi.h). */
export const BFD_ECHO_MAP = 'xlb_bfd_echo';

/**
 * Read-only view of xlb_bfd_echo. Each field is written by XDP in one aligned
 * store, so each reads whole; the three may come from two different packets
 * when echoes race on two CPUs (see xlb_abi.h): compare `count` between polls
 * to know that something came back.
 */
export class BfdEchoSlots {
  readonly #buf: Buffer;
  /** number of slots */
  readonly size: number;

  /** @param mapping the mmap of xlb_bfd_echo (NativeBpfMap.mmap()) */
  constructor(mapping: ArrayBuffer) {
    if (mapping.byteLength % XLB_BFD_ECHO_SLOT_SIZE !== 0) throw new RangeError(`${BFD_ECHO_MAP}: mapping of ${mapping.byteLength} bytes is not whole ${XLB_BFD_ECHO_SLOT_SIZE}-byte slots`);
    this.#buf = Buffer.from(mapping);
    this.size = mapping.byteLength / XLB_BFD_ECHO_SLOT_SIZE;
  }

  /**
   * Map the pinned slots (`<pinDir>/xlb_bfd_echo`). The mapping holds its own
   * reference on the map; the fd is closed at once.
   */
  static fromPin(path: string): BfdEchoSlots {
    const m = native().BpfMap.fromPin(path);
    try {
      return new BfdEchoSlots(m.mmap());
    } finally {
      m.close();
    }
  }

  /**
   * The slot's last echo back and the count.
   * @throws RangeError for a slot outside the map
   */
  read(slot: number): BfdEchoReading {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.size) throw new RangeError(`echo slot ${slot} out of range 0..${this.size - 1}`);
    const s = decodeXlbBfdEchoSlot(this.#buf, slot * XLB_BFD_ECHO_SLOT_SIZE);
    return { lastNs: s.lastNs, lastSeq: s.lastSeq, count: s.count };
  }
}
