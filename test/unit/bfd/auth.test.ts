/**
 * BFD authentication (RFC 5880 §6.7). FRR 8.4's bfdd has none
 * (test/fixtures/bfd/README.md), so the expected bytes here are built by
 * hand from the RFC's layouts (§4.2-4.4) and hashed with node:crypto in the
 * test, never by calling the signer under test. Then: the transmit sequence
 * numbers (keyed advances when asked, meticulous on every packet, wrap at
 * 2^32), and every verification drop in §6.7's order, with the 3 x Detect
 * Mult window, replay rejection and the window across 2^32.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  BFD_AUTH_RX_INITIAL,
  authSeqInWindow,
  bfdAuthKeyProblem,
  initialAuthTxState,
  isMeticulous,
  nextAuthSection,
  signBfdControl,
  verifyBfdAuth,
  type BfdAuthConfig,
  type BfdAuthRxState,
} from '../../../src/bfd/auth.js';
import { decodeBfdControl, encodeBfdControl, receiveBfdControl, type BfdControl, type BfdDropReason } from '../../../src/bfd/codec.js';
import { BFD_AUTH_TYPE, BFD_STATE, type BfdAuthType } from '../../../src/bfd/spec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The packet every test signs: Up, Detect Mult 3, discriminators 1 and 2, 1 s timers, no echo. */
const PKT: BfdControl = {
  version: 1,
  diag: 0,
  state: BFD_STATE.UP,
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 1,
  yourDiscriminator: 2,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 1_000_000,
  requiredMinEchoRxUs: 0,
};

/** PKT's 24 bytes by hand with the A bit set and Length `len` (RFC 5880 §4.1). */
function headerBytes(len: number): string {
  return [
    '20', // version 1, diag 0
    'c4', // Sta 3 (Up) = 11, A = 1: 1100 0100
    '03', // Detect Mult 3
    len.toString(16).padStart(2, '0'), // Length
    '00000001', // My Discriminator
    '00000002', // Your Discriminator
    '000f4240', // Desired Min TX 1 s
    '000f4240', // Required Min RX 1 s
    '00000000', // Required Min Echo RX 0
  ].join('');
}

/** A config of one type with the given keys; the first key signs. */
function cfg(type: BfdAuthType, ...keys: [number, string][]): BfdAuthConfig {
  return { type, keys: keys.map(([id, s]) => ({ id, secret: Buffer.from(s) })), txKeyId: keys[0]![0] };
}

/** Encode PKT (with overrides) signed under `c` with transmit sequence `seq`. */
function signed(c: BfdAuthConfig, seq: number, over: Partial<BfdControl> = {}): Buffer {
  const { auth } = nextAuthSection(c, { seq });
  return encodeBfdControl({ ...PKT, ...over, auth }, undefined, 0, c);
}

/** Verify `b` under `c` from `rx`. */
function verify(b: Buffer, c: BfdAuthConfig, rx: BfdAuthRxState = BFD_AUTH_RX_INITIAL): ReturnType<typeof verifyBfdAuth> {
  const d = decodeBfdControl(b);
  assert.ok(d.ok && d.value.auth !== undefined, d.ok ? 'no auth section' : d.reason);
  return verifyBfdAuth(b, 0, d.value.auth, d.value.detectMult, c, rx);
}

/** Assert acceptance, returning the new receive state. */
function accepted(r: ReturnType<typeof verifyBfdAuth>): BfdAuthRxState {
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
  return r.authRx;
}

/** Assert a drop with `reason`. */
function dropped(r: ReturnType<typeof verifyBfdAuth>, reason: BfdDropReason): void {
  assert.equal(r.ok, false, `expected ${reason}`);
  if (!r.ok) assert.equal(r.reason, reason, r.detail);
}

// --- Independent vectors ----------------------------------------------------------------

