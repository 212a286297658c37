/**
 * @module bfd/auth
 * BFD authentication (RFC 5880 §6.7): simple password, keyed MD5,
 * meticulous keyed MD5, keyed SHA1 and meticulous keyed SHA1. The
 * section's types (§4.2-4.4, which ./codec.ts encodes and decodes), the
 * section a packet carries, signing of the encoded bytes, and verification
 * of a received packet with the sequence-number window of §6.7.3/§6.7.4.
 * Imports nothing of ./codec.ts, which imports this: no circle.
 *
 * Layer: pure (H-28). The per-session state lives with the caller: it
 * passes the transmit state (bfd.XmitAuthSeq) or receive state
 * (bfd.AuthSeqKnown, bfd.RcvAuthSeq) in and gets the new one back. The
 * hashes come from node:crypto; the only other thing taken from it is the
 * random initial sequence number, and that is injectable.
 *
 * Not here: resetting bfd.AuthSeqKnown after two Detection Times without a
 * packet (§6.8.1) needs a clock; the session state machine does it by
 * putting {@link BFD_AUTH_RX_INITIAL} back.
 *
 * Sources: RFC 5880 §4.2-4.4 (layouts), §6.7.2-6.7.4 (procedures), §6.8.1
 * (state variables).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  BFD_AUTH_LEN_MD5,
  BFD_AUTH_LEN_PASSWORD_OVERHEAD,
  BFD_AUTH_LEN_SHA1,
  BFD_AUTH_SEQ_WINDOW_MULT,
  BFD_AUTH_TYPE,
  BFD_HEADER_LEN,
  BFD_MD5_KEY_MAX,
  BFD_PASSWORD_MAX,
  BFD_PASSWORD_MIN,
  BFD_SHA1_KEY_MAX,
  type BfdAuthType,
} from './spec.js';

// --- The section (RFC 5880 §4.2-4.4) ---------------------------------------------

/** Simple password section (RFC 5880 §4.2), Auth Type 1. */
export interface BfdAuthPassword {
  kind: 'password';
  type: typeof BFD_AUTH_TYPE.SIMPLE_PASSWORD;
  /** Auth Key ID: which of the configured passwords. */
  keyId: number;
  /** The password, 1..16 bytes; Auth Len is its length + 3. */
  password: Buffer;
}

/** Keyed MD5 / SHA1 section (RFC 5880 §4.3, §4.4), Auth Type 2..5. */
export interface BfdAuthKeyed {
  kind: 'keyed';
  type: Exclude<BfdAuthType, typeof BFD_AUTH_TYPE.SIMPLE_PASSWORD>;
  /** Auth Key ID: which of the configured keys. */
  keyId: number;
  /** Sequence Number, 32 bits (bfd.XmitAuthSeq of the sender). */
  sequence: number;
  /**
   * Auth Key/Digest (MD5, 16 bytes) or Auth Key/Hash (SHA1, 20 bytes). On
   * encode its content is written as given; {@link signBfdControl} fills it in.
   */
  digest: Buffer;
}

/**
 * An authentication section the codec does not type: an unknown Auth Type
 * (0, 6..255), or a known one whose Auth Len does not fit it or does not
 * reach the end of the packet. Kept byte for byte so it round-trips (H-34);
 * the auth checks reject it with their own reason.
 */
export interface BfdAuthRaw {
  kind: 'raw';
  /** Auth Type as received. */
  type: number;
  /** Auth Len as received (may disagree with `data`). */
  authLen: number;
  /** The bytes after Auth Len up to the packet's Length: Auth Key ID first, when there is one. */
  data: Buffer;
}

/** The authentication section, present iff the A bit is set. */
export type BfdAuthSection = BfdAuthPassword | BfdAuthKeyed | BfdAuthRaw;

/** Auth Len of a keyed type: 24 for MD5, 28 for SHA1 (RFC 5880 §4.3, §4.4). */
export function keyedAuthLen(type: BfdAuthKeyed['type']): number {
  return type === BFD_AUTH_TYPE.KEYED_MD5 || type === BFD_AUTH_TYPE.METICULOUS_KEYED_MD5 ? BFD_AUTH_LEN_MD5 : BFD_AUTH_LEN_SHA1;
}

/** Digest length of a keyed type: 16 (MD5) or 20 (SHA1). */
export function keyedDigestLen(type: BfdAuthKeyed['type']): number {
  return keyedAuthLen(type) === BFD_AUTH_LEN_MD5 ? BFD_MD5_KEY_MAX : BFD_SHA1_KEY_MAX;
}

