// Unit tests of the per-CPU value layout helpers (H-13): slots are
// roundup(valueSize, 8) bytes apart, one per possible CPU.
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, test } from 'node:test';
import { perCpuBufferSize, perCpuStride, splitPerCpu, sumPerCpu } from '../../src/native/percpu.js';

const LE = endianness() === 'LE';

describe('per-CPU layout', () => {
  test('stride rounds the value size up to 8 bytes', () => {
    assert.deepEqual([1, 4, 8, 12, 16, 17].map(perCpuStride), [8, 8, 8, 16, 16, 24]);
    assert.equal(perCpuBufferSize(12, 3), 48);
  });

  test('splitPerCpu returns one valueSize view per CPU, skipping padding', () => {
    // 3 CPUs, 12-byte values: slots at 0, 16, 32; bytes 12..15 of each slot are padding.
    const buf = Buffer.alloc(48, 0xff);
    for (let cpu = 0; cpu < 3; cpu++) buf.fill(cpu + 1, cpu * 16, cpu * 16 + 12);
    const parts = splitPerCpu(buf, 12, 3);
    assert.equal(parts.length, 3);
    parts.forEach((p, cpu) => assert.deepEqual(p, Buffer.alloc(12, cpu + 1)));
    parts[1]![0] = 0x42; // views, not copies
    assert.equal(buf[16], 0x42);
  });

  test('sumPerCpu adds a u32 and a u64 field across CPUs (host order)', () => {
    const buf = Buffer.alloc(2 * 16);
    const w32 = (v: number, at: number): number => (LE ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
    const w64 = (v: bigint, at: number): number => (LE ? buf.writeBigUInt64LE(v, at) : buf.writeBigUInt64BE(v, at));
    w32(7, 0);
    w32(5, 16);
    w64(2n ** 40n, 4 + 0);
    w64(1n, 4 + 16);
    assert.equal(sumPerCpu(buf, 12, 2, 0, 4), 12n);
    assert.equal(sumPerCpu(buf, 12, 2, 4, 8), 2n ** 40n + 1n);
  });

  test('errors name what is wrong', () => {
    assert.throws(() => splitPerCpu(Buffer.alloc(15), 12, 1), { name: 'RangeError', message: 'splitPerCpu: buffer of 15 bytes, 1 CPUs x 16 need 16' });
    assert.throws(() => splitPerCpu(Buffer.alloc(16), 0, 1), RangeError);
    assert.throws(() => splitPerCpu(Buffer.alloc(16), 8, 0), RangeError);
    assert.throws(() => sumPerCpu(Buffer.alloc(16), 12, 1, 8, 8), { message: 'sumPerCpu: field [8, 16) outside a 12-byte value' });
  });
});
