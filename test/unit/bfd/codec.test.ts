/**
 * The BFD control-packet codec (H-35): (a) round trips, with and without
 * each kind of authentication section; (b) every packet captured from FRR
 * 8.4's bfdd (test/fixtures/bfd/frr-*.json, made by capture.sh there)
 * decoded, compared field by field with tcpdump's own decode stored beside
 * it, and re-encoded byte for byte; (c) a hand-written annotated vector;
 * (d) every drop reason of the reception checks, each from a packet that
 * differs from an accepted one in one field only, the RFC's order when
 * several checks fail, and the encoder's CodecErrors.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { roundTrip as roundTripCodec, throwsCodec, hex, type Codec } from '../../support/codec.js';
import {
  BFD_DROP_REASONS,
  BFD_DROP_REASON_INFO,
  bfdAuthTypeName,
  bfdControlLength,
  bfdDiagName,
  bfdStateName,
  checkBfdHeader,
  decodeBfdControl,
  encodeBfdControl,
  receiveBfdControl,
  type BfdControl,
  type BfdDrop,
  type BfdDropReason,
  type BfdRxSession,
} from '../../../src/bfd/codec.js';
import { BFD_AUTH_RX_INITIAL, type BfdAuthConfig } from '../../../src/bfd/auth.js';
import { BFD_AUTH_TYPE, BFD_DIAG, BFD_STATE } from '../../../src/bfd/spec.js';

// --- Helpers -------------------------------------------------------------------------

/** The codec in the shape of test/support/codec.ts; decode must succeed. */
const codec: Codec<BfdControl> = {
  encode: (v, buf, offset) => encodeBfdControl(v, buf, offset),
  decode: (buf, offset, length) => {
    const r = decodeBfdControl(buf, offset, length);
    assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
    return { value: r.value, bytes: r.bytes };
  },
  length: bfdControlLength,
};

/** An Up packet every check accepts on a session without authentication. */
const UP: BfdControl = {
  version: 1,
  diag: BFD_DIAG.NONE,
  state: BFD_STATE.UP,
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 0x11223344,
  yourDiscriminator: 0x55667788,
  desiredMinTxUs: 10_000,
  requiredMinRxUs: 10_000,
  requiredMinEchoRxUs: 0,
};

/** Reasons the drop tests produced; compared with BFD_DROP_REASONS at the end. */
const seen = new Set<BfdDropReason>();

/** Assert a drop with `reason`, and that nothing decoded comes back. */
function dropped(r: { ok: boolean } | BfdDrop | undefined, reason: BfdDropReason): void {
  assert.ok(r !== undefined && !r.ok, `expected drop ${reason}, got ${JSON.stringify(r)}`);
  const d = r as BfdDrop;
  assert.equal(d.reason, reason, d.detail);
  assert.deepEqual(Object.keys(d).sort(), ['detail', 'ok', 'reason'], 'a drop carries no packet');
  assert.ok(d.detail.length > 0);
  seen.add(reason);
}

/** A session the lookup finds, with authentication or without. */
function session(auth?: BfdAuthConfig): BfdRxSession & { name: string } {
  return auth === undefined ? { name: 's', authRx: BFD_AUTH_RX_INITIAL } : { name: 's', auth, authRx: BFD_AUTH_RX_INITIAL };
}

/** receiveBfdControl with a lookup that always finds `s`, or nothing for null. */
function receive(buf: Buffer, s: (BfdRxSession & { name: string }) | null = session()): ReturnType<typeof receiveBfdControl<BfdRxSession & { name: string }>> {
  return receiveBfdControl(buf, () => s ?? undefined);
}

/** A copy of `b` with `edit` applied. */
function patched(b: Buffer, edit: (c: Buffer) => void): Buffer {
  const c = Buffer.from(b);
  edit(c);
  return c;
}

// --- (a) round trips ----------------------------------------------------------------------