/**
 * Why verification drops a packet: the `auth_*` reasons of codec's
 * BFD_DROP_REASONS that §6.7 decides (the codec's list must hold each one:
 * its checkBfdAuth returns these as its own drops, which the compiler checks).
 */
export type BfdAuthDropReason = 'auth_type' | 'auth_key_id' | 'auth_length' | 'auth_sequence' | 'auth_password' | 'auth_digest';

/** A packet verification rejects. */
export interface BfdAuthDrop {
  ok: false;
  /** Stable reason name (a counter label). */
  reason: BfdAuthDropReason;
  /** Human-readable: what was received and what was expected. */
  detail: string;
}

// --- Keys and state ------------------------------------------------------------------

/** Offset of the digest in the section: Auth Type, Auth Len, Key ID, Reserved, Sequence Number. */
const DIGEST_AT = 8;

/** One configured key (RFC 5880 §6.7.1: several may be configured, each with an ID). */
export interface BfdAuthKey {
  /** Auth Key ID, 0..255. */
  id: number;
  /** The password (1..16 bytes), MD5 key (1..16) or SHA1 key (1..20). */
  secret: Uint8Array;
}

/** A session's authentication: bfd.AuthType and its keys. */
export interface BfdAuthConfig {
  /** bfd.AuthType. */
  type: BfdAuthType;
  /** Keys accepted on receipt, by ID. */
  keys: readonly BfdAuthKey[];
  /** ID of the key that signs transmitted packets; one of `keys`. */
  txKeyId: number;
}

/** Transmit state of keyed authentication: bfd.XmitAuthSeq (RFC 5880 §6.8.1). */
export interface BfdAuthTxState {
  /** Sequence number the next packet carries, 32 bits. */
  seq: number;
}

/** Receive state of keyed authentication (RFC 5880 §6.8.1). */
export interface BfdAuthRxState {
  /** bfd.AuthSeqKnown: a packet was accepted and `seq` holds its sequence number. */
  seqKnown: boolean;
  /** bfd.RcvAuthSeq: the last accepted sequence number; meaningless while `seqKnown` is false. */
  seq: number;
}

/** The receive state of a new session, and of one silent for two Detection Times (§6.8.1). */
export const BFD_AUTH_RX_INITIAL: Readonly<BfdAuthRxState> = Object.freeze({ seqKnown: false, seq: 0 });

/** Whether a type is meticulous: the sequence number advances on every packet. */
export function isMeticulous(type: BfdAuthType): boolean {
  return type === BFD_AUTH_TYPE.METICULOUS_KEYED_MD5 || type === BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1;
}

/** Whether a type is one of the MD5 ones. */
function isMd5(type: BfdAuthType): boolean {
  return type === BFD_AUTH_TYPE.KEYED_MD5 || type === BFD_AUTH_TYPE.METICULOUS_KEYED_MD5;
}

/** Bytes of the digest (and of the zero-padded key in its place): 16 for MD5, 20 for SHA1. */
function digestLen(type: BfdAuthType): number {
  return isMd5(type) ? BFD_MD5_KEY_MAX : BFD_SHA1_KEY_MAX;
}


/**
 * Why a key is unusable for `type`, or undefined when it is fine: a
 * password is 1..16 bytes (§4.2), an MD5 key 1..16 (§4.3), a SHA1 key 1..20
 * (§4.4); an ID is 0..255.
 * @param type the authentication type
 * @param key the key
 */
export function bfdAuthKeyProblem(type: BfdAuthType, key: BfdAuthKey): string | undefined {
  if (!Number.isInteger(key.id) || key.id < 0 || key.id > 0xff) return `key id ${key.id} is not 0..255`;
  const max = type === BFD_AUTH_TYPE.SIMPLE_PASSWORD ? BFD_PASSWORD_MAX : digestLen(type);
  if (key.secret.length < BFD_PASSWORD_MIN || key.secret.length > max) return `key ${key.id}: ${key.secret.length} bytes, must be 1..${max}`;
  return undefined;
}

/** The configured key of `id`, checked; RangeError for a bad one (the program's own input). */
function keyOf(cfg: BfdAuthConfig, id: number): BfdAuthKey | undefined {
  const key = cfg.keys.find((k) => k.id === id);
  if (key === undefined) return undefined;
  const problem = bfdAuthKeyProblem(cfg.type, key);
  if (problem !== undefined) throw new RangeError(`bfd auth: ${problem}`);
  return key;
}

/**
 * A random initial bfd.XmitAuthSeq (RFC 5880 §6.8.1: "initialized to a
 * random 32 bit value").
 * @param random a source of 32-bit values; node:crypto by default
 */
