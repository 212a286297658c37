/**
 * The ABI drift guard (H-12): the layouts in src/dataplane/xdp/abi.gen.ts must
 * be exactly what the compiled object's BTF says, struct by struct and field
 * by field, and the codecs must round-trip. Needs the built object and
 * bpftool, not root.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dumpBtf } from '../../src/tools/gen-abi.js';
import { layoutFromBtf } from '../../src/dataplane/xdp/btf.js';
import * as abi from '../../src/dataplane/xdp/abi.gen.js';
import { defaultObjectPath } from '../../src/dataplane/xdp/xdp-dataplane.js';

const OBJ = defaultObjectPath();

describe('ABI: abi.gen.ts against the object BTF', { skip: !existsSync(OBJ) && `no ${OBJ}: run make bpf` }, () => {
  const live = layoutFromBtf(dumpBtf(OBJ));

  it('every struct has the same size and fields (offset, size, kind)', () => {
    const want = live.structs.filter((s) => s.name !== 'xlb_abi_enums');
    assert.deepEqual(abi.STRUCTS, want);
  });

  it('every enum has the same values', () => {
    assert.deepEqual(abi.ENUMS, live.enums);
    assert.equal(abi.XlbReason.XLB_R_PASS_NO_VIP, 2);
    assert.equal(abi.xlbReasonName(2), 'XLB_R_PASS_NO_VIP');
    assert.equal(abi.xlbReasonName(200), 'XLB_R_200', 'unknown values round-trip by number');
  });

  it('every map has the same key and value types', () => {
    assert.deepEqual(abi.MAPS, live.maps.filter((m) => m.name.startsWith('xlb_')));
  });

  it('XLB_ABI_VERSION matches bpf/xlb_abi.h', () => {
    const h = readFileSync(new URL('../../../bpf/xlb_abi.h', import.meta.url), 'utf8');
    assert.equal(abi.XLB_ABI_VERSION, Number(/#define XLB_ABI_VERSION (\d+)/.exec(h)?.[1]));
  });
});

describe('ABI codecs', () => {
  it('vip key: bytes as the kernel lays them out', () => {
    const addr = new Uint8Array(16);
    addr.set([10, 9, 0, 1]);
    const b = abi.encodeXlbVipKey({ addr, port: 80, proto: 6, family: 2 });
    assert.equal(b.toString('hex'), '0a090001' + '00'.repeat(12) + '0050' + '06' + '02');
    assert.deepEqual(abi.decodeXlbVipKey(b), { addr, port: 80, proto: 6, family: 2 });
  });

  it('padding is zeroed and ignored; encoding at an offset works', () => {
    const buf = Buffer.alloc(40, 0xee);
    abi.encodeXlbAddrKey({ addr: new Uint8Array([10, 9, 0, 1]), family: 2 }, buf, 10);
    assert.equal(buf.subarray(10, 30).toString('hex'), '0a090001' + '00'.repeat(12) + '02' + '000000');
    assert.equal(buf[9], 0xee);
    assert.equal(buf[30], 0xee);
    const back = abi.decodeXlbAddrKey(buf, 10);
    assert.equal(back.family, 2);
    assert.deepEqual([...back.addr.subarray(0, 4)], [10, 9, 0, 1]);
  });

  it('vip slot: 8 bytes, host-order ring and generation', () => {
    const b = abi.encodeXlbVipVal({ ring: 3, gen: 0x102, mode: 1, flags: 3 });
    assert.equal(b.toString('hex'), '03000000' + '0201' + '01' + '03');
    assert.deepEqual(abi.decodeXlbVipVal(b), { ring: 3, gen: 0x102, mode: 1, flags: 3 });
  });

  it('u64 fields decode as bigint, per-CPU stride is the value size rounded to 8', () => {
    const b = abi.encodeXlbStats({ packets: 2n ** 60n, bytes: 5n, newFlows: 1n });
    assert.equal(b.length, abi.XLB_STATS_SIZE);
    assert.deepEqual(abi.decodeXlbStats(b), { packets: 2n ** 60n, bytes: 5n, newFlows: 1n });
  });

  it('a short buffer is a RangeError naming the struct', () => {
    assert.throws(() => abi.decodeXlbFlow(Buffer.alloc(10)), /xlb_flow: need 40 bytes/);
  });

  it('an address longer than its field is refused', () => {
    assert.throws(() => abi.encodeXlbVipKey({ addr: new Uint8Array(17), port: 0, proto: 6, family: 2 }), /xlb_vip_key.addr: 17 bytes do not fit in 16/);
  });
});
