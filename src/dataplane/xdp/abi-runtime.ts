/**
 * @module dataplane/xdp/abi-runtime
 * Field accessors used by the generated ABI codecs (abi.gen.ts). Host-order
 * fields are read in the byte order of this machine, decided once, which is
 * the byte order the kernel and the BPF program use. Pure; no I/O.
 */
import { endianness } from 'node:os';

/** True on little-endian hosts (x86_64, arm64): host-order fields are LE. */
export const HOST_LE = endianness() === 'LE';

export function rdU16(b: Buffer, o: number): number {
  return HOST_LE ? b.readUInt16LE(o) : b.readUInt16BE(o);
}
export function rdU32(b: Buffer, o: number): number {
  return HOST_LE ? b.readUInt32LE(o) : b.readUInt32BE(o);
}
export function rdU64(b: Buffer, o: number): bigint {
  return HOST_LE ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
}
export function wrU16(b: Buffer, o: number, v: number): void {
  if (HOST_LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}
export function wrU32(b: Buffer, o: number, v: number): void {
  if (HOST_LE) b.writeUInt32LE(v, o);
  else b.writeUInt32BE(v, o);
}
export function wrU64(b: Buffer, o: number, v: bigint): void {
  if (HOST_LE) b.writeBigUInt64LE(v, o);
  else b.writeBigUInt64BE(v, o);
}

/** Copy a byte array field; a shorter source is zero-padded, a longer one is an error. */
export function wrBytes(b: Buffer, o: number, size: number, v: Uint8Array, field: string): void {
  if (v.length > size) throw new RangeError(`${field}: ${v.length} bytes do not fit in ${size}`);
  b.set(v, o);
  b.fill(0, o + v.length, o + size);
}

/** Write a host-order __u32 array field; a shorter source is zero-padded. */
export function wrU32s(b: Buffer, o: number, n: number, v: Uint32Array, field: string): void {
  if (v.length > n) throw new RangeError(`${field}: ${v.length} entries do not fit in ${n}`);
  for (let i = 0; i < n; i++) wrU32(b, o + 4 * i, v[i] ?? 0);
}

/** Name of an enum value, keeping unknown values as `<PREFIX>_<n>` so they round-trip. */
export function enumName(table: Readonly<Record<string, number>>, prefix: string, v: number): string {
  for (const k in table) if (table[k] === v) return k;
  return `${prefix}_${v}`;
}