export function initialAuthTxState(random: () => number = () => randomBytes(4).readUInt32BE(0)): BfdAuthTxState {
  return { seq: random() >>> 0 };
}

/**
 * The authentication section of the next packet, and the transmit state
 * after it.
 *
 * - Simple password: the transmit key's password; no state.
 * - Keyed MD5 / SHA1: the current bfd.XmitAuthSeq, which advances only
 *   with `advance` ("MAY be incremented", §6.7.3/6.7.4; a receiver accepts
 *   the same number again, within its window).
 * - Meticulous: the current bfd.XmitAuthSeq, which advances on every packet
 *   ("MUST be incremented").
 *
 * Sequence numbers wrap at 2^32. The digest is zero here: encode the packet
 * with the config (codec `encodeBfdControl(v, buf, off, cfg)`), or call
 * {@link signBfdControl} on the encoded bytes.
 * @param cfg the session's authentication
 * @param tx the session's transmit state
 * @param advance keyed (not meticulous) types: advance the sequence number after this packet
 * @returns the section and the new transmit state
 * @throws RangeError if the transmit key is not configured or is unusable
 */
export function nextAuthSection(cfg: BfdAuthConfig, tx: BfdAuthTxState, advance = false): { auth: BfdAuthSection; tx: BfdAuthTxState } {
  const key = keyOf(cfg, cfg.txKeyId);
  if (key === undefined) throw new RangeError(`bfd auth: transmit key ${cfg.txKeyId} is not configured`);
  if (cfg.type === BFD_AUTH_TYPE.SIMPLE_PASSWORD) {
    return { auth: { kind: 'password', type: cfg.type, keyId: key.id, password: Buffer.from(key.secret) }, tx };
  }
  const next = isMeticulous(cfg.type) || advance ? (tx.seq + 1) >>> 0 : tx.seq >>> 0;
  const auth: BfdAuthKeyed = { kind: 'keyed', type: cfg.type, keyId: key.id, sequence: tx.seq >>> 0, digest: Buffer.alloc(digestLen(cfg.type)) };
  return { auth, tx: { seq: next } };
}

/**
 * The digest of a keyed packet (RFC 5880 §6.7.3, §6.7.4): the key,
 * zero-padded to 16 (MD5) or 20 (SHA1) bytes, in the digest field, then MD5
 * or SHA1 over the whole packet (Length bytes).
 * @param pkt the packet's bytes, exactly Length long; not modified
 * @param type the Auth Type
 * @param secret the key
 */
function digestOf(pkt: Uint8Array, type: BfdAuthType, secret: Uint8Array): Buffer {
  const copy = Buffer.from(pkt);
  const at = BFD_HEADER_LEN + DIGEST_AT;
  const n = digestLen(type);
  copy.fill(0, at, at + n);
  copy.set(secret, at);
  return createHash(isMd5(type) ? 'md5' : 'sha1').update(copy).digest();
}

/**
 * Sign an encoded keyed packet in place: compute its digest with the key
 * its Auth Key ID names and write it into the digest field. Packets with a
 * simple password, or without authentication, are left alone.
 * @param buf holds the encoded packet
 * @param offset first byte of the packet
 * @param cfg the session's authentication; its type must be the packet's
 * @throws RangeError if the packet's type is not `cfg.type`, or its key is not configured or unusable
 */
export function signBfdControl(buf: Buffer, offset: number, cfg: BfdAuthConfig): void {
  const len = buf[offset + 3]!;
  if (len <= BFD_HEADER_LEN) return;
  const type = buf[offset + BFD_HEADER_LEN]!;
  if (type === BFD_AUTH_TYPE.SIMPLE_PASSWORD) return;
  if (type !== cfg.type) throw new RangeError(`bfd auth: packet has auth type ${type}, the session ${cfg.type}`);
  const keyId = buf[offset + BFD_HEADER_LEN + 2]!;
  const key = keyOf(cfg, keyId);
  if (key === undefined) throw new RangeError(`bfd auth: key ${keyId} is not configured`);
  const d = digestOf(buf.subarray(offset, offset + len), cfg.type, key.secret);
  buf.set(d, offset + BFD_HEADER_LEN + DIGEST_AT);
}

/**
 * Whether a received sequence number is in the window of RFC 5880
 * §6.7.3/§6.7.4, in the circular 32-bit space: keyed, bfd.RcvAuthSeq to
 * bfd.RcvAuthSeq + 3 x Detect Mult; meticulous, from bfd.RcvAuthSeq + 1
 * (the same number again is a replay).
 * @param seq the received Sequence Number
 * @param rcv bfd.RcvAuthSeq
 * @param detectMult the received packet's Detect Mult
 * @param meticulous whether the type is meticulous
 */