describe('bfd codec: round trips', () => {
  it('a plain Up packet: 24 bytes, no A bit', () => {
    const b = roundTripCodec(codec, UP);
    assert.equal(b.length, 24);
    assert.equal(b[1]! & 0x04, 0);
  });

  it('every flag and the largest field values', () => {
    const v: BfdControl = {
      ...UP,
      version: 7,
      diag: 31,
      state: BFD_STATE.INIT,
      poll: true,
      final: true,
      controlPlaneIndependent: true,
      demand: true,
      multipoint: true,
      detectMult: 255,
      myDiscriminator: 0xffff_ffff,
      yourDiscriminator: 0xffff_ffff,
      desiredMinTxUs: 0xffff_ffff,
      requiredMinRxUs: 0xffff_ffff,
      requiredMinEchoRxUs: 0xffff_ffff,
    };
    const b = roundTripCodec(codec, { ...v, version: 1 });
    assert.equal(b[1], 0x80 | 0x3b, 'Sta 2, P F C D M; A clear');
    // Version 7 encodes (tests build bad packets) but does not decode.
    dropped(decodeBfdControl(encodeBfdControl(v)), 'bad_version');
  });

  it('each state and diagnostic', () => {
    for (const state of [0, 1, 2, 3] as const) {
      for (const diag of Object.values(BFD_DIAG)) roundTripCodec(codec, { ...UP, state, diag });
    }
  });

  it('simple password, 1 and 16 bytes', () => {
    for (const pw of ['x', '0123456789abcdef']) {
      const v: BfdControl = { ...UP, auth: { kind: 'password', type: 1, keyId: 7, password: Buffer.from(pw) } };
      const b = roundTripCodec(codec, v);
      assert.equal(b.length, 24 + 3 + pw.length);
      assert.equal(b[3], b.length);
      assert.equal(b[25], 3 + pw.length, 'Auth Len');
    }
  });

  it('keyed MD5, meticulous MD5, keyed SHA1, meticulous SHA1', () => {
    for (const type of [2, 3, 4, 5] as const) {
      const n = type < 4 ? 16 : 20;
      const v: BfdControl = { ...UP, auth: { kind: 'keyed', type, keyId: 255, sequence: 0xfedc_ba98, digest: Buffer.alloc(n, 0xa5) } };
      const b = roundTripCodec(codec, v);
      assert.equal(b.length, 24 + 8 + n);
      assert.equal(b[25], 8 + n, 'Auth Len');
      assert.equal(b[27], 0, 'Reserved');
    }
  });

  it('sections the codec does not type are kept raw: unknown type, a known type with the wrong Auth Len', () => {
    roundTripCodec(codec, { ...UP, auth: { kind: 'raw', type: 9, authLen: 5, data: hex('010203') } });
    roundTripCodec(codec, { ...UP, auth: { kind: 'raw', type: 2, authLen: 20, data: Buffer.alloc(18) } });
    roundTripCodec(codec, { ...UP, auth: { kind: 'raw', type: 1, authLen: 2, data: Buffer.alloc(0) } });
    // Auth Len disagreeing with Length: raw, as received.
    roundTripCodec(codec, { ...UP, auth: { kind: 'raw', type: 1, authLen: 200, data: hex('0161') } });
  });

  it('Reserved is ignored on receipt, so a non-zero one decodes (and re-encodes as zero)', () => {
    const v: BfdControl = { ...UP, auth: { kind: 'keyed', type: 2, keyId: 1, sequence: 5, digest: Buffer.alloc(16) } };
    const b = patched(encodeBfdControl(v), (c) => (c[27] = 0xff));
    const r = decodeBfdControl(b);
    assert.ok(r.ok);
    assert.deepEqual(r.value, v);
  });

  it('bytes after Length (padding) are not part of the packet', () => {
    const b = Buffer.concat([encodeBfdControl(UP), Buffer.alloc(8, 0xee)]);
    const r = decodeBfdControl(b);
    assert.ok(r.ok);
    assert.equal(r.bytes, 24);
    assert.deepEqual(r.value, UP);
    assert.equal(receive(b).ok, true);
  });

  it('decodes from an offset within a larger buffer, bounded by `length`', () => {
    const inner = encodeBfdControl(UP);
    const big = Buffer.concat([Buffer.alloc(5, 0x20), inner, Buffer.alloc(5)]);
    const r = decodeBfdControl(big, 5, 24);
    assert.ok(r.ok);
    assert.deepEqual(r.value, UP);
    dropped(decodeBfdControl(big, 5, 23), 'bad_length');
  });
});

// --- (b) FRR 8.4 bfdd -----------------------------------------------------------------------

/** The repo root: the first directory above this file holding package.json and test/fixtures/bfd. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'test', 'fixtures', 'bfd'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root (package.json + test/fixtures/bfd) not found above the test file');
    dir = up;
  }
  return dir;
}

/** One vector of frr-*.json (capture.sh). */
interface FrrVector {
  name: string;
  what: string;
  src: string;
  dst: string;
  ttl: number;
  udpDstPort: number;
  udpSrcPort: number;
  /** tcpdump -vv's decode: its header line, then one line per group of fields. */
  tcpdump: string[];
  /** The BFD control packet (UDP payload). */
  hex: string;
}

