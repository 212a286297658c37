/**
 * @module test/support/codec
 * The codec properties the wire-format tests check alike (H-35): a round
 * trip, and the exact CodecError of bad input.
 */
import assert from 'node:assert/strict';
import { CodecError } from '../../src/errors.js';
import type { Decoded } from '../../src/net/rtnetlink.js';

/** The three functions of one codec (H-32), decode given an explicit length. */
export interface Codec<T> {
  encode(v: T, buf?: Buffer, offset?: number): Buffer;
  decode(buf: Buffer, offset: number, length: number): Decoded<T>;
  length(v: T): number;
}

/** Bytes from hex text; whitespace is ignored. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * H-35 (a): decode(encode(v)) deep-equals v, encode writes length(v) bytes,
 * re-encoding the decoded value gives the same bytes, and encoding at an
 * offset into a larger buffer writes only its own bytes there.
 * @returns the encoding of v
 */
export function roundTrip<T>(codec: Codec<T>, v: T): Buffer {
  const buf = codec.encode(v);
  assert.equal(buf.length, codec.length(v), 'encode writes length(v) bytes');
  const d = codec.decode(buf, 0, buf.length);
  assert.equal(d.bytes, buf.length);
  assert.deepEqual(d.value, v);
  assert.deepEqual(codec.encode(d.value), buf, 're-encoding the decoded value');
  const big = Buffer.alloc(buf.length + 20, 0xee);
  assert.equal(codec.encode(v, big, 10), big, 'encodes into the given buffer');
  assert.deepEqual(big.subarray(10, 10 + buf.length), buf);
  assert.deepEqual(big.subarray(0, 10), Buffer.alloc(10, 0xee), 'nothing written before the offset');
  assert.deepEqual(big.subarray(10 + buf.length), Buffer.alloc(10, 0xee), 'nothing written after');
  assert.deepEqual(codec.decode(big, 10, buf.length), { value: v, bytes: buf.length });
  return buf;
}

/** H-35 (d): `fn` throws a CodecError with exactly this code, message and offset. */
export function throwsCodec(fn: () => unknown, code: string, message: string, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CodecError, `CodecError expected, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}