describe('bfd auth: bytes against the RFC layouts, hashed in the test', () => {
  it('simple password (§4.2, §6.7.2): Auth Type 1, Auth Len 3 + length, Key ID, password', () => {
    const c = cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [9, 'hunter2']);
    const want = hex(headerBytes(24 + 3 + 7) + '01' + '0a' + '09' + Buffer.from('hunter2').toString('hex'));
    assert.deepEqual(signed(c, 0), want);
    accepted(verify(want, c));
  });

  for (const [type, name, algo, n] of [
    [BFD_AUTH_TYPE.KEYED_MD5, 'keyed MD5', 'md5', 16],
    [BFD_AUTH_TYPE.METICULOUS_KEYED_MD5, 'meticulous keyed MD5', 'md5', 16],
    [BFD_AUTH_TYPE.KEYED_SHA1, 'keyed SHA1', 'sha1', 20],
    [BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1, 'meticulous keyed SHA1', 'sha1', 20],
  ] as const) {
    it(`${name} (§4.${algo === 'md5' ? 3 : 4}, §6.7.${algo === 'md5' ? 3 : 4}): the key zero-padded in the digest field, ${algo} over the whole packet`, () => {
      const secret = 'xlb-key';
      const authLen = 8 + n;
      // Auth Type, Auth Len, Key ID 5, Reserved 0, Sequence Number 42, then the key padded to n bytes.
      const section = (digest: string): string => [type.toString(16).padStart(2, '0'), authLen.toString(16), '05', '00', '0000002a', digest].join('');
      const padded = Buffer.concat([Buffer.from(secret), Buffer.alloc(n - secret.length)]).toString('hex');
      const withKey = hex(headerBytes(24 + authLen) + section(padded));
      const digest = createHash(algo).update(withKey).digest('hex');
      const want = hex(headerBytes(24 + authLen) + section(digest));
      const c = cfg(type, [5, secret]);
      assert.deepEqual(signed(c, 42), want);
      assert.deepEqual(accepted(verify(want, c)), { seqKnown: true, seq: 42 });
    });
  }

  it('a key of the full length (16 MD5, 20 SHA1) has no padding', () => {
    for (const [type, algo, secret] of [
      [BFD_AUTH_TYPE.KEYED_MD5, 'md5', '0123456789abcdef'],
      [BFD_AUTH_TYPE.KEYED_SHA1, 'sha1', '0123456789abcdefghij'],
    ] as const) {
      const n = secret.length;
      const pre = headerBytes(24 + 8 + n) + [`0${type}`, (8 + n).toString(16), '01', '00', '00000007'].join('');
      const digest = createHash(algo).update(hex(pre + Buffer.from(secret).toString('hex'))).digest('hex');
      assert.deepEqual(signed(cfg(type, [1, secret]), 7), hex(pre + digest));
    }
  });

  it('signBfdControl on encoded bytes gives what encode-with-config gives; password and plain packets are left alone', () => {
    const c = cfg(BFD_AUTH_TYPE.KEYED_SHA1, [3, 'k']);
    const { auth } = nextAuthSection(c, { seq: 1 });
    const b = encodeBfdControl({ ...PKT, auth });
    signBfdControl(b, 0, c);
    assert.deepEqual(b, signed(c, 1));
    const plain = encodeBfdControl(PKT);
    signBfdControl(plain, 0, c);
    assert.deepEqual(plain, encodeBfdControl(PKT));
    const pw = signed(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, 'p']), 0);
    const copy = Buffer.from(pw);
    signBfdControl(copy, 0, c);
    assert.deepEqual(copy, pw);
  });

  it('signing at an offset covers only the packet', () => {
    const c = cfg(BFD_AUTH_TYPE.METICULOUS_KEYED_MD5, [1, 'k']);
    const { auth } = nextAuthSection(c, { seq: 9 });
    const big = Buffer.alloc(60, 0xee);
    encodeBfdControl({ ...PKT, auth }, big, 10, c);
    assert.deepEqual(big.subarray(10, 58), signed(c, 9));
  });
});

// --- Transmit ---------------------------------------------------------------------------