/** The packet tcpdump 4.99 (print-bfd.c) describes, as far as its text says. Intervals in ms, as it prints them. */
interface TcpdumpView {
  version: number;
  length: number;
  state: number;
  diag: number;
  flags: string[];
  detectMult: number;
  my: number;
  your: number;
  txMs: number;
  rxMs: number;
  echoMs: number;
}

/** Parse tcpdump's decode lines: an independent decoder to compare ours with. */
function tcpdumpView(lines: string[]): TcpdumpView {
  const text = lines.join('\n');
  const m = (re: RegExp): RegExpMatchArray => {
    const r = text.match(re);
    assert.ok(r, `tcpdump text lacks ${re}:\n${text}`);
    return r;
  };
  const states: Record<string, number> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };
  const flags = m(/Flags: \[([^\]]*)\]/)[1]!;
  return {
    version: Number(m(/BFDv(\d+)/)[1]),
    length: Number(m(/BFD Length: (\d+)/)[1]),
    state: states[m(/State (\w+)/)[1]!]!,
    diag: parseInt(m(/Diagnostic: .*\(0x([0-9a-f]+)\)/)[1]!, 16),
    flags: flags === 'none' ? [] : flags.split(/,\s*/),
    detectMult: Number(m(/Detection Timer Multiplier: (\d+)/)[1]),
    my: parseInt(m(/My Discriminator: 0x([0-9a-f]+)/)[1]!, 16),
    your: parseInt(m(/Your Discriminator: 0x([0-9a-f]+)/)[1]!, 16),
    txMs: Number(m(/Desired min Tx Interval:\s+(\d+) ms/)[1]),
    rxMs: Number(m(/Required min Rx Interval:\s+(\d+) ms/)[1]),
    echoMs: Number(m(/Required min Echo Interval:\s+(\d+) ms/)[1]),
  };
}

describe('bfd codec: packets captured from FRR 8.4 bfdd', () => {
  const files = ['frr-ipv4.json', 'frr-ipv6.json', 'frr-multihop.json'];
  const all: FrrVector[] = [];
  for (const f of files) {
    const doc = JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', 'bfd', f), 'utf8')) as { provenance: string; vectors: FrrVector[] };
    it(`${f}: provenance names FRR 8.4 and the script`, () => {
      assert.match(doc.provenance, /FRR bfdd version 8\.4/);
      assert.match(doc.provenance, /test\/fixtures\/bfd\/capture\.sh/);
      assert.ok(doc.vectors.length > 0);
    });
    for (const v of doc.vectors) {
      all.push(v);
      it(`${v.name}: decodes as tcpdump does, passes the header checks, re-encodes byte for byte`, () => {
        const bytes = Buffer.from(v.hex, 'hex');
        const r = decodeBfdControl(bytes);
        assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
        const p = r.value;
        const t = tcpdumpView(v.tcpdump);
        const flags: string[] = [];
        if (p.poll) flags.push('Poll');
        if (p.final) flags.push('Final');
        if (p.controlPlaneIndependent) flags.push('Control Plane Independent');
        if (p.auth !== undefined) flags.push('Authentication Present');
        if (p.demand) flags.push('Demand');
        if (p.multipoint) flags.push('Multipoint');
        assert.deepEqual(
          {
            version: p.version,
            length: r.bytes,
            state: p.state,
            diag: p.diag,
            flags,
            detectMult: p.detectMult,
            my: p.myDiscriminator,
            your: p.yourDiscriminator,
            txMs: Math.floor(p.desiredMinTxUs / 1000),
            rxMs: Math.floor(p.requiredMinRxUs / 1000),
            echoMs: Math.floor(p.requiredMinEchoRxUs / 1000),
          },
          t,
        );
        assert.equal(r.bytes, bytes.length);
        assert.equal(checkBfdHeader(p), undefined, 'FRR passes the header checks');
        assert.deepEqual(encodeBfdControl(p), bytes);
        // RFC 5881 §4 / RFC 5883 §5: ports; RFC 5881 §5: TTL 255 (FRR sends 255 on multihop too).
        assert.equal(v.udpDstPort, v.name.startsWith('multihop') ? 4784 : 3784);
        assert.ok(v.udpSrcPort >= 49152 && v.udpSrcPort <= 65535);
        assert.equal(v.ttl, 255);
      });
    }
  }

  it('the capture covers Down, Init, Up, AdminDown, Poll, Final and diagnostics 0, 1, 3', () => {
    const decoded = all.map((v) => {
      const r = decodeBfdControl(Buffer.from(v.hex, 'hex'));
      assert.ok(r.ok);
      return r.value;
    });
    for (const s of [0, 1, 2, 3]) assert.ok(decoded.some((p) => p.state === s), `state ${bfdStateName(s)}`);
    assert.ok(decoded.some((p) => p.poll));
    assert.ok(decoded.some((p) => p.final));
    for (const d of [0, 1, 3]) assert.ok(decoded.some((p) => p.diag === d), `diag ${d}`);
    assert.ok(decoded.some((p) => p.yourDiscriminator === 0 && p.state === BFD_STATE.DOWN));
  });
});

