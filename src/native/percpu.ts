/**
 * Per-CPU map values, as the kernel lays them out in user-space buffers:
 * one slot per POSSIBLE CPU (not online), each `roundup(valueSize, 8)` bytes
 * apart (bpf_percpu_array_copy / bpf_percpu_hash_copy; STYLE H-13). The CPU
 * count comes from the addon's `possibleCpus()`.
 *
 * Layer: pure helpers beside the addon binding. No I/O, no addon import.
 *
 * @module native/percpu
 */
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

/**
 * @param valueSize the map's declared value size, bytes
 * @returns distance between two CPUs' slots, bytes
 */
export function perCpuStride(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/**
 * Bytes of a whole per-CPU value buffer.
 * @param valueSize declared value size, bytes
 * @param ncpus possible CPUs
 */
export function perCpuBufferSize(valueSize: number, ncpus: number): number {
  return perCpuStride(valueSize) * ncpus;
}

function check(buf: Buffer, valueSize: number, ncpus: number, what: string): void {
  if (!Number.isInteger(valueSize) || valueSize <= 0) throw new RangeError(`${what}: valueSize must be a positive integer, got ${valueSize}`);
  if (!Number.isInteger(ncpus) || ncpus <= 0) throw new RangeError(`${what}: ncpus must be a positive integer, got ${ncpus}`);
  const need = perCpuBufferSize(valueSize, ncpus);
  if (buf.length < need) throw new RangeError(`${what}: buffer of ${buf.length} bytes, ${ncpus} CPUs x ${perCpuStride(valueSize)} need ${need}`);
}

/**
 * Splits a per-CPU value buffer into one `valueSize`-byte view per CPU
 * (views share memory with `buf`; padding bytes are left out).
 * @param buf from `lookup()` / `lookupBatch()` of a per-CPU map
 * @param valueSize the map's `valueSize`
 * @param ncpus `possibleCpus()`
 * @throws RangeError if buf is shorter than ncpus slots
 */
export function splitPerCpu(buf: Buffer, valueSize: number, ncpus: number): Buffer[] {
  check(buf, valueSize, ncpus, 'splitPerCpu');
  const stride = perCpuStride(valueSize);
  const out: Buffer[] = [];
  for (let cpu = 0; cpu < ncpus; cpu++) out.push(buf.subarray(cpu * stride, cpu * stride + valueSize));
  return out;
}

/**
 * Sums a host-order unsigned field over every CPU's slot.
 * @param buf per-CPU value buffer
 * @param valueSize the map's `valueSize`
 * @param ncpus `possibleCpus()`
 * @param fieldOffset byte offset of the field within one value
 * @param width field width, bytes: 4 (`__u32`) or 8 (`__u64`)
 * @returns the sum (bigint: u64 counters overflow Number)
 * @throws RangeError if the field lies outside the value or buf is short
 */
export function sumPerCpu(buf: Buffer, valueSize: number, ncpus: number, fieldOffset: number, width: 4 | 8): bigint {
  check(buf, valueSize, ncpus, 'sumPerCpu');
  if (!Number.isInteger(fieldOffset) || fieldOffset < 0 || fieldOffset + width > valueSize) {
    throw new RangeError(`sumPerCpu: field [${fieldOffset}, ${fieldOffset + width}) outside a ${valueSize}-byte value`);
  }
  const stride = perCpuStride(valueSize);
  let sum = 0n;
  for (let cpu = 0; cpu < ncpus; cpu++) {
    const at = cpu * stride + fieldOffset;
    if (width === 8) sum += LE ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at);
    else sum += BigInt(LE ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  }
  return sum;
}