describe('bfd auth: transmit sequence numbers (bfd.XmitAuthSeq)', () => {
  it('meticulous: every packet carries the next number', () => {
    for (const type of [BFD_AUTH_TYPE.METICULOUS_KEYED_MD5, BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1]) {
      assert.ok(isMeticulous(type));
      let tx = { seq: 100 };
      const seqs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = nextAuthSection(cfg(type, [1, 'k']), tx);
        assert.equal(r.auth.kind, 'keyed');
        if (r.auth.kind === 'keyed') seqs.push(r.auth.sequence);
        tx = r.tx;
      }
      assert.deepEqual(seqs, [100, 101, 102]);
      assert.deepEqual(tx, { seq: 103 });
    }
  });

  it('keyed: the number advances only when asked', () => {
    const c = cfg(BFD_AUTH_TYPE.KEYED_MD5, [1, 'k']);
    assert.ok(!isMeticulous(c.type));
    const a = nextAuthSection(c, { seq: 5 });
    assert.deepEqual(a.tx, { seq: 5 });
    const b = nextAuthSection(c, a.tx, true);
    assert.deepEqual(b.tx, { seq: 6 });
    assert.equal(b.auth.kind === 'keyed' && b.auth.sequence, 5);
  });

  it('wraps at 2^32', () => {
    const r = nextAuthSection(cfg(BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1, [1, 'k']), { seq: 0xffff_ffff });
    assert.equal(r.auth.kind === 'keyed' && r.auth.sequence, 0xffff_ffff);
    assert.deepEqual(r.tx, { seq: 0 });
    assert.deepEqual(nextAuthSection(cfg(BFD_AUTH_TYPE.KEYED_MD5, [1, 'k']), { seq: 0xffff_ffff }, true).tx, { seq: 0 });
  });

  it('simple password has no sequence: the state is returned as is', () => {
    const tx = { seq: 77 };
    assert.equal(nextAuthSection(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, 'p']), tx).tx, tx);
  });

  it('the initial number is random (injectable) and 32-bit', () => {
    assert.deepEqual(initialAuthTxState(() => 0x1_0000_0005), { seq: 5 });
    const a = initialAuthTxState();
    assert.ok(Number.isInteger(a.seq) && a.seq >= 0 && a.seq <= 0xffff_ffff);
  });

  it('a transmit key that is missing or unusable throws RangeError', () => {
    assert.throws(() => nextAuthSection({ ...cfg(BFD_AUTH_TYPE.KEYED_MD5, [1, 'k']), txKeyId: 2 }, { seq: 0 }), RangeError);
    assert.throws(() => nextAuthSection(cfg(BFD_AUTH_TYPE.KEYED_MD5, [1, '0123456789abcdefX']), { seq: 0 }), RangeError);
    assert.throws(() => nextAuthSection(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, '']), { seq: 0 }), RangeError);
  });

  it('bfdAuthKeyProblem: key lengths of §4.2-4.4 and ids 0..255', () => {
    const k = (id: number, n: number): { id: number; secret: Buffer } => ({ id, secret: Buffer.alloc(n, 0x61) });
    assert.equal(bfdAuthKeyProblem(BFD_AUTH_TYPE.SIMPLE_PASSWORD, k(0, 16)), undefined);
    assert.match(bfdAuthKeyProblem(BFD_AUTH_TYPE.SIMPLE_PASSWORD, k(0, 17)) ?? '', /1\.\.16/);
    assert.equal(bfdAuthKeyProblem(BFD_AUTH_TYPE.KEYED_MD5, k(255, 16)), undefined);
    assert.match(bfdAuthKeyProblem(BFD_AUTH_TYPE.METICULOUS_KEYED_MD5, k(1, 17)) ?? '', /1\.\.16/);
    assert.equal(bfdAuthKeyProblem(BFD_AUTH_TYPE.KEYED_SHA1, k(1, 20)), undefined);
    assert.match(bfdAuthKeyProblem(BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1, k(1, 21)) ?? '', /1\.\.20/);
    assert.match(bfdAuthKeyProblem(BFD_AUTH_TYPE.KEYED_SHA1, k(256, 4)) ?? '', /0\.\.255/);
  });
});

// --- Receive ----------------------------------------------------------------------------