// --- (c) a hand-written vector ---------------------------------------------------------------

describe('bfd codec: annotated bytes', () => {
  it('an Init packet with Poll, diag 3, keyed SHA1 section', () => {
    const bytes = hex(
      [
        '23', // version 1 (001), diag 3 (00011): neighbor signaled session down
        'a4', // Sta 2 (Init) = 10, P = 1, F 0, C 0, A = 1, D 0, M 0 -> 1010 0100
        '05', // Detect Mult 5
        '34', // Length 52 = 24 + 28
        '00000001', // My Discriminator 1
        '00000000', // Your Discriminator 0 (in Init: the header checks drop it, below)
        '000f4240', // Desired Min TX 1,000,000 µs
        '000186a0', // Required Min RX 100,000 µs
        '00000000', // Required Min Echo RX 0: no echo
        '04', // Auth Type 4: keyed SHA1
        '1c', // Auth Len 28
        '02', // Auth Key ID 2
        '00', // Reserved
        '80000000', // Sequence Number 2^31
        '00112233445566778899aabbccddeeff00112233', // Auth Key/Hash, 20 bytes
      ].join(''),
    );
    const r = decodeBfdControl(bytes);
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      version: 1,
      diag: 3,
      state: BFD_STATE.INIT,
      poll: true,
      final: false,
      controlPlaneIndependent: false,
      demand: false,
      multipoint: false,
      detectMult: 5,
      myDiscriminator: 1,
      yourDiscriminator: 0,
      desiredMinTxUs: 1_000_000,
      requiredMinRxUs: 100_000,
      requiredMinEchoRxUs: 0,
      auth: { kind: 'keyed', type: 4, keyId: 2, sequence: 0x8000_0000, digest: hex('00112233445566778899aabbccddeeff00112233') },
    });
    assert.equal(r.bytes, 52);
    assert.deepEqual(encodeBfdControl(r.value), bytes);
    // Init with Your Discriminator 0 breaks §6.8.6's rule.
    dropped(checkBfdHeader(r.value), 'zero_your_discr');
  });
});

// --- (d) drops ---------------------------------------------------------------------------------

