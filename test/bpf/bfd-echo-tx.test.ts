// Root-tier tests of the BFD own-echo thread (native/src/bfd_echo.h,
// NativeBfdEchoTx in src/native/binding.ts) against a loaded xlb_xdp whose
// xlb_bfd_echo is pinned in /sys/fs/bpf/xlb-echo-tx-<pid>/, inside the fib lab's
// namespace (test/support/fib-lab.ts; the thread's packet socket is made
// there): frames go out of xa and are captured on its peer xb.
// - bad arguments are refused with TypeErrors, a closed instance with a state error;
// - a set slot's frame goes out on its interval with the sequence patched
//   and the UDP checksum right, and XDP takes it for our own echo come back
//   (verdict DROP, the slot timestamped and counted);
// - a slot whose echo never comes back is reported once, after its
//   detection time; one whose slot XDP keeps stamping is not;
// - create and close 50 times: no fd and no thread left behind.
// Needs root (CAP_BPF, CAP_NET_RAW, setns); skipped otherwise.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { readdirSync, rmSync } from 'node:fs';
import { native, type BfdEchoTxOptions, type NativeBfdEchoTx } from '../../src/native/binding.js';
import { ETH_P, PacketSocket } from '../../src/native/socket.js';
import { encodeEchoFrame } from '../../src/bfd/echo-frame.js';
import { IPPROTO_UDP, l4ChecksumValid } from '../../src/net/checksum.js';
import { XLB_BFD_ECHO_SLOT_SIZE, XlbFamily, encodeXlbBfdEchoSlot, xlbBfdEchoSlotLayout } from '../../src/dataplane/xdp/abi.gen.js';
import { XdpHarness } from '../support/xdp-harness.js';
import { LAB_MAC } from '../support/fib-lab.js';
import { rootTestFor, waitMessage } from '../support/root-tier.js';