describe('bfd auth: verification (§6.7.2-6.7.4) in the RFC order', () => {
  const md5 = cfg(BFD_AUTH_TYPE.KEYED_MD5, [1, 'one'], [2, 'two']);
  const metMd5 = cfg(BFD_AUTH_TYPE.METICULOUS_KEYED_MD5, [1, 'one']);
  const sha1 = cfg(BFD_AUTH_TYPE.KEYED_SHA1, [1, 'one']);
  const metSha1 = cfg(BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1, [1, 'one']);
  const pw = cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, 'secret'], [2, 'other!']);

  it('auth_type: each type against each other type', () => {
    const all = [pw, md5, metMd5, sha1, metSha1];
    for (const tx of all) {
      for (const rx of all) {
        const r = verify(signed(tx, 1), rx);
        if (tx === rx) accepted(r);
        else dropped(r, 'auth_type');
      }
    }
  });

  it('auth_type: an unknown Auth Type (kept raw by the decoder)', () => {
    const b = hex(headerBytes(28) + '09' + '04' + '01' + '00');
    dropped(verify(b, md5), 'auth_type');
  });

  it('auth_key_id: a key id not configured; any configured one is accepted (key rotation)', () => {
    dropped(verify(signed(cfg(BFD_AUTH_TYPE.KEYED_MD5, [3, 'one']), 1), md5), 'auth_key_id');
    accepted(verify(signed({ ...md5, txKeyId: 2 }, 1), md5));
    dropped(verify(signed(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [7, 'secret']), 0), pw), 'auth_key_id');
    accepted(verify(signed({ ...pw, txKeyId: 2 }, 0), pw));
  });

  it('auth_length: a password of another length than the key, a keyed section of the wrong Auth Len', () => {
    dropped(verify(signed(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, 'secre']), 0), pw), 'auth_length');
    // MD5 with Auth Len 20 (and Length to match): the decoder keeps it raw.
    const b = hex(headerBytes(44) + '02' + '14' + '01' + '00' + '00000001' + '00'.repeat(12));
    dropped(verify(b, md5), 'auth_length');
    // Auth Len 24 but the packet longer than the section: also not the rest of the packet.
    const c = hex(headerBytes(50) + '02' + '18' + '01' + '00' + '00000001' + '00'.repeat(16) + '0000');
    dropped(verify(c, md5), 'auth_length');
    // A section with no room for the Key ID.
    dropped(verify(hex(headerBytes(26) + '02' + '02'), md5), 'auth_length');
    // The key id is checked before the length, as §6.7.3 lists them.
    dropped(verify(hex(headerBytes(44) + '02' + '14' + '09' + '00' + '00000001' + '00'.repeat(12)), md5), 'auth_key_id');
  });

  it('auth_password: a different password of the same length, compared whole', () => {
    dropped(verify(signed(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, 'secreT']), 0), pw), 'auth_password');
    dropped(verify(signed(cfg(BFD_AUTH_TYPE.SIMPLE_PASSWORD, [1, 'Secret']), 0), pw), 'auth_password');
  });

  it('auth_digest: another key, any changed byte of the packet, a changed digest', () => {
    for (const c of [md5, metMd5, sha1, metSha1]) {
      const good = signed(c, 10);
      accepted(verify(good, c));
      dropped(verify(signed({ ...c, keys: [{ id: 1, secret: Buffer.from('onf') }] }, 10), c), 'auth_digest');
      for (const i of [0, 2, 5, 13, 22, 27, good.length - 1]) {
        const t = Buffer.from(good);
        t[i] = t[i]! ^ 0x01;
        const d = decodeBfdControl(t);
        if (!d.ok || d.value.auth === undefined) continue; // e.g. the version bit: not an auth matter
        dropped(verifyBfdAuth(t, 0, d.value.auth, d.value.detectMult, c, BFD_AUTH_RX_INITIAL), 'auth_digest');
      }
    }
  });

  it('a failed check leaves the receive state alone', () => {
    const rx: BfdAuthRxState = { seqKnown: true, seq: 10 };
    const bad = Buffer.from(signed(md5, 11));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    dropped(verify(bad, md5, rx), 'auth_digest');
    assert.deepEqual(rx, { seqKnown: true, seq: 10 });
  });
});