describe('bfd codec: reception checks (RFC 5880 §6.8.6), one reason per fault', () => {
  const md5: BfdAuthConfig = { type: BFD_AUTH_TYPE.KEYED_MD5, keys: [{ id: 1, secret: Buffer.from('key') }], txKeyId: 1 };
  const pw: BfdAuthConfig = { type: BFD_AUTH_TYPE.SIMPLE_PASSWORD, keys: [{ id: 1, secret: Buffer.from('secret') }], txKeyId: 1 };
  const good = encodeBfdControl(UP);
  const withPw = encodeBfdControl({ ...UP, auth: { kind: 'password', type: 1, keyId: 1, password: Buffer.from('secret') } });

  it('the base packets are accepted', () => {
    const r = receive(good);
    assert.ok(r.ok);
    assert.deepEqual(r.packet, UP);
    assert.equal(r.session.name, 's');
    assert.ok(receive(withPw, session(pw)).ok);
    // Your Discriminator 0 is fine in Down and AdminDown.
    for (const state of [BFD_STATE.DOWN, BFD_STATE.ADMIN_DOWN]) assert.ok(receive(encodeBfdControl({ ...UP, state, yourDiscriminator: 0 })).ok);
  });

  it('bad_version: 0 and 2..7', () => {
    for (const v of [0, 2, 3, 7]) dropped(receive(patched(good, (c) => (c[0] = (v << 5) | (c[0]! & 0x1f)))), 'bad_version');
  });

  it('bad_length: empty, shorter than the fields, Length < 24, Length > payload', () => {
    dropped(receive(Buffer.alloc(0)), 'bad_length');
    dropped(receive(good.subarray(0, 3)), 'bad_length');
    dropped(receive(good.subarray(0, 23)), 'bad_length'); // Length 24 > 23-byte payload
    dropped(receive(patched(good, (c) => (c[3] = 23))), 'bad_length');
    dropped(receive(patched(good, (c) => (c[3] = 0))), 'bad_length');
    dropped(receive(patched(good, (c) => (c[3] = 25))), 'bad_length');
  });

  it('bad_length: the A bit with Length 24 or 25 (< 26)', () => {
    dropped(receive(patched(good, (c) => (c[1] = c[1]! | 0x04))), 'bad_length');
    const b = Buffer.concat([good, hex('01')]);
    b[1] = b[1]! | 0x04;
    b[3] = 25;
    dropped(receive(b), 'bad_length');
    // Length 26 with the A bit passes the length check; the auth checks judge it.
    const c = Buffer.concat([good, hex('0102')]);
    c[1] = c[1]! | 0x04;
    c[3] = 26;
    dropped(receive(c, session(pw)), 'auth_length');
  });

  it('zero_detect_mult', () => dropped(receive(patched(good, (c) => (c[2] = 0))), 'zero_detect_mult'));
  it('multipoint', () => dropped(receive(patched(good, (c) => (c[1] = c[1]! | 0x01))), 'multipoint'));
  it('zero_my_discr', () => dropped(receive(patched(good, (c) => c.writeUInt32BE(0, 4))), 'zero_my_discr'));
  it('zero_your_discr: in Up and in Init', () => {
    dropped(receive(patched(good, (c) => c.writeUInt32BE(0, 8))), 'zero_your_discr');
    dropped(receive(encodeBfdControl({ ...UP, state: BFD_STATE.INIT, yourDiscriminator: 0 })), 'zero_your_discr');
  });
  it('no_session: the lookup finds none, by discriminator or by address', () => {
    dropped(receive(good, null), 'no_session');
    dropped(receive(encodeBfdControl({ ...UP, state: BFD_STATE.DOWN, yourDiscriminator: 0 }), null), 'no_session');
  });
  it('the lookup sees the decoded packet', () => {
    let asked: BfdControl | undefined;
    receiveBfdControl(good, (p) => {
      asked = p;
      return undefined;
    });
    assert.deepEqual(asked, UP);
  });
  it('auth_unexpected: the A bit on a session without authentication', () => dropped(receive(withPw), 'auth_unexpected'));
  it('auth_missing: no A bit on a session with authentication', () => {
    dropped(receive(good, session(pw)), 'auth_missing');
    dropped(receive(good, session(md5)), 'auth_missing');
  });
  it('auth_type, auth_key_id, auth_length, auth_password through the whole path (the rest: auth.test.ts)', () => {
    dropped(receive(withPw, session(md5)), 'auth_type');
    dropped(receive(patched(withPw, (c) => (c[26] = 2)), session(pw)), 'auth_key_id');
    dropped(receive(patched(withPw, (c) => (c[25] = 8)), session(pw)), 'auth_length');
    dropped(receive(patched(withPw, (c) => (c[29] = 0x21)), session(pw)), 'auth_password');
  });

  it('several faults: the first in the RFC\'s order wins', () => {
    // version + everything else
    const all = Buffer.from(good);
    all[0] = 0x40; // version 2
    all[2] = 0; // detect mult 0
    all[1] = all[1]! | 0x01; // M
    all.writeUInt32BE(0, 4); // my discr 0
    dropped(receive(all), 'bad_version');
    all[0] = 0x20;
    dropped(receive(patched(all, (c) => (c[3] = 30))), 'bad_length');
    dropped(receive(all), 'zero_detect_mult');
    all[2] = 3;
    dropped(receive(all), 'multipoint');
    all[1] = all[1]! & ~0x01;
    dropped(receive(all, null), 'zero_my_discr');
    all.writeUInt32BE(9, 4);
    // zero Your Discriminator in Up comes before the lookup and the auth checks
    dropped(receive(patched(withPw, (c) => c.writeUInt32BE(0, 8)), null), 'zero_your_discr');
    // no session comes before the auth checks
    dropped(receive(withPw, null), 'no_session');
  });

  it('the drop list is closed, ordered as the checks run, and each reason is documented', () => {
    assert.equal(new Set(BFD_DROP_REASONS).size, BFD_DROP_REASONS.length);
    assert.deepEqual(Object.keys(BFD_DROP_REASON_INFO), [...BFD_DROP_REASONS]);
    for (const r of BFD_DROP_REASONS) assert.match(r, /^[a-z_]+$/, 'a Prometheus label value');
    assert.deepEqual(
      BFD_DROP_REASONS.filter((r) => BFD_DROP_REASON_INFO[r].by === 'runtime'),
      ['bad_ttl', 'no_session'],
    );
  });

  after(() => {
    // Every codec-side reason was produced here or in auth.test.ts (digest, sequence); bad_ttl is the runtime's.
    const elsewhere = new Set<BfdDropReason>(['bad_ttl', 'auth_sequence', 'auth_digest']);
    const missing = BFD_DROP_REASONS.filter((r) => !seen.has(r) && !elsewhere.has(r));
    assert.deepEqual(missing, [], 'drop reasons without a test');
  });
});

