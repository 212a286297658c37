/**
 * @module bfd/echo-frame
 * The frame of xlb's own BFD echo (RFC 5880 §6.4, RFC 5881 §4): Ethernet to
 * the peer's MAC, IP from and to this node's own address (so the peer's
 * kernel forwards it straight back), TTL / hop limit 255, UDP 3785 -> 3785,
 * and the 24-byte payload `struct xlb_bfd_echo_pkt` (magic `xlbE`, the
 * session's discriminator and slot, a sequence number) that XDP recognises
 * when it comes back (bpf/lib/bfd.h).
 *
 * The frame is built once per session with sequence 0; the native echo
 * thread (native/src/bfd_echo.h) writes each packet's sequence at
 * `seqOffset` and updates the UDP checksum at `csumOffset` (RFC 1624).
 *
 * Source port 3785, as FRR 8.4's bfdd sends its own echo (bfd_packet.c,
 * ptm_bfd_echo_fp_snd and ptm_bfd_echo_snd): an echo a peer's bfdd reflects
 * in user space (its IPv6 path, bp_bfd_echo_in) goes back to the source
 * address and port, and only port 3785 is the echo port XDP looks at.
 *
 * Layer: pure codec (H-28); no I/O.
 */
import { BFD_PORT_ECHO, BFD_TTL } from './spec.js';
import { parseMac } from '../net/arp-nd.js';
import { parseAddr } from '../net/addr.js';
import { IPPROTO_UDP, ipv4HeaderChecksum, l4Checksum } from '../net/checksum.js';
import { XLB_BFD_ECHO_PKT_SIZE, encodeXlbBfdEchoPkt, xlbBfdEchoPktLayout } from '../dataplane/xdp/abi.gen.js';

/** "xlbE" (XLB_BFD_ECHO_MAGIC, bpf/xlb_abi.h). */
export const BFD_ECHO_MAGIC = 0x786c6245;
const ETH_HLEN = 14;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
const UDP_HLEN = 8;
/** IP precedence "internetwork control" (TOS 0xc0), as FRR marks its echo and control packets. */
const TOS_INTERNETWORK_CONTROL = 0xc0;
const SEQ_OFFSET_IN_PKT = xlbBfdEchoPktLayout.fields.find((f) => f.name === 'seq')!.offset;

/** What {@link encodeEchoFrame} builds a session's echo from. */
export interface EchoFrameSpec {
  family: 4 | 6;
  /** This node's address on the link: the echo's source and destination. */
  address: string;
  /** The interface's MAC (source). */
  srcMac: string;
  /** The peer's MAC (destination): the peer's kernel forwards it back. */
  dstMac: string;
  /** The session's My Discriminator (non-zero). */
  discr: number;
  /** Its slot in xlb_bfd_echo. */
  slot: number;
}

/** A built frame and where the sequence and the UDP checksum sit. */
export interface EchoFrame {
  frame: Buffer;
  seqOffset: number;
  csumOffset: number;
}

/** Bytes of an echo frame of `family`. */
export function echoFrameLength(family: 4 | 6): number {
  return ETH_HLEN + (family === 4 ? IPV4_HLEN : IPV6_HLEN) + UDP_HLEN + XLB_BFD_ECHO_PKT_SIZE;
}

/**
 * Builds a session's echo frame with sequence 0.
 * @throws TypeError on an address that is not of `family`, or a bad MAC
 */
export function encodeEchoFrame(v: EchoFrameSpec): EchoFrame {
  const a = parseAddr(v.address);
  if ((a.family === 2 ? 4 : 6) !== v.family) throw new TypeError(`echo frame: ${v.address} is not IPv${v.family}`);
  const ip = v.family === 4 ? a.bytes.subarray(0, 4) : a.bytes;
  const buf = Buffer.alloc(echoFrameLength(v.family));
  parseMac(v.dstMac).copy(buf, 0);
  parseMac(v.srcMac).copy(buf, 6);
  buf.writeUInt16BE(v.family === 4 ? 0x0800 : 0x86dd, 12);
  const l3 = ETH_HLEN;
  const udpLen = UDP_HLEN + XLB_BFD_ECHO_PKT_SIZE;
  let l4: number;
  if (v.family === 4) {
    buf[l3] = 0x45;
    buf[l3 + 1] = TOS_INTERNETWORK_CONTROL;
    buf.writeUInt16BE(IPV4_HLEN + udpLen, l3 + 2);
    buf.writeUInt16BE(0x4000, l3 + 6); // DF: one frame on one link, never fragmented
    buf[l3 + 8] = BFD_TTL;
    buf[l3 + 9] = IPPROTO_UDP;
    Buffer.from(ip).copy(buf, l3 + 12);
    Buffer.from(ip).copy(buf, l3 + 16);
    buf.writeUInt16BE(ipv4HeaderChecksum(buf, l3, IPV4_HLEN), l3 + 10);
    l4 = l3 + IPV4_HLEN;
  } else {
    buf.writeUInt32BE((6 << 28) | (TOS_INTERNETWORK_CONTROL << 20), l3);
    buf.writeUInt16BE(udpLen, l3 + 4);
    buf[l3 + 6] = IPPROTO_UDP;
    buf[l3 + 7] = BFD_TTL;
    Buffer.from(ip).copy(buf, l3 + 8);
    Buffer.from(ip).copy(buf, l3 + 24);
    l4 = l3 + IPV6_HLEN;
  }
  buf.writeUInt16BE(BFD_PORT_ECHO, l4);
  buf.writeUInt16BE(BFD_PORT_ECHO, l4 + 2);
  buf.writeUInt16BE(udpLen, l4 + 4);
  encodeXlbBfdEchoPkt({ magic: BFD_ECHO_MAGIC, discr: v.discr >>> 0, slot: v.slot, seq: 0, stamp: Buffer.alloc(8) }, buf, l4 + UDP_HLEN);
  buf.writeUInt16BE(l4Checksum(v.family, ip, ip, IPPROTO_UDP, buf.subarray(l4)), l4 + 6);
  return { frame: buf, seqOffset: l4 + UDP_HLEN + SEQ_OFFSET_IN_PKT, csumOffset: l4 + 6 };
}