describe('bfd auth: sequence numbers (bfd.AuthSeqKnown, bfd.RcvAuthSeq)', () => {
  const keyed = cfg(BFD_AUTH_TYPE.KEYED_SHA1, [1, 'k']);
  const met = cfg(BFD_AUTH_TYPE.METICULOUS_KEYED_SHA1, [1, 'k']);
  const known = (seq: number): BfdAuthRxState => ({ seqKnown: true, seq });

  it('before any packet, any number is accepted and becomes known', () => {
    for (const seq of [0, 1, 0x7fff_ffff, 0xffff_ffff]) {
      assert.deepEqual(accepted(verify(signed(keyed, seq), keyed)), known(seq));
      assert.deepEqual(accepted(verify(signed(met, seq), met)), known(seq));
    }
  });

  it('keyed: RcvAuthSeq .. RcvAuthSeq + 3 x Detect Mult, inclusive; the same number again is fine', () => {
    // Detect Mult 3: window 100..109.
    accepted(verify(signed(keyed, 100), keyed, known(100)));
    accepted(verify(signed(keyed, 109), keyed, known(100)));
    dropped(verify(signed(keyed, 110), keyed, known(100)), 'auth_sequence');
    dropped(verify(signed(keyed, 99), keyed, known(100)), 'auth_sequence');
  });

  it('meticulous: RcvAuthSeq + 1 .. RcvAuthSeq + 3 x Detect Mult; a replay is rejected', () => {
    const first = signed(met, 100);
    const rx = accepted(verify(first, met));
    dropped(verify(first, met, rx), 'auth_sequence'); // the same packet again
    accepted(verify(signed(met, 101), met, rx));
    accepted(verify(signed(met, 109), met, rx));
    dropped(verify(signed(met, 110), met, rx), 'auth_sequence');
    dropped(verify(signed(met, 50), met, rx), 'auth_sequence');
  });

  it('the window is the received packet\'s Detect Mult', () => {
    // Detect Mult 10: up to RcvAuthSeq + 30.
    accepted(verify(signed(met, 130, { detectMult: 10 }), met, known(100)));
    dropped(verify(signed(met, 131, { detectMult: 10 }), met, known(100)), 'auth_sequence');
  });

  it('wraps at 2^32: the window runs on past 0xffffffff', () => {
    const rx = known(0xffff_fffe);
    accepted(verify(signed(met, 0xffff_ffff), met, rx));
    accepted(verify(signed(met, 0), met, rx));
    assert.deepEqual(accepted(verify(signed(met, 7), met, rx)), known(7)); // 0xfffffffe + 9 = 7
    dropped(verify(signed(met, 8), met, rx), 'auth_sequence');
    dropped(verify(signed(met, 0xffff_fffe), met, rx), 'auth_sequence');
    accepted(verify(signed(keyed, 0xffff_fffe), keyed, rx));
    accepted(verify(signed(keyed, 3), keyed, rx));
  });

  it('a run of meticulous packets across 2^32, then a replay of an old one', () => {
    let tx = { seq: 0xffff_fffd };
    let rx: BfdAuthRxState = BFD_AUTH_RX_INITIAL;
    const sent: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      const r = nextAuthSection(met, tx);
      tx = r.tx;
      const b = encodeBfdControl({ ...PKT, auth: r.auth }, undefined, 0, met);
      sent.push(b);
      rx = accepted(verify(b, met, rx));
    }
    assert.deepEqual(rx, known(2));
    assert.deepEqual(tx, { seq: 3 });
    for (const old of sent) dropped(verify(old, met, rx), 'auth_sequence');
  });

  it('authSeqInWindow directly: edges of both kinds', () => {
    assert.equal(authSeqInWindow(5, 5, 1, false), true);
    assert.equal(authSeqInWindow(5, 5, 1, true), false);
    assert.equal(authSeqInWindow(8, 5, 1, true), true);
    assert.equal(authSeqInWindow(9, 5, 1, true), false);
    assert.equal(authSeqInWindow(0, 0xffff_ffff, 1, true), true);
    assert.equal(authSeqInWindow(0xffff_ffff, 0xffff_ffff, 255, false), true);
    assert.equal(authSeqInWindow((0xffff_ffff + 765) >>> 0, 0xffff_ffff, 255, false), true);
    assert.equal(authSeqInWindow((0xffff_ffff + 766) >>> 0, 0xffff_ffff, 255, false), false);
  });
});

describe('bfd auth: through receiveBfdControl', () => {
  it('the new receive state comes back with the accepted packet; a replay is then dropped', () => {
    const met = cfg(BFD_AUTH_TYPE.METICULOUS_KEYED_MD5, [1, 'k']);
    const s = { auth: met, authRx: BFD_AUTH_RX_INITIAL };
    const b = signed(met, 500);
    const r = receiveBfdControl(b, () => s);
    assert.ok(r.ok);
    assert.deepEqual(r.authRx, { seqKnown: true, seq: 500 });
    assert.equal(s.authRx, BFD_AUTH_RX_INITIAL, 'the caller stores it, the function does not');
    s.authRx = r.authRx;
    const again = receiveBfdControl(b, () => s);
    assert.equal(again.ok, false);
    if (!again.ok) assert.equal(again.reason, 'auth_sequence');
  });
});
