/**
 * Internet checksums (RFC 1071) and the IPv4 / TCP / UDP / ICMP / ICMPv6
 * checksums built on them, including the IPv4 and IPv6 pseudo-headers.
 *
 * Layer: pure. No I/O, no allocation on any path, no exceptions for
 * well-typed input. Used by the packet codecs and by the test packet builder.
 *
 * Vocabulary:
 * - a *sum* is the 16-bit ones' complement sum of 16-bit big-endian words,
 *   folded, NOT complemented (what RFC 1071 §1 calls "the sum");
 * - a *checksum* is the ones' complement of that sum (the value on the wire).
 *
 * Sums compose: `onesSum(b, 0, n, onesSum(a))` is the sum over a‖b as long as
 * `a` has an even length (RFC 1071 §2(B), byte-order independence only holds
 * on 16-bit alignment). Only the last piece of a composition may be odd; it
 * is padded with one zero byte (RFC 1071 §4.1 "Add left-over byte").
 *
 * @module net/checksum
 */

/** IANA protocol number for ICMPv4 (RFC 792): no pseudo-header. */
export const IPPROTO_ICMP = 1;
/** IANA protocol number for TCP (RFC 9293). */
export const IPPROTO_TCP = 6;
/** IANA protocol number for UDP (RFC 768). */
export const IPPROTO_UDP = 17;
/** IANA protocol number for ICMPv6 (RFC 4443). */
export const IPPROTO_ICMPV6 = 58;

/**
 * Fold a (possibly large, non-negative) accumulator into 16 bits with
 * end-around carry (RFC 1071 §4.1 "Fold 32-bit sum to 16 bits").
 *
 * @param s non-negative integer below 2^53
 * @returns folded sum in [0, 0xffff]
 */
export function foldSum(s: number): number {
  // Plain division first: the accumulator may exceed 2^32, so >>> is unsafe.
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/**
 * 16-bit ones' complement sum of `length` bytes of `buf` from `offset`,
 * added to `initial` (a previous sum, e.g. a pseudo-header sum).
 *
 * An odd trailing byte is treated as the high byte of a word whose low byte
 * is zero (RFC 1071 §4.1).
 *
 * @param buf bytes to sum
 * @param offset first byte (default 0)
 * @param length number of bytes (default: to the end of `buf`)
 * @param initial sum to add, 0..0xffff or any unfolded non-negative integer
 * @returns the folded sum in [0, 0xffff] (not complemented)
 * @throws RangeError if offset/length fall outside `buf`
 */
export function onesSum(buf: Uint8Array, offset = 0, length = buf.length - offset, initial = 0): number {
  if (offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`onesSum: range [${offset}, ${offset + length}) outside buffer of ${buf.length}`);
  }
  let s = initial;
  const end = offset + length;
  const even = end - ((end - offset) & 1);
  let i = offset;
  // Each word is at most 0xffff, so 2^37 words are needed to lose precision.
  for (; i < even; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) s += buf[i]! << 8;
  return foldSum(s);
}

/**
 * RFC 1071 internet checksum: ones' complement of the ones' complement sum.
 *
 * Verifying data that already contains its checksum field yields 0 when the
 * data is intact (RFC 1071 §1 (3)).
 *
 * @param buf bytes to checksum
 * @param offset first byte (default 0)
 * @param length number of bytes (default: to the end of `buf`)
 * @param initial a partial sum (e.g. from {@link onesSum} or
 *   {@link pseudoHeaderSum}) to include
 * @returns checksum in [0, 0xffff]
 */
export function inetChecksum(buf: Uint8Array, offset = 0, length = buf.length - offset, initial = 0): number {
  return ~onesSum(buf, offset, length, initial) & 0xffff;
}

/**
 * IPv4 header checksum (RFC 791 §3.1 "Header Checksum"): the checksum of the
 * header as it would be with its checksum field (bytes 10-11) set to zero.
 * The current contents of bytes 10-11 are ignored. The header length is taken
 * from the IHL nibble unless `headerLength` is given.
 *
 * @param buf buffer holding the IPv4 header
 * @param offset offset of the header's first byte (default 0)
 * @param headerLength bytes to cover (default IHL*4)
 * @returns the value to store in bytes 10-11
 * @throws RangeError if the header does not fit in `buf` or is shorter than 12 bytes
 */