export function authSeqInWindow(seq: number, rcv: number, detectMult: number, meticulous: boolean): boolean {
  const lo = (rcv + (meticulous ? 1 : 0)) >>> 0;
  const hi = (rcv + BFD_AUTH_SEQ_WINDOW_MULT * detectMult) >>> 0;
  return ((seq - lo) >>> 0) <= ((hi - lo) >>> 0);
}

/** Bytes equal, in time that depends only on the lengths. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const drop = (reason: BfdAuthDropReason, detail: string): BfdAuthDrop => ({ ok: false, reason, detail });

/**
 * Verify the authentication section of a received packet (RFC 5880
 * §6.7.2-6.7.4), in the RFC's order:
 *
 * 1. the Auth Type is the session's (`auth_type`);
 * 2. the Auth Key ID is a configured key (`auth_key_id`);
 * 3. Auth Len is right: password length + 3, 24 (MD5) or 28 (SHA1), and
 *    the rest of the packet (`auth_length`);
 * 4. keyed: with bfd.AuthSeqKnown, the sequence number is in the window
 *    ({@link authSeqInWindow}, `auth_sequence`);
 * 5. the password (`auth_password`) or digest (`auth_digest`) matches,
 *    compared in constant time.
 *
 * On success a keyed packet sets bfd.RcvAuthSeq to its sequence number and
 * bfd.AuthSeqKnown; the state returned is new, `rx` is not modified.
 * @param buf holds the received packet
 * @param offset first byte of the packet
 * @param a the packet's decoded authentication section
 * @param detectMult the packet's Detect Mult (the window is 3 x it)
 * @param cfg the session's authentication
 * @param rx the session's receive state
 * @returns `{ ok: true, authRx }` or a drop
 * @throws RangeError if a configured key is unusable (the program's own input)
 */
export function verifyBfdAuth(
  buf: Uint8Array,
  offset: number,
  a: BfdAuthSection,
  detectMult: number,
  cfg: BfdAuthConfig,
  rx: BfdAuthRxState,
): { ok: true; authRx: BfdAuthRxState } | BfdAuthDrop {
  if (a.type !== cfg.type) return drop('auth_type', `auth type ${a.type}, the session uses ${cfg.type}`);
  // A raw section of the right type is malformed: its Key ID (if any) first, as the RFC orders it.
  const keyId = a.kind === 'raw' ? a.data[0] : a.keyId;
  if (keyId === undefined) return drop('auth_length', `Auth Len ${a.kind === 'raw' ? a.authLen : '?'}, no room for the Key ID`);
  const key = keyOf(cfg, keyId);
  if (key === undefined) return drop('auth_key_id', `key id ${keyId} is not configured`);
  if (a.kind === 'raw') return drop('auth_length', `Auth Len ${a.authLen} with ${a.data.length + 2} bytes of section, wrong for ${cfg.type}`);

  if (a.kind === 'password') {
    // §6.7.2: Auth Len is the selected password's length plus three.
    if (a.password.length !== key.secret.length) {
      const want = key.secret.length + BFD_AUTH_LEN_PASSWORD_OVERHEAD;
      return drop('auth_length', `Auth Len ${a.password.length + BFD_AUTH_LEN_PASSWORD_OVERHEAD}, key ${keyId} needs ${want}`);
    }
    if (!sameBytes(a.password, key.secret)) return drop('auth_password', `password of key ${keyId} differs`);
    return { ok: true, authRx: rx };
  }

  // Keyed: decode typed the section only with the Auth Len of its type, so item 3 holds.
  const meticulous = isMeticulous(cfg.type);
  if (rx.seqKnown && !authSeqInWindow(a.sequence, rx.seq, detectMult, meticulous)) {
    const lo = (rx.seq + (meticulous ? 1 : 0)) >>> 0;
    const hi = (rx.seq + BFD_AUTH_SEQ_WINDOW_MULT * detectMult) >>> 0;
    return drop('auth_sequence', `sequence ${a.sequence} outside ${lo}..${hi}`);
  }
  const len = buf[offset + 3]!;
  const want = digestOf(buf.subarray(offset, offset + len), cfg.type, key.secret);
  if (!sameBytes(a.digest, want)) return drop('auth_digest', `${isMd5(cfg.type) ? 'MD5 digest' : 'SHA1 hash'} with key ${keyId} differs`);
  return { ok: true, authRx: { seqKnown: true, seq: a.sequence } };
}