describe('bfd codec: encoder errors and names', () => {
  it('fields out of range throw CodecError BAD_VALUE', () => {
    throwsCodec(() => encodeBfdControl({ ...UP, detectMult: 256 }), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in detectMult: 256 (offset 0)');
    throwsCodec(() => encodeBfdControl({ ...UP, version: 8 }), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in version: 8 (offset 0)');
    throwsCodec(() => encodeBfdControl({ ...UP, diag: 32 }), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in diag: 32 (offset 0)');
    throwsCodec(() => encodeBfdControl({ ...UP, myDiscriminator: -1 }), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in myDiscriminator: -1 (offset 0)');
    throwsCodec(() => encodeBfdControl({ ...UP, desiredMinTxUs: 2 ** 32 }), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in desiredMinTxUs: 4294967296 (offset 0)');
    throwsCodec(() => encodeBfdControl({ ...UP, requiredMinRxUs: 1.5 }), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in requiredMinRxUs: 1.5 (offset 0)');
  });

  it('bad authentication sections throw CodecError BAD_VALUE', () => {
    const pw = (n: number): BfdControl => ({ ...UP, auth: { kind: 'password', type: 1, keyId: 1, password: Buffer.alloc(n, 0x61) } });
    throwsCodec(() => encodeBfdControl(pw(0)), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in auth.password length: 0 (offset 0)');
    throwsCodec(() => encodeBfdControl(pw(17)), 'XLB_ERR_CODEC_BAD_VALUE', 'bfd: bad value in auth.password length: 17 (offset 0)');
    throwsCodec(
      () => encodeBfdControl({ ...UP, auth: { kind: 'keyed', type: 4, keyId: 1, sequence: 0, digest: Buffer.alloc(16) } }),
      'XLB_ERR_CODEC_BAD_VALUE',
      'bfd: bad value in auth.digest length: 16 (offset 0)',
    );
    throwsCodec(
      () => encodeBfdControl({ ...UP, auth: { kind: 'keyed', type: 2, keyId: 256, sequence: 0, digest: Buffer.alloc(16) } }),
      'XLB_ERR_CODEC_BAD_VALUE',
      'bfd: bad value in auth.keyId: 256 (offset 0)',
    );
    throwsCodec(
      () => encodeBfdControl({ ...UP, auth: { kind: 'raw', type: 1, authLen: 2, data: Buffer.alloc(230) } }),
      'XLB_ERR_CODEC_BAD_VALUE',
      'bfd: bad value in auth.data length: 230 (offset 0)',
    );
  });

  it('no room in the output buffer throws BAD_LENGTH', () => {
    throwsCodec(() => encodeBfdControl(UP, Buffer.alloc(30), 7), 'XLB_ERR_CODEC_BAD_LENGTH', 'bfd: bad length in output buffer: 30 (offset 7)');
  });

  it('unknown values have UNKNOWN_<n> names (H-34)', () => {
    assert.equal(bfdDiagName(1), 'control detection time expired');
    assert.equal(bfdDiagName(9), 'UNKNOWN_9');
    assert.equal(bfdAuthTypeName(5), 'meticulous-keyed-sha1');
    assert.equal(bfdAuthTypeName(0), 'UNKNOWN_0');
    assert.equal(bfdStateName(3), 'Up');
  });
});