export function ipv4HeaderChecksum(buf: Uint8Array, offset = 0, headerLength?: number): number {
  const hl = headerLength ?? ((buf[offset] ?? 0) & 0x0f) * 4;
  if (hl < 12) throw new RangeError(`ipv4HeaderChecksum: header length ${hl} < 12`);
  const s = onesSum(buf, offset, 10);
  return inetChecksum(buf, offset + 12, hl - 12, s);
}

/**
 * Sum of the TCP/UDP/ICMPv6 pseudo-header.
 *
 * - IPv4 (RFC 768, RFC 9293 §3.1): src(4) dst(4) zero(1) proto(1) length(2).
 * - IPv6 (RFC 8200 §8.1): src(16) dst(16) length(4) zero(3) next-header(1).
 *
 * @param family 4 or 6
 * @param src source address, 4 or 16 bytes
 * @param dst destination address (for IPv6 with a routing header: the final one)
 * @param proto upper-layer protocol number
 * @param l4Length upper-layer length in bytes (header + data)
 * @returns folded sum in [0, 0xffff]
 * @throws RangeError if an address has the wrong size for `family`
 */
export function pseudoHeaderSum(family: 4 | 6, src: Uint8Array, dst: Uint8Array, proto: number, l4Length: number): number {
  const alen = family === 4 ? 4 : 16;
  if (src.length !== alen || dst.length !== alen) {
    throw new RangeError(`pseudoHeaderSum: IPv${family} addresses must be ${alen} bytes (got ${src.length}, ${dst.length})`);
  }
  let s = onesSum(src, 0, alen, onesSum(dst, 0, alen));
  // Both layouts reduce to: proto + length (as 32-bit for IPv6, split in words).
  s += (proto & 0xff) + (l4Length & 0xffff) + Math.floor(l4Length / 0x10000);
  return foldSum(s);
}

/**
 * TCP / UDP / ICMPv6 checksum with the IPv4 or IPv6 pseudo-header, or the
 * plain ICMPv4 checksum (proto 1 has no pseudo-header, RFC 792).
 *
 * The checksum field inside `segment` must be zero (or, to verify, hold the
 * received value: then an intact segment yields 0, or 0xffff for UDP, see
 * below). Prefer {@link l4ChecksumValid} for verification.
 *
 * UDP: a computed 0 is transmitted as 0xffff, because 0 on the wire means
 * "no checksum" (RFC 768 "If the computed checksum is zero, it is transmitted
 * as all ones"; same rule for IPv6, RFC 8200 §8.1).
 *
 * @param family 4 or 6 (selects the pseudo-header layout)
 * @param src source address, 4 or 16 bytes
 * @param dst destination address, 4 or 16 bytes
 * @param proto 6 (TCP), 17 (UDP), 58 (ICMPv6), 1 (ICMPv4), or any other
 *   protocol that uses the pseudo-header
 * @param segment upper-layer header + data
 * @returns the value to store in the checksum field
 */
export function l4Checksum(family: 4 | 6, src: Uint8Array, dst: Uint8Array, proto: number, segment: Uint8Array): number {
  const ph = proto === IPPROTO_ICMP ? 0 : pseudoHeaderSum(family, src, dst, proto, segment.length);
  const c = inetChecksum(segment, 0, segment.length, ph);
  return proto === IPPROTO_UDP && c === 0 ? 0xffff : c;
}

/**
 * Receiver-side check of an upper-layer checksum: the sum over the
 * pseudo-header and the segment, checksum field included, must be 0xffff
 * (RFC 1071 §1 (3)). Both encodings of zero (0x0000 and 0xffff) in the field
 * therefore pass, as they do in a real stack. The UDP "no checksum" value 0
 * is NOT accepted here; apply that policy in the caller.
 *
 * @param family 4 or 6
 * @param src source address, 4 or 16 bytes
 * @param dst destination address, 4 or 16 bytes
 * @param proto upper-layer protocol (1 = ICMPv4: no pseudo-header)
 * @param buf buffer holding the segment
 * @param offset segment start (default 0)
 * @param length segment length (default: to the end of `buf`)
 * @returns true when the checksum is right
 */
export function l4ChecksumValid(
  family: 4 | 6,
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  buf: Uint8Array,
  offset = 0,
  length = buf.length - offset,
): boolean {
  const ph = proto === IPPROTO_ICMP ? 0 : pseudoHeaderSum(family, src, dst, proto, length);
  return onesSum(buf, offset, length, ph) === 0xffff;
}