const rootTest = rootTestFor('needs root (CAP_BPF, CAP_NET_RAW, setns)');
const IS_ROOT = process.getuid?.() === 0;
const DISCR = 0x5eed;
const off = (n: string): number => xlbBfdEchoSlotLayout.fields.find((f) => f.name === n)!.offset;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('BfdEchoTx (native echo thread)', { skip: !IS_ROOT ? 'needs root' : false }, () => {
  let h: XdpHarness;
  let pinDir: string;
  let opts: BfdEchoTxOptions;
  let ifB: number;
  const open: NativeBfdEchoTx[] = [];
  const make = (onFail: (slot: number, agoNs: number, returned: number) => void = () => undefined): NativeBfdEchoTx => {
    const t = new (native().BfdEchoTx)(opts, onFail);
    open.push(t);
    return t;
  };
  const frame = (slot: number) => encodeEchoFrame({ family: 4, address: '10.0.0.1', srcMac: LAB_MAC.xa, dstMac: LAB_MAC.xb, discr: DISCR, slot });
  const register = (slot: number): void =>
    h.dp.maps.xlb_bfd_echo.update(Buffer.from(new Uint32Array([slot]).buffer), encodeXlbBfdEchoSlot({ lastNs: 0n, count: 0n, lastSeq: 0, discr: DISCR, family: XlbFamily.XLB_AF_INET }));

  before(() => {
    if (!IS_ROOT) return;
    pinDir = `/sys/fs/bpf/xlb-echo-tx-${process.pid}`;
    h = XdpHarness.open({ pinDir });
    opts = { mapPath: `${pinDir}/xlb_bfd_echo`, slotSize: XLB_BFD_ECHO_SLOT_SIZE, lastNsOffset: off('last_ns'), countOffset: off('count') };
    ifB = native().ifNameToIndex('xb');
  });
  after(() => {
    for (const t of open) t.close();
    h?.close();
    if (pinDir) rmSync(pinDir, { recursive: true, force: true });
  });

  rootTest('refuses bad arguments; a closed instance throws', () => {
    const Tx = native().BfdEchoTx;
    assert.throws(() => new Tx({ ...opts, mapPath: `${pinDir}/nope` }, () => undefined), { code: 'ENOENT' });
    assert.throws(() => new Tx({ ...opts, mapPath: `${pinDir}/xlb_stats` }, () => undefined), /not an mmapable array|ENOENT|bpf/);
    assert.throws(() => new Tx({ ...opts, slotSize: 60 }, () => undefined), TypeError);
    assert.throws(() => new Tx({ ...opts, lastNsOffset: 60 }, () => undefined), TypeError);
    assert.throws(() => new Tx(opts, 'x' as unknown as () => void), /onFail must be a function/);
    const t = make();
    const f = frame(0);
    const good = { ifindex: h.lab.ifA, frame: f.frame, seqOffset: f.seqOffset, csumOffset: f.csumOffset, intervalUs: 1000, detectUs: 3000 };
    assert.throws(() => t.set(1 << 20, good), /slot must be below/);
    assert.throws(() => t.set(0, { ...good, frame: Buffer.alloc(10) }), /14\.\.1514/);
    assert.throws(() => t.set(0, { ...good, seqOffset: f.frame.length - 2 }), /seqOffset/);
    assert.throws(() => t.set(0, { ...good, seqOffset: 0 }), /sequence 0/);
    assert.throws(() => t.set(0, { ...good, intervalUs: 50 }), /intervalUs/);
    assert.throws(() => t.set(0, { ...good, detectUs: 500 }), /detectUs/);
    assert.throws(() => t.set(0, { ...good, ifindex: 0 }), /ifindex/);
    assert.equal(t.stats(0), null);
    t.close();
    t.close();
    assert.throws(() => t.set(0, good), /closed/);
  });

  rootTest('sends on its interval, the sequence patched and the checksum right; XDP takes the frame for our echo come back', async () => {
    const cap = new PacketSocket({ type: 'raw', protocol: ETH_P.IP, ifindex: ifB });
    try {
      register(3);
      const t = make();
      const f = frame(3);
      t.set(3, { ifindex: h.lab.ifA, frame: f.frame, seqOffset: f.seqOffset, csumOffset: f.csumOffset, intervalUs: 2000, detectUs: 1_000_000 });
      const got = await waitMessage(cap, 2000, (m) => m.data.length === f.frame.length && m.data.readUInt16BE(36) === 3785);
      assert.ok(got, 'an echo frame on xb');
      const d = got.data;
      const seq = d.readUInt32BE(f.seqOffset);
      assert.ok(seq >= 1);
      assert.deepEqual(Buffer.concat([d.subarray(0, f.seqOffset), d.subarray(f.seqOffset + 4)]).subarray(0, f.csumOffset), f.frame.subarray(0, f.csumOffset), 'headers as built');
      assert.ok(l4ChecksumValid(4, d.subarray(26, 30), d.subarray(30, 34), IPPROTO_UDP, d, 34), 'UDP checksum valid after the patch');
      await sleep(200);
      const st = t.stats(3)!;
      assert.ok(st.sent >= 60 && st.sent <= 110, `about 100 sent in 200 ms at 2 ms (got ${st.sent})`);
      assert.equal(st.sendErrors, 0);
      const r = h.run(d);
      assert.equal(r.verdict, 'DROP', 'own echo come back: timestamped and dropped');
      const slot = h.dp.readEchoSlot(3);
      assert.equal(slot.count, 1n);
      assert.equal(slot.lastSeq, seq);
      assert.equal(t.stats(3)!.returned, 1);
      assert.equal(t.remove(3), true);
      assert.equal(t.remove(3), false);
    } finally {
      cap.close();
    }
  });

  rootTest('an echo that never comes back is reported once after its detection time; a stamped slot is not; set() re-arms', async () => {
    const fails: { slot: number; agoNs: number }[] = [];
    const t = make((slot, agoNs) => fails.push({ slot, agoNs }));
    register(5);
    register(6);
    const f5 = frame(5);
    const f6 = frame(6);
    const t0 = performance.now();
    t.set(5, { ifindex: h.lab.ifA, frame: f5.frame, seqOffset: f5.seqOffset, csumOffset: f5.csumOffset, intervalUs: 1000, detectUs: 3000 });
    t.set(6, { ifindex: h.lab.ifA, frame: f6.frame, seqOffset: f6.seqOffset, csumOffset: f6.csumOffset, intervalUs: 1000, detectUs: 20_000 });
    // slot 6 "comes back": stamp it now and then (CLOCK_MONOTONIC, as bpf_ktime_get_ns)
    const stamp = setInterval(() => h.dp.maps.xlb_bfd_echo.update(Buffer.from(new Uint32Array([6]).buffer), encodeXlbBfdEchoSlot({ lastNs: process.hrtime.bigint(), count: 1n, lastSeq: 1, discr: DISCR, family: XlbFamily.XLB_AF_INET })), 2);
    try {
      for (let i = 0; i < 100 && fails.length === 0; i++) await sleep(5);
      const first = performance.now() - t0;
      await sleep(200);
      assert.equal(fails.length, 1, 'once, not per packet');
      assert.equal(fails[0]!.slot, 5);
      assert.ok(fails[0]!.agoNs >= 3_000_000, `reported after the detection time (${fails[0]!.agoNs} ns)`);
      assert.ok(first < 100, `reported within ${first.toFixed(1)} ms`);
      assert.equal(t.stats(5)!.failed, true);
      assert.equal(t.stats(6)!.failed, false, 'stamped: no failure');
      t.set(5, { ifindex: h.lab.ifA, frame: f5.frame, seqOffset: f5.seqOffset, csumOffset: f5.csumOffset, intervalUs: 1000, detectUs: 3000 });
      assert.equal(t.stats(5)!.failed, false, 're-armed');
      for (let i = 0; i < 100 && fails.length === 1; i++) await sleep(5);
      assert.equal(fails.length, 2);
    } finally {
      clearInterval(stamp);
    }
  });

  rootTest('create, run and close 50 times: no fd and no thread left', () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const threads = (): number => readdirSync('/proc/self/task').length;
    const f = frame(7);
    const fd0 = fds();
    const th0 = threads();
    for (let i = 0; i < 50; i++) {
      const t = new (native().BfdEchoTx)(opts, () => undefined);
      t.set(7, { ifindex: h.lab.ifA, frame: f.frame, seqOffset: f.seqOffset, csumOffset: f.csumOffset, intervalUs: 1000, detectUs: 1_000_000 });
      t.close();
    }
    assert.equal(fds(), fd0);
    assert.equal(threads(), th0);
  });
});
