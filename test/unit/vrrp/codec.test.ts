/**
 * The VRRP codec (H-35): (a) round trips of both versions and families,
 * priority 0, unknown types kept; (b) adverts captured from keepalived 2.2.7
 * (test/fixtures/vrrp/*.hex, made by capture.sh there) decoded field by
 * field, checksum-verified and re-encoded byte for byte; (c) hand-written
 * annotated vectors, among them the `vrrp-only` (v3_checksum_as_v2) checksum
 * that 2.2.7 cannot produce; (d) error vectors: CodecError codes of the
 * decoders and encoder, and every drop reason of validateAdvert, each
 * asserting that no advert comes back.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIpv6Header } from '../../../src/net/arp-nd.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodecError } from '../../../src/errors.js';
import {
  VRRP_AUTH,
  VRRP_DROP_REASONS,
  VRRP_DROP_REASON_INFO,
  VRRP_GROUP_V4,
  VRRP_GROUP_V6,
  VRRP_WARNINGS,
  advertIntervalMs,
  advertIntervalToWire,
  checkVrrpChecksum,
  decodeIpv4Header,
  decodeVrrp,
  encodeVrrp,
  peekVrrpVrid,
  validateAdvert,
  vrrpAuthPass,
  vrrpAuthTypeName,
  vrrpChecksum,
  vrrpLength,
  vrrpTypeName,
  type VrrpAdvert,
  type VrrpChecksumContext,
  type VrrpCheckResult,
  type VrrpDropReason,
  type VrrpExpect,
  type VrrpRxMeta,
} from '../../../src/vrrp/codec.js';

// --- Fixtures -------------------------------------------------------------------

/** The repo root: the first directory above this file holding package.json and the fixtures (works from dist/ and .out-*). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'test', 'fixtures', 'vrrp'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root (package.json + test/fixtures/vrrp) not found above the test file');
    dir = up;
  }
  return dir;
}

/** A captured packet: its provenance line and its bytes (IP header first). */
interface Fixture {
  provenance: string;
  bytes: Buffer;
}

/** Read test/fixtures/vrrp/<name>.hex: `#` comment lines, then hex. */
function fixture(name: string): Fixture {
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'vrrp', `${name}.hex`), 'utf8');
  const lines = text.split('\n');
  const hex = lines.filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, '');
  assert.match(hex, /^([0-9a-f]{2})+$/, `${name}.hex: hex`);
  return { provenance: lines[0] ?? '', bytes: Buffer.from(hex, 'hex') };
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// --- Helpers ----------------------------------------------------------------------

/** decode(encode(v)) equals v; lengths agree; re-encoding is byte-equal; encoding at an offset works; the checksum verifies. */
function roundTrip(v: VrrpAdvert, ctx: VrrpChecksumContext): Buffer {
  const buf = encodeVrrp(v, ctx);
  assert.equal(buf.length, vrrpLength(v));
  const d = decodeVrrp(buf, 0, { family: v.family, verify: ctx });
  assert.equal(d.bytes, buf.length);
  assert.deepEqual(d.value, v);
  assert.deepEqual(encodeVrrp(d.value, ctx), buf);
  const big = Buffer.alloc(buf.length + 20, 0xee);
  assert.equal(encodeVrrp(v, ctx, big, 10), big);
  assert.deepEqual(big.subarray(10, 10 + buf.length), buf);
  assert.deepEqual(big.subarray(0, 10), Buffer.alloc(10, 0xee), 'nothing written before the offset');
  assert.deepEqual(big.subarray(10 + buf.length), Buffer.alloc(10, 0xee), 'nothing written after the message');
  assert.deepEqual(decodeVrrp(big, 10, { family: v.family, verify: ctx }), { value: v, bytes: buf.length });
  assert.equal(checkVrrpChecksum(buf, 0, buf.length, v.family, ctx).ok, true);
  return buf;
}

/** Assert that `fn` throws a CodecError with `code` (and the exact message, when given). */
function throwsCodec(fn: () => unknown, code: string, message?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CodecError, `CodecError expected, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

/** Reasons the drop tests below produced; checked against VRRP_DROP_REASONS at the end. */
const seenReasons = new Set<VrrpDropReason>();

/** Assert a drop with `reason` (and a detail matching `re`), and that no advert comes back. */
function dropped(r: VrrpCheckResult, reason: VrrpDropReason, re?: RegExp): void {
  assert.equal(r.ok, false, `expected drop ${reason}, got ${JSON.stringify(r)}`);
  if (r.ok) return;
  assert.equal(r.reason, reason, r.detail);
  if (re !== undefined) assert.match(r.detail, re);
  assert.deepEqual(Object.keys(r).sort(), ['detail', 'ok', 'reason'], 'a drop carries no advert');
  seenReasons.add(reason);
}

/** Assert acceptance with exactly these warning kinds. */
function accepted(r: VrrpCheckResult, warnings: string[] = []): VrrpAdvert {
  assert.equal(r.ok, true, r.ok ? '' : `${r.reason}: ${r.detail}`);
  if (!r.ok) throw new Error('unreachable');
  assert.deepEqual(
    r.warnings.map((w) => w.kind),
    warnings,
  );
  return r.advert;
}

/** A copy of `b` with `edit` applied. */
function patched(b: Buffer, edit: (c: Buffer) => void): Buffer {
  const c = Buffer.from(b);
  edit(c);
  return c;
}

/** Flip bits of one byte in place. */
function xor(b: Buffer, i: number, mask: number): void {
  b[i] = b[i]! ^ mask;
}

const zeros8 = Buffer.alloc(8);

// --- (b) Captured vectors --------------------------------------------------------------

/** One captured advert and what it must decode to. */
interface Captured {
  name: string;
  family: 4 | 6;
  src: string;
  dst: string;
  /** The VRRP checksum on the wire. */
  checksum: number;
  advert: VrrpAdvert;
  /** The instance config that produced it, as validateAdvert's expect. */
  expect: VrrpExpect;
}

const V2_NOAUTH: VrrpAdvert = {
  version: 2,
  type: 1,
  vrid: 51,
  priority: 200,
  family: 4,
  addresses: ['10.251.1.1', '10.251.1.2', '10.251.1.3'],
  authType: 0,
  authData: zeros8,
  advertIntS: 1,
};
const V3_IPV6: VrrpAdvert = {
  version: 3,
  type: 1,
  vrid: 54,
  priority: 120,
  family: 6,
  addresses: ['fe80::54', 'fd00:251:0:54::1'],
  maxAdvertIntCs: 100,
};
const V3_UNICAST: VrrpAdvert = { version: 3, type: 1, vrid: 55, priority: 110, family: 4, addresses: ['10.251.3.1'], maxAdvertIntCs: 100 };
const LL_A = 'fe80::ff:fefb:1'; // EUI-64 of capture.sh's fixed MAC 02:00:00:fb:00:01

const EXPECT_V2_NOAUTH: VrrpExpect = { vrid: 51, version: 2, advertIntMs: 1000, unicast: false, addresses: ['10.251.1.1', '10.251.1.2', '10.251.1.3'] };
const EXPECT_V2_PASS: VrrpExpect = {
  vrid: 52,
  version: 2,
  authType: VRRP_AUTH.PASS,
  authPass: vrrpAuthPass('s3cr3t'),
  advertIntMs: 2000,
  unicast: false,
  addresses: ['10.251.1.20'],
};
const EXPECT_V3_IPV4: VrrpExpect = { vrid: 53, version: 3, advertIntMs: 500, unicast: false, addresses: ['10.251.2.1', '10.251.2.2'] };
const EXPECT_V3_IPV6: VrrpExpect = { vrid: 54, version: 3, advertIntMs: 1000, unicast: false, addresses: ['fe80::54', 'fd00:251:0:54::1'] };
const EXPECT_V3_UNICAST: VrrpExpect = {
  vrid: 55,
  version: 3,
  advertIntMs: 1000,
  unicast: true,
  peers: [{ address: '10.251.0.1' }],
  checkUnicastSrc: true,
  addresses: ['10.251.3.1'],
};

const CAPTURED: Captured[] = [
  { name: 'v2-noauth', family: 4, src: '10.251.0.1', dst: VRRP_GROUP_V4, checksum: 0xf2d0, advert: V2_NOAUTH, expect: EXPECT_V2_NOAUTH },
  {
    name: 'v2-pass',
    family: 4,
    src: '10.251.0.1',
    dst: VRRP_GROUP_V4,
    checksum: 0x319f,
    advert: {
      version: 2,
      type: 1,
      vrid: 52,
      priority: 150,
      family: 4,
      addresses: ['10.251.1.20'],
      authType: VRRP_AUTH.PASS,
      authData: Buffer.from('s3cr3t\0\0', 'latin1'),
      advertIntS: 2,
    },
    expect: EXPECT_V2_PASS,
  },
  {
    name: 'v3-ipv4',
    family: 4,
    src: '10.251.0.1',
    dst: VRRP_GROUP_V4,
    checksum: 0x650e,
    advert: { version: 3, type: 1, vrid: 53, priority: 100, family: 4, addresses: ['10.251.2.1', '10.251.2.2'], maxAdvertIntCs: 50 },
    expect: EXPECT_V3_IPV4,
  },
  { name: 'v3-ipv6', family: 6, src: LL_A, dst: VRRP_GROUP_V6, checksum: 0x59bd, advert: V3_IPV6, expect: EXPECT_V3_IPV6 },
  { name: 'v3-unicast', family: 4, src: '10.251.0.1', dst: '10.251.0.2', checksum: 0x3bf2, advert: V3_UNICAST, expect: EXPECT_V3_UNICAST },
  { name: 'v2-priority0', family: 4, src: '10.251.0.1', dst: VRRP_GROUP_V4, checksum: 0xbad1, advert: { ...V2_NOAUTH, priority: 0 }, expect: EXPECT_V2_NOAUTH },
  { name: 'v3-ipv6-priority0', family: 6, src: LL_A, dst: VRRP_GROUP_V6, checksum: 0xd1bd, advert: { ...V3_IPV6, priority: 0 }, expect: EXPECT_V3_IPV6 },
  {
    name: 'v3-unicast-priority0',
    family: 4,
    src: '10.251.0.1',
    dst: '10.251.0.2',
    checksum: 0xa9f2,
    advert: { ...V3_UNICAST, priority: 0 },
    expect: EXPECT_V3_UNICAST,
  },
];

/** Split a captured packet: the VRRP message, its offset, and the addresses and TTL of its IP header. */
function split(f: Fixture, family: 4 | 6): { off: number; vrrp: Buffer; src: string; dst: string; ttl: number; meta: VrrpRxMeta } {
  if (family === 4) {
    const { value: ip, bytes } = decodeIpv4Header(f.bytes);
    assert.equal(ip.totalLength, f.bytes.length);
    return { off: bytes, vrrp: f.bytes.subarray(bytes), src: ip.src, dst: ip.dst, ttl: ip.ttl, meta: { family: 4 } };
  }
  const { value: ip6, bytes } = decodeIpv6Header(f.bytes);
  assert.equal(ip6.payloadLength, f.bytes.length - bytes);
  return {
    off: bytes,
    vrrp: f.bytes.subarray(bytes),
    src: ip6.source,
    dst: ip6.destination,
    ttl: ip6.hopLimit,
    meta: { family: 6, src: ip6.source, dst: ip6.destination, hopLimit: ip6.hopLimit },
  };
}

/** What validateAdvert gets for a captured packet: IPv4 the whole datagram, IPv6 the payload. */
function rx(c: Captured, f = fixture(c.name)): { packet: Buffer; meta: VrrpRxMeta } {
  const s = split(f, c.family);
  return { packet: c.family === 4 ? f.bytes : s.vrrp, meta: s.meta };
}

describe('vrrp codec: captured keepalived 2.2.7 adverts', () => {
  for (const c of CAPTURED) {
    it(`${c.name}: decodes field by field, checksum verifies, re-encodes byte for byte`, () => {
      const f = fixture(c.name);
      assert.match(f.provenance, /^# provenance: keepalived v2\.2\.7 \(Debian GNU\/Linux 12 .*captured with tcpdump /);
      const s = split(f, c.family);
      assert.equal(s.src, c.src);
      assert.equal(s.dst, c.dst);
      assert.equal(s.ttl, 255, 'keepalived sends TTL/hop limit 255, unicast too');
      if (c.family === 4) {
        const ip = decodeIpv4Header(f.bytes).value;
        assert.equal(ip.protocol, 112);
        assert.equal(ip.tos, 0xc0);
        assert.equal(ip.headerLength, 20);
      } else {
        const ip6 = decodeIpv6Header(f.bytes).value;
        assert.equal(ip6.nextHeader, 112);
        assert.equal(ip6.trafficClass, 0xc0);
      }

      const ctx: VrrpChecksumContext = { src: s.src, dst: s.dst };
      const { value: v, bytes } = decodeVrrp(f.bytes, s.off, { family: c.family, verify: ctx });
      assert.equal(bytes, s.vrrp.length);
      assert.equal(v.version, c.advert.version);
      assert.equal(v.type, c.advert.type);
      assert.equal(v.vrid, c.advert.vrid);
      assert.equal(v.priority, c.advert.priority);
      assert.equal(v.family, c.advert.family);
      assert.deepEqual(v.addresses, c.advert.addresses);
      if (v.version === 2 && c.advert.version === 2) {
        assert.equal(v.authType, c.advert.authType);
        assert.deepEqual(v.authData, c.advert.authData);
        assert.equal(v.advertIntS, c.advert.advertIntS);
      } else if (v.version === 3 && c.advert.version === 3) {
        assert.equal(v.maxAdvertIntCs, c.advert.maxAdvertIntCs);
      } else {
        assert.fail(`version ${v.version}`);
      }
      assert.deepEqual(v, c.advert);
      assert.equal(advertIntervalMs(v), c.expect.advertIntMs);

      // The checksum: as on the wire, verified, and recomputed.
      assert.equal(s.vrrp.readUInt16BE(6), c.checksum);
      assert.deepEqual(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, c.family, ctx), { ok: true, got: c.checksum, expected: c.checksum });
      assert.equal(vrrpChecksum(s.vrrp, 0, s.vrrp.length, c.family, ctx), c.checksum);

      // Re-encoding gives keepalived's bytes, and the round trip holds.
      assert.deepEqual(encodeVrrp(v, ctx), s.vrrp);
      assert.deepEqual(roundTrip(v, ctx), s.vrrp);

      // The instance that sent it would accept it.
      const { packet, meta } = rx(c, f);
      assert.equal(peekVrrpVrid(packet, c.family), c.advert.vrid);
      const r = validateAdvert(packet, meta, c.expect);
      assert.deepEqual(accepted(r), c.advert);
      assert.ok(r.ok);
      assert.deepEqual([r.src, r.dst, r.ttl], [c.src, c.dst, 255]);
    });
  }

  it('v3 IPv4: keepalived 2.2.7 checksums with the pseudo-header (so the RFC 9568 mode rejects it)', () => {
    const c = CAPTURED.find((x) => x.name === 'v3-ipv4')!;
    const s = split(fixture(c.name), 4);
    const ctx = { src: s.src, dst: s.dst };
    assert.equal(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 4, { ...ctx, checksum: 'pseudo-header' }).ok, true);
    assert.deepEqual(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 4, { ...ctx, checksum: 'vrrp-only' }), { ok: false, got: 0x650e, expected: 0x509d });
  });

  it('v3 unicast: the pseudo-header uses the unicast destination (not the group)', () => {
    const s = split(fixture('v3-unicast'), 4);
    assert.equal(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 4, { src: s.src, dst: '10.251.0.2' }).ok, true);
    assert.equal(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 4, { src: s.src, dst: VRRP_GROUP_V4 }).ok, false);
  });

  it('v2: the checksum ignores addresses (no pseudo-header in any mode)', () => {
    const s = split(fixture('v2-noauth'), 4);
    for (const checksum of ['pseudo-header', 'vrrp-only'] as const) {
      assert.equal(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 4, { src: '192.0.2.1', dst: '192.0.2.2', checksum }).ok, true);
    }
  });

  it('v3 IPv6: always the pseudo-header; a scoped source is fine', () => {
    const s = split(fixture('v3-ipv6'), 6);
    assert.equal(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 6, { src: `${LL_A}%xlbvc-a0`, dst: VRRP_GROUP_V6, checksum: 'vrrp-only' }).ok, true);
    assert.equal(checkVrrpChecksum(s.vrrp, 0, s.vrrp.length, 6, { src: 'fe80::1', dst: VRRP_GROUP_V6 }).ok, false);
  });
});

// --- (c) Hand-written vectors ------------------------------------------------------------

describe('vrrp codec: hand-written vectors', () => {
  it('v3 IPv4 with the vrrp-only checksum (v3_checksum_as_v2; keepalived 2.2.7 cannot send it)', () => {
    // Hand-computed, because keepalived only has v3_checksum_as_v2 from 2.2.8 on.
    // The v3-ipv4 capture with the checksum over the VRRP message alone:
    //   3135 + 6402 + 0032 + 0afb + 0201 + 0afb + 0202 = af62 (no carry), ~af62 = 509d.
    // Cross-check of the captured one: pseudo-header 0afb+0001+e000+0012+0070+0010 = eb8e;
    //   af62 + eb8e = 19af0 -> 9af1, ~9af1 = 650e, the captured value.
    const bytes = [
      0x31, // version 3, type 1 (ADVERTISEMENT)
      0x35, // VRID 53
      0x64, // priority 100
      0x02, // count 2
      0x00, 0x32, // rsvd 0, max advert int 50 cs (0.5 s)
      0x50, 0x9d, // checksum without pseudo-header
      0x0a, 0xfb, 0x02, 0x01, // 10.251.2.1
      0x0a, 0xfb, 0x02, 0x02, // 10.251.2.2
    ];
    const v: VrrpAdvert = { version: 3, type: 1, vrid: 53, priority: 100, family: 4, addresses: ['10.251.2.1', '10.251.2.2'], maxAdvertIntCs: 50 };
    const ctx: VrrpChecksumContext = { src: '10.251.0.1', dst: VRRP_GROUP_V4, checksum: 'vrrp-only' };
    assert.deepEqual([...encodeVrrp(v, ctx)], bytes);
    assert.deepEqual(decodeVrrp(Buffer.from(bytes), 0, { verify: ctx }), { value: v, bytes: 16 });
    roundTrip(v, ctx);
    throwsCodec(
      () => decodeVrrp(Buffer.from(bytes), 0, { verify: { ...ctx, checksum: 'pseudo-header' } }),
      'XLB_ERR_CODEC_BAD_CHECKSUM',
      'vrrp: bad checksum 0x509d, expected 0x650e (offset 6)',
    );
    // As a datagram to an RFC 9568 instance: accepted; to a default one: chk_err.
    const ip = hex('45c0 0024 0001 0000 ff70 0000 0afb0001 e0000012');
    const pkt = Buffer.concat([ip, Buffer.from(bytes)]);
    accepted(validateAdvert(pkt, { family: 4 }, { ...EXPECT_V3_IPV4, checksum: 'vrrp-only' }));
    dropped(validateAdvert(pkt, { family: 4 }, EXPECT_V3_IPV4), 'chk_err', /0x509d, expected 0x650e \(with pseudo-header\)/);
  });

  it('v2 with an unknown type and an unknown auth type: kept as received', () => {
    const bytes = [
      0x27, // version 2, type 7 (unknown)
      0x01, // VRID 1
      0xff, // priority 255 (owner)
      0x01, // count 1
      0x09, // auth type 9 (unknown)
      0x03, // advert int 3 s
      0x00, 0x00, // checksum (filled below)
      0xc0, 0x00, 0x02, 0x01, // 192.0.2.1
      0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, // auth data "abcdefgh"
    ];
    const b = Buffer.from(bytes);
    const ctx = { src: '192.0.2.10', dst: VRRP_GROUP_V4 };
    b.writeUInt16BE(vrrpChecksum(b, 0, b.length, 4, ctx), 6);
    const { value: v } = decodeVrrp(b, 0, { verify: ctx });
    assert.deepEqual(v, {
      version: 2,
      type: 7,
      vrid: 1,
      priority: 255,
      family: 4,
      addresses: ['192.0.2.1'],
      authType: 9,
      authData: Buffer.from('abcdefgh'),
      advertIntS: 3,
    });
    assert.equal(vrrpTypeName(v.type), 'UNKNOWN_7');
    assert.equal(v.version === 2 && vrrpAuthTypeName(v.authType), 'UNKNOWN_9');
    assert.deepEqual(encodeVrrp(v, ctx), b);
  });

  it('v3: the reserved bits are ignored on receipt and sent as zero (RFC 5798 §5.2.6)', () => {
    const bytes = [
      0x31, // version 3, type 1
      0x0a, // VRID 10
      0x00, // priority 0 (resign)
      0x00, // count 0
      0xf0, 0x64, // rsvd 0xf, max advert int 100 cs
      0x00, 0x00, // checksum (not verified here)
    ];
    const { value: v, bytes: n } = decodeVrrp(Buffer.from(bytes), 0, { family: 6 });
    assert.equal(n, 8);
    assert.deepEqual(v, { version: 3, type: 1, vrid: 10, priority: 0, family: 6, addresses: [], maxAdvertIntCs: 100 });
    assert.deepEqual([...encodeVrrp(v, { src: 'fe80::1', dst: VRRP_GROUP_V6 }).subarray(0, 6)], [0x31, 0x0a, 0x00, 0x00, 0x00, 0x64]);
  });

  it('v3 IPv6 resign with the IPv6 pseudo-header checksum', () => {
    // fe80::1 -> ff02::12, VRID 1, priority 0, max advert int 100 cs, one address fe80::1.
    // Pseudo-header: fe80 + 0001 + ff02 + 0012 + 0018 (length 24) + 0070 (next header 112) = 1fe1d -> fe1e.
    // Message: 3101 + 0001 + 0064 + fe80 + 0001 = 12fe7 -> 2fe8. Sum fe1e + 2fe8 = 12e06 -> 2e07; ~2e07 = d1f8.
    const bytes = [
      0x31, 0x01, 0x00, 0x01, // v3 type 1, VRID 1, priority 0, count 1
      0x00, 0x64, // max advert int 100 cs
      0xd1, 0xf8, // checksum
      0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // fe80::1
    ];
    const v: VrrpAdvert = { version: 3, type: 1, vrid: 1, priority: 0, family: 6, addresses: ['fe80::1'], maxAdvertIntCs: 100 };
    const ctx = { src: 'fe80::1', dst: VRRP_GROUP_V6 };
    assert.deepEqual([...encodeVrrp(v, ctx)], bytes);
    accepted(
      validateAdvert(Buffer.from(bytes), { family: 6, ...ctx, hopLimit: 255 }, { vrid: 1, version: 3, advertIntMs: 1000, unicast: false }),
    );
  });

  it('an IPv4 header with options: the VRRP message starts after IHL × 4', () => {
    const s = split(fixture('v3-unicast'), 4);
    // IHL 6: one 4-byte option (router alert, RFC 2113: 94 04 00 00); total length 36.
    const ip = hex('46c0 0024 0001 0000 ff70 0000 0afb0001 0afb0002 94040000');
    const pkt = Buffer.concat([ip, s.vrrp]);
    const { value: h, bytes } = decodeIpv4Header(pkt);
    assert.equal(bytes, 24);
    assert.deepEqual([h.headerLength, h.totalLength, h.ttl, h.protocol, h.src, h.dst], [24, 36, 255, 112, '10.251.0.1', '10.251.0.2']);
    assert.equal(peekVrrpVrid(pkt, 4), 55);
    accepted(validateAdvert(pkt, { family: 4 }, EXPECT_V3_UNICAST));
  });

  it('IPv4 flags and fragment offset are split', () => {
    const h = decodeIpv4Header(hex('4500 0014 1234 4005 4011 0000 c0000201 c0000202')).value;
    assert.deepEqual([h.id, h.flags, h.fragmentOffset, h.ttl, h.protocol], [0x1234, 2, 5, 64, 17]);
  });
});

// --- (a) Round trips ------------------------------------------------------------------------

describe('vrrp codec: round trips', () => {
  const v4 = { src: '192.0.2.1', dst: VRRP_GROUP_V4 };
  const v6 = { src: 'fe80::1', dst: VRRP_GROUP_V6 };

  it('v2: no auth, PASS, priority 0 and 255, no addresses, 255 addresses', () => {
    const base: VrrpAdvert = { version: 2, type: 1, vrid: 1, priority: 100, family: 4, addresses: ['192.0.2.100'], authType: 0, authData: zeros8, advertIntS: 1 };
    roundTrip(base, v4);
    roundTrip({ ...base, authType: VRRP_AUTH.PASS, authData: vrrpAuthPass('12345678') }, v4);
    roundTrip({ ...base, priority: 0 }, v4);
    roundTrip({ ...base, priority: 255, vrid: 255, advertIntS: 255 }, v4);
    roundTrip({ ...base, addresses: [] }, v4);
    const many = Array.from({ length: 255 }, (_, i) => `10.0.${i >> 4}.${i & 15}`);
    const buf = roundTrip({ ...base, addresses: many }, v4);
    assert.equal(buf.length, 8 + 255 * 4 + 8);
    assert.equal(buf[3], 255);
  });

  it('v3: IPv4 and IPv6, both checksum modes, priority 0, 255 IPv6 addresses', () => {
    const a4: VrrpAdvert = { version: 3, type: 1, vrid: 200, priority: 254, family: 4, addresses: ['198.51.100.1', '198.51.100.2'], maxAdvertIntCs: 4095 };
    roundTrip(a4, v4);
    roundTrip(a4, { ...v4, checksum: 'vrrp-only' });
    roundTrip({ ...a4, priority: 0, maxAdvertIntCs: 1 }, { src: '192.0.2.1', dst: '192.0.2.2' });
    const a6: VrrpAdvert = { version: 3, type: 1, vrid: 7, priority: 0, family: 6, addresses: ['fe80::7', '2001:db8::7'], maxAdvertIntCs: 5 };
    roundTrip(a6, v6);
    const many = Array.from({ length: 255 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
    assert.equal(roundTrip({ ...a6, addresses: many }, v6).length, 8 + 255 * 16);
    // Addresses decode to canonical text (RFC 5952), whatever form they were encoded from.
    const odd = encodeVrrp({ ...a6, addresses: ['FE80:0:0:0::7', '2001:DB8:0:0:0:0:0:7'] }, v6);
    assert.deepEqual(decodeVrrp(odd, 0, { family: 6 }).value.addresses, ['fe80::7', '2001:db8::7']);
    assert.deepEqual(odd, encodeVrrp(a6, v6));
  });

  it('the two checksum modes differ for v3 IPv4 and agree for v2', () => {
    const a: VrrpAdvert = { version: 3, type: 1, vrid: 9, priority: 100, family: 4, addresses: ['192.0.2.9'], maxAdvertIntCs: 100 };
    assert.notDeepEqual(encodeVrrp(a, { ...v4, checksum: 'pseudo-header' }), encodeVrrp(a, { ...v4, checksum: 'vrrp-only' }));
    assert.deepEqual(encodeVrrp(a, v4), encodeVrrp(a, { ...v4, checksum: 'pseudo-header' }), 'pseudo-header is the default');
    const b: VrrpAdvert = { version: 2, type: 1, vrid: 9, priority: 100, family: 4, addresses: ['192.0.2.9'], authType: 0, authData: zeros8, advertIntS: 1 };
    assert.deepEqual(encodeVrrp(b, { ...v4, checksum: 'pseudo-header' }), encodeVrrp(b, { ...v4, checksum: 'vrrp-only' }));
  });

  it('decoding copies the auth data (the value does not alias the input)', () => {
    const s = split(fixture('v2-pass'), 4);
    const copy = Buffer.from(s.vrrp);
    const v = decodeVrrp(copy).value;
    copy.fill(0);
    assert.ok(v.version === 2 && v.authData.toString('latin1') === 's3cr3t\0\0');
  });
});

// --- Helpers of the module -------------------------------------------------------------------

describe('vrrp codec: intervals, names, password, peek', () => {
  it('advert interval in ms for both versions, and to the wire', () => {
    assert.equal(advertIntervalMs({ ...V2_NOAUTH, advertIntS: 3 }), 3000);
    assert.equal(advertIntervalMs({ ...V3_IPV6, maxAdvertIntCs: 5 }), 50);
    assert.equal(advertIntervalToWire(2, 1000), 1);
    assert.equal(advertIntervalToWire(2, 1499), 1, 'v2 rounds to whole seconds');
    assert.equal(advertIntervalToWire(2, 1500), 2);
    assert.equal(advertIntervalToWire(2, 255_000), 255);
    assert.equal(advertIntervalToWire(3, 500), 50);
    assert.equal(advertIntervalToWire(3, 10), 1);
    assert.equal(advertIntervalToWire(3, 40_950), 4095);
    for (const [ver, ms] of [[2, 0], [2, 400], [2, 256_000], [3, 0], [3, 4], [3, 40_960], [3, Number.NaN]] as const) {
      assert.throws(() => advertIntervalToWire(ver, ms), RangeError, `v${ver} ${ms} ms`);
    }
  });

  it('type and auth type names keep unknown values (H-34)', () => {
    assert.equal(vrrpTypeName(1), 'ADVERTISEMENT');
    assert.equal(vrrpTypeName(0), 'UNKNOWN_0');
    assert.deepEqual([0, 1, 2, 3].map(vrrpAuthTypeName), ['NONE', 'PASS', 'AH', 'UNKNOWN_3']);
  });

  it('PASS data: zero padded to 8, truncated after 8', () => {
    assert.deepEqual(vrrpAuthPass('s3cr3t'), Buffer.from('s3cr3t\0\0', 'latin1'));
    assert.deepEqual(vrrpAuthPass('0123456789'), Buffer.from('01234567'));
    assert.deepEqual(vrrpAuthPass(Uint8Array.of(1, 2)), Buffer.from([1, 2, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual(vrrpAuthPass(''), zeros8);
  });

  it('peekVrrpVrid: from the IPv4 datagram or the IPv6 payload; undefined when short', () => {
    const f4 = fixture('v2-noauth').bytes;
    assert.equal(peekVrrpVrid(f4, 4), 51);
    assert.equal(peekVrrpVrid(Buffer.concat([Buffer.alloc(3), f4]), 4, 3), 51);
    assert.equal(peekVrrpVrid(f4.subarray(0, 21), 4), undefined);
    assert.equal(peekVrrpVrid(Buffer.alloc(0), 4), undefined);
    assert.equal(peekVrrpVrid(hex('6000'), 4), undefined, 'not IPv4');
    assert.equal(peekVrrpVrid(hex('3136'), 6), 0x36);
    assert.equal(peekVrrpVrid(hex('31'), 6), undefined);
  });

  it('drop reasons and warnings: stable snake_case names, each described', () => {
    assert.equal(new Set(VRRP_DROP_REASONS).size, VRRP_DROP_REASONS.length);
    assert.deepEqual(Object.keys(VRRP_DROP_REASON_INFO).sort(), [...VRRP_DROP_REASONS].sort());
    for (const r of [...VRRP_DROP_REASONS, ...VRRP_WARNINGS]) assert.match(r, /^[a-z][a-z0-9_]*$/);
    for (const r of VRRP_DROP_REASONS) assert.ok(VRRP_DROP_REASON_INFO[r].help.length > 0);
    // keepalived's counter names where it has one (vrrp_stats), and the socket-level ones.
    assert.deepEqual(
      VRRP_DROP_REASONS.filter((r) => VRRP_DROP_REASON_INFO[r].keepalived === r),
      ['packet_len_err', 'vrid_err', 'ip_ttl_err', 'vers_err', 'invalid_authtype', 'authtype_mismatch', 'auth_failure', 'advert_interval_err', 'invalid_type_rcvd', 'chk_err'],
    );
    assert.deepEqual(
      VRRP_DROP_REASONS.filter((r) => VRRP_DROP_REASON_INFO[r].scope === 'socket'),
      ['proto_err', 'vrid_err'],
    );
  });
});

// --- (d) Error vectors: decoders and encoder ------------------------------------------------------

describe('vrrp codec: decode and encode errors', () => {
  const v2 = split(fixture('v2-noauth'), 4).vrrp;
  const v6 = split(fixture('v3-ipv6'), 6).vrrp;

  it('truncation anywhere in the message', () => {
    throwsCodec(() => decodeVrrp(Buffer.alloc(0)), 'XLB_ERR_CODEC_TRUNCATED', 'vrrp: truncated at version (offset 0)');
    throwsCodec(() => decodeVrrp(v2.subarray(0, 7)), 'XLB_ERR_CODEC_TRUNCATED', 'vrrp: truncated at header (offset 0)');
    throwsCodec(() => decodeVrrp(v2.subarray(0, 19)), 'XLB_ERR_CODEC_TRUNCATED', 'vrrp: truncated at ip_addrs[2] (offset 16)');
    throwsCodec(() => decodeVrrp(v2.subarray(0, 27)), 'XLB_ERR_CODEC_TRUNCATED', 'vrrp: truncated at auth_data (offset 20)');
    throwsCodec(() => decodeVrrp(v6.subarray(0, 39), 0, { family: 6 }), 'XLB_ERR_CODEC_TRUNCATED', 'vrrp: truncated at ip_addrs[1] (offset 24)');
    // The same IPv6 message read as IPv4 has 8 bytes of addresses and no auth data: v3 reads fine, as 2 IPv4 addresses.
    assert.equal(decodeVrrp(v6, 0, { family: 4 }).bytes, 16);
    // At an offset, the error offset is absolute.
    throwsCodec(() => decodeVrrp(Buffer.concat([Buffer.alloc(5), v2.subarray(0, 10)]), 5), 'XLB_ERR_CODEC_TRUNCATED', 'vrrp: truncated at ip_addrs[0] (offset 13)');
  });

  it('versions other than 2 and 3, and v2 over IPv6', () => {
    for (const b0 of [0x01, 0x11, 0x41, 0xf1]) {
      throwsCodec(() => decodeVrrp(patched(v2, (c) => (c[0] = b0))), 'XLB_ERR_CODEC_BAD_VERSION', `vrrp: unsupported version ${b0 >> 4} (offset 0)`);
    }
    throwsCodec(() => decodeVrrp(v2, 0, { family: 6 }), 'XLB_ERR_CODEC_BAD_VERSION', 'vrrp: unsupported version 2 (offset 0)');
  });

  it('bad checksum with verify', () => {
    const bad = patched(v2, (c) => xor(c, 7, 0xff));
    throwsCodec(() => decodeVrrp(bad, 0, { verify: { src: '0.0.0.0', dst: VRRP_GROUP_V4 } }), 'XLB_ERR_CODEC_BAD_CHECKSUM', 'vrrp: bad checksum 0xf22f, expected 0xf2d0 (offset 6)');
    // without verify it decodes
    assert.equal(decodeVrrp(bad).value.vrid, 51);
  });

  it('checksum with an address of the wrong family', () => {
    throwsCodec(() => vrrpChecksum(v6, 0, v6.length, 6, { src: '10.0.0.1', dst: VRRP_GROUP_V6 }), 'XLB_ERR_CODEC_BAD_VALUE');
    throwsCodec(() => vrrpChecksum(v6, 0, v6.length, 6, { src: 'fe80::1', dst: 'nope' }), 'XLB_ERR_CODEC_BAD_VALUE');
    throwsCodec(() => vrrpChecksum(v6, 0, 48, 6, { src: 'fe80::1', dst: VRRP_GROUP_V6 }), 'XLB_ERR_CODEC_TRUNCATED');
    throwsCodec(() => vrrpChecksum(v6, 0, 7, 6, { src: 'fe80::1', dst: VRRP_GROUP_V6 }), 'XLB_ERR_CODEC_BAD_LENGTH', 'vrrp: bad length in checksummed length: 7 (offset 0)');
  });

  it('IPv4 header errors', () => {
    throwsCodec(() => decodeIpv4Header(Buffer.alloc(0)), 'XLB_ERR_CODEC_TRUNCATED', 'ipv4: truncated at version (offset 0)');
    throwsCodec(() => decodeIpv4Header(hex('45c0 0030')), 'XLB_ERR_CODEC_TRUNCATED', 'ipv4: truncated at header (offset 0)');
    throwsCodec(() => decodeIpv4Header(hex('65c0')), 'XLB_ERR_CODEC_BAD_VERSION', 'ipv4: unsupported version 6 (offset 0)');
    throwsCodec(() => decodeIpv4Header(hex('44c0')), 'XLB_ERR_CODEC_BAD_LENGTH', 'ipv4: bad length in ihl: 16 (offset 0)');
    throwsCodec(() => decodeIpv4Header(hex('46c0 0030 0001 0000 ff70 0000 0afb0001 e0000012')), 'XLB_ERR_CODEC_TRUNCATED', 'ipv4: truncated at options (offset 0)');
    throwsCodec(() => decodeIpv4Header(hex('45c0 0010 0001 0000 ff70 0000 0afb0001 e0000012')), 'XLB_ERR_CODEC_BAD_LENGTH', 'ipv4: bad length in total_length: 16 (offset 2)');
  });


  it('encoder input out of range', () => {
    const ctx = { src: '192.0.2.1', dst: VRRP_GROUP_V4 };
    const ok = V2_NOAUTH;
    const bad = (v: unknown, field: RegExp): void =>
      assert.throws(
        () => encodeVrrp(v as VrrpAdvert, ctx),
        (e: unknown) => e instanceof CodecError && e.code === 'XLB_ERR_CODEC_BAD_VALUE' && field.test(e.message),
      );
    bad({ ...ok, version: 4 }, /in version/);
    bad({ ...ok, family: 5 }, /in family/);
    bad({ ...ok, family: 6 }, /in family: "VRRPv2 is IPv4 only/);
    bad({ ...ok, vrid: 256 }, /in vrid: 256/);
    bad({ ...ok, vrid: 1.5 }, /in vrid/);
    bad({ ...ok, priority: -1 }, /in priority: -1/);
    bad({ ...ok, type: 16 }, /in type: 16/);
    bad({ ...ok, advertIntS: 256 }, /in advert_int: 256/);
    bad({ ...ok, authType: 256 }, /in auth_type/);
    bad({ ...ok, authData: Buffer.alloc(7) }, /in auth_data: "7 bytes, must be 8"/);
    bad({ ...ok, addresses: Array<string>(256).fill('10.0.0.1') }, /in count: 256/);
    bad({ ...ok, addresses: ['10.0.0.1', '2001:db8::1'] }, /in ip_addrs\[1\]/);
    bad({ ...ok, addresses: ['10.0.0.300'] }, /in ip_addrs\[0\]/);
    bad({ ...V3_IPV6, addresses: ['fe80::1%eth0'] }, /in ip_addrs\[0\]/);
    bad({ ...V3_IPV6, maxAdvertIntCs: 4096 }, /in max_advert_int: 4096/);
    throwsCodec(() => encodeVrrp(V3_IPV6, { src: '10.0.0.1', dst: VRRP_GROUP_V6 }), 'XLB_ERR_CODEC_BAD_VALUE');
    throwsCodec(() => encodeVrrp(ok, ctx, Buffer.alloc(27)), 'XLB_ERR_CODEC_BAD_LENGTH', 'vrrp: bad length in output buffer: 27 (offset 0)');
    throwsCodec(() => encodeVrrp(ok, ctx, Buffer.alloc(32), 5), 'XLB_ERR_CODEC_BAD_LENGTH', 'vrrp: bad length in output buffer: 32 (offset 5)');
    assert.equal(encodeVrrp(ok, ctx, Buffer.alloc(33), 5).length, 33, 'exactly enough room');
  });
});

// --- (d) Error vectors: validateAdvert, one per drop reason ---------------------------------------

describe('vrrp codec: receive validation', () => {
  const c = (name: string): Captured => CAPTURED.find((x) => x.name === name)!;
  const v2 = fixture('v2-noauth').bytes; // IPv4 datagram; VRRP at 20
  const pass = fixture('v2-pass').bytes;
  const v3 = fixture('v3-ipv4').bytes;
  const uni = fixture('v3-unicast').bytes;
  const six = rx(c('v3-ipv6'));
  const m4: VrrpRxMeta = { family: 4 };

  it('proto_err and ah_unsupported: IP protocol 51 and 17; v2 auth type 2', () => {
    dropped(validateAdvert(patched(v2, (b) => (b[9] = 51)), m4, EXPECT_V2_NOAUTH), 'ah_unsupported', /IP protocol 51/);
    dropped(validateAdvert(patched(v2, (b) => (b[9] = 17)), m4, EXPECT_V2_NOAUTH), 'proto_err', /IP protocol 17, expected 112/);
    dropped(validateAdvert(patched(v2, (b) => (b[0] = 0x65)), m4, EXPECT_V2_NOAUTH), 'proto_err', /unsupported version 6/);
    dropped(validateAdvert(patched(v2, (b) => (b[20 + 4] = 2)), m4, EXPECT_V2_NOAUTH), 'ah_unsupported', /auth type 2/);
  });

  it('packet_len_err: short header, short address list, short auth data, incomplete datagram', () => {
    dropped(validateAdvert(v2.subarray(0, 10), m4, EXPECT_V2_NOAUTH), 'packet_len_err', /truncated at header/);
    const cut = (n: number): Buffer => patched(v2.subarray(0, n), (b) => b.writeUInt16BE(n, 2));
    dropped(validateAdvert(cut(27), m4, EXPECT_V2_NOAUTH), 'packet_len_err', /^7 bytes, less than the 8-byte VRRP header$/);
    dropped(validateAdvert(cut(36), m4, EXPECT_V2_NOAUTH), 'packet_len_err', /^16 bytes, the header with 3 addresses needs 28$/);
    dropped(validateAdvert(cut(40), m4, EXPECT_V2_NOAUTH), 'packet_len_err', /^20 bytes, the header with 3 addresses needs 28$/);
    // A count larger than the data.
    dropped(validateAdvert(patched(v2, (b) => (b[23] = 4)), m4, EXPECT_V2_NOAUTH), 'packet_len_err', /with 4 addresses needs 32/);
    // The IPv6 payload too short for its count.
    dropped(validateAdvert(six.packet.subarray(0, 30), six.meta, EXPECT_V3_IPV6), 'packet_len_err', /^30 bytes, the header with 2 addresses needs 40$/);
    // Total length beyond what was received: the VRRP message is complete but the datagram is not (item 8).
    dropped(validateAdvert(patched(v2, (b) => b.writeUInt16BE(60, 2)), m4, EXPECT_V2_NOAUTH), 'packet_len_err', /^received 48 bytes, IPv4 total length 60$/);
  });

  it('Ethernet padding after the datagram, and bytes after the message, are tolerated', () => {
    // 32-byte datagram in a 60-byte frame: 14 bytes of padding after it.
    accepted(validateAdvert(Buffer.concat([uni, Buffer.alloc(14)]), m4, EXPECT_V3_UNICAST));
    accepted(validateAdvert(Buffer.concat([six.packet, Buffer.alloc(6)]), six.meta, EXPECT_V3_IPV6));
  });

  it('vrid_err: another virtual router (a socket-level reason)', () => {
    dropped(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, vrid: 52 }), 'vrid_err', /^VRID 51, ours is 52$/);
    dropped(validateAdvert(six.packet, six.meta, { ...EXPECT_V3_IPV6, vrid: 1 }), 'vrid_err');
  });

  it('ip_ttl_err: TTL / hop limit below 255 on multicast; any TTL on unicast', () => {
    dropped(validateAdvert(patched(v2, (b) => (b[8] = 254)), m4, EXPECT_V2_NOAUTH), 'ip_ttl_err', /^TTL 254, expected 255$/);
    dropped(validateAdvert(six.packet, { ...six.meta, hopLimit: 1 } as VrrpRxMeta, EXPECT_V3_IPV6), 'ip_ttl_err', /^hop limit 1, expected 255$/);
    accepted(validateAdvert(patched(uni, (b) => (b[8] = 64)), m4, EXPECT_V3_UNICAST));
  });

  it('vers_err: version differs from ours', () => {
    dropped(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, version: 3 }), 'vers_err', /^version 2, expected 3$/);
    dropped(validateAdvert(v3, m4, { ...EXPECT_V3_IPV4, version: 2 }), 'vers_err', /^version 3, expected 2$/);
    dropped(validateAdvert(patched(v2, (b) => (b[20] = 0x41)), m4, EXPECT_V2_NOAUTH), 'vers_err', /^version 4, expected 2$/);
    const v2over6 = patched(six.packet, (b) => (b[0] = 0x21));
    dropped(validateAdvert(Buffer.concat([v2over6, zeros8]), six.meta, { ...EXPECT_V3_IPV6, version: 2 }), 'vers_err', /over IPv6/);
  });

  it('invalid_authtype, authtype_mismatch, auth_failure (v2)', () => {
    dropped(validateAdvert(patched(v2, (b) => (b[24] = 3)), m4, EXPECT_V2_NOAUTH), 'invalid_authtype', /^auth type 3$/);
    dropped(validateAdvert(pass, m4, { ...EXPECT_V2_PASS, authType: VRRP_AUTH.NONE }), 'authtype_mismatch', /^auth type PASS, expected NONE$/);
    dropped(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, authType: VRRP_AUTH.PASS, authPass: vrrpAuthPass('x') }), 'authtype_mismatch', /NONE, expected PASS/);
    dropped(validateAdvert(pass, m4, { ...EXPECT_V2_PASS, authPass: vrrpAuthPass('s3cr3T') }), 'auth_failure', /^password differs$/);
    // Only the zero padding differs: still a failure.
    dropped(validateAdvert(pass, m4, { ...EXPECT_V2_PASS, authPass: Buffer.from('s3cr3t\0x') }), 'auth_failure');
    dropped(validateAdvert(pass, m4, { ...EXPECT_V2_PASS, authPass: undefined }), 'auth_failure');
    // A password given unpadded, or longer than 8 bytes (keepalived truncates), compares as its 8-byte form.
    accepted(validateAdvert(pass, m4, { ...EXPECT_V2_PASS, authPass: Buffer.from('s3cr3t') }));
    const long = fixtureWithPass('s3cr3t!!');
    accepted(validateAdvert(long, m4, { ...EXPECT_V2_PASS, authPass: Buffer.from('s3cr3t!!and more') }));
    // v3 ignores the auth settings.
    accepted(validateAdvert(v3, m4, { ...EXPECT_V3_IPV4, authType: VRRP_AUTH.PASS, authPass: vrrpAuthPass('x') }));
  });

  it('advert_interval_err: v2 drops a different interval; v3 only warns', () => {
    dropped(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, advertIntMs: 2000 }), 'advert_interval_err', /^advert interval 1 s, expected 2 s$/);
    accepted(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, advertIntMs: 1200 }), []);
    const r = validateAdvert(v3, m4, { ...EXPECT_V3_IPV4, advertIntMs: 1000 });
    accepted(r, ['advert_interval_mismatch']);
    assert.ok(r.ok && r.warnings[0]!.detail === 'advert interval 500 ms, ours is 1000 ms');
  });

  it('invalid_type_rcvd: type other than ADVERTISEMENT', () => {
    dropped(validateAdvert(patched(v2, (b) => (b[20] = 0x22)), m4, EXPECT_V2_NOAUTH), 'invalid_type_rcvd', /^type 2 \(UNKNOWN_2\)$/);
    dropped(validateAdvert(patched(six.packet, (b) => (b[0] = 0x30)), six.meta, EXPECT_V3_IPV6), 'invalid_type_rcvd', /type 0/);
  });

  it('chk_err: corrupted checksum, corrupted data, wrong mode, wrong IPv6 source', () => {
    dropped(validateAdvert(patched(v2, (b) => xor(b, 27, 1)), m4, EXPECT_V2_NOAUTH), 'chk_err', /^checksum 0xf2d1, expected 0xf2d0 \(without pseudo-header\)$/);
    dropped(validateAdvert(patched(v2, (b) => (b[22] = 201)), m4, EXPECT_V2_NOAUTH), 'chk_err');
    dropped(validateAdvert(v3, m4, { ...EXPECT_V3_IPV4, checksum: 'vrrp-only' }), 'chk_err', /0x650e, expected 0x509d \(without pseudo-header\)/);
    dropped(validateAdvert(six.packet, { ...six.meta, src: 'fe80::2' } as VrrpRxMeta, EXPECT_V3_IPV6), 'chk_err', /with pseudo-header/);
    // Both encodings of ones' complement zero are accepted (RFC 1071 §1 (3)).
    const zero = hand0000();
    accepted(validateAdvert(zero.pkt, m4, zero.expect));
    accepted(validateAdvert(patched(zero.pkt, (b) => b.writeUInt16BE(0xffff, 26)), m4, zero.expect));
  });

  it('dst_mismatch: multicast iff not unicast', () => {
    dropped(validateAdvert(uni, m4, { ...EXPECT_V3_UNICAST, unicast: false }), 'dst_mismatch', /^destination 10\.251\.0\.2 is unicast on a multicast instance$/);
    dropped(validateAdvert(v3, m4, { ...EXPECT_V3_IPV4, unicast: true }), 'dst_mismatch', /224\.0\.0\.18 is multicast on a unicast instance/);
    dropped(validateAdvert(six.packet, six.meta, { ...EXPECT_V3_IPV6, unicast: true }), 'dst_mismatch', /ff02::12 is multicast/);
  });

  it('addr_list_err: a different address list is a warning, not a drop (keepalived 2.3.3+)', () => {
    const r = validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, addresses: ['10.251.1.1', '10.251.1.2'] });
    accepted(r, ['addr_list_err']);
    assert.ok(r.ok && /^addresses \[10\.251\.1\.1, 10\.251\.1\.2, 10\.251\.1\.3\], ours are \[10\.251\.1\.1, 10\.251\.1\.2\]$/.test(r.warnings[0]!.detail));
    accepted(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, addresses: ['10.251.1.3', '10.251.1.2', '10.251.1.1'] }), []);
    accepted(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, addresses: ['10.251.1.1', '10.251.1.2', '10.251.1.9'] }), ['addr_list_err']);
    accepted(validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, addresses: undefined }), []);
    // IPv6 compared as addresses, not as text.
    accepted(validateAdvert(six.packet, six.meta, { ...EXPECT_V3_IPV6, addresses: ['FE80:0:0::54', 'fd00:251:0:54:0:0:0:1'] }), []);
    // Both warnings at once, in check order.
    accepted(validateAdvert(v3, m4, { ...EXPECT_V3_IPV4, advertIntMs: 1000, addresses: [] }), ['advert_interval_mismatch', 'addr_list_err']);
  });

  it('unknown_peer and per-peer TTL range (unicast)', () => {
    dropped(validateAdvert(uni, m4, { ...EXPECT_V3_UNICAST, peers: [{ address: '10.251.0.9' }] }), 'unknown_peer', /^source 10\.251\.0\.1 is not a unicast peer$/);
    // Without check_unicast_src and without TTL limits, any source is accepted.
    accepted(validateAdvert(uni, m4, { ...EXPECT_V3_UNICAST, peers: [{ address: '10.251.0.9' }], checkUnicastSrc: false }));
    // A TTL range on any peer turns the source check on.
    dropped(validateAdvert(uni, m4, { ...EXPECT_V3_UNICAST, checkUnicastSrc: false, peers: [{ address: '10.251.0.9', maxTtl: 255 }] }), 'unknown_peer');
    dropped(validateAdvert(uni, m4, { ...EXPECT_V3_UNICAST, peers: [{ address: '10.251.0.1', maxTtl: 254 }] }), 'ip_ttl_err', /^TTL 255 from 10\.251\.0\.1, outside 0\.\.254$/);
    dropped(validateAdvert(patched(uni, (b) => (b[8] = 63)), m4, { ...EXPECT_V3_UNICAST, peers: [{ address: '10.251.0.1', minTtl: 64 }] }), 'ip_ttl_err', /outside 64\.\.255/);
    accepted(validateAdvert(patched(uni, (b) => (b[8] = 64)), m4, { ...EXPECT_V3_UNICAST, peers: [{ address: '10.251.0.1', minTtl: 64, maxTtl: 64 }] }));
    // No peers at all with check_unicast_src: nobody is a peer.
    dropped(validateAdvert(uni, m4, { ...EXPECT_V3_UNICAST, peers: undefined }), 'unknown_peer');
  });

  it('the checks run in keepalived order: the first failing one is reported', () => {
    // Wrong TTL, version, type and checksum at once: TTL (item 3) comes first.
    const multi = patched(v2, (b) => {
      b[8] = 1;
      b[20] = 0x32;
      xor(b, 26, 0xff);
    });
    dropped(validateAdvert(multi, m4, EXPECT_V2_NOAUTH), 'ip_ttl_err');
    dropped(validateAdvert(multi, m4, { ...EXPECT_V2_NOAUTH, unicast: true }), 'vers_err');
    // Auth before type, type before checksum, checksum before destination.
    dropped(validateAdvert(patched(v2, (b) => ((b[20] = 0x22), (b[24] = 1))), m4, EXPECT_V2_NOAUTH), 'authtype_mismatch');
    dropped(validateAdvert(patched(v2, (b) => ((b[20] = 0x22), xor(b, 26, 1))), m4, EXPECT_V2_NOAUTH), 'invalid_type_rcvd');
    dropped(validateAdvert(patched(uni, (b) => xor(b, 26, 1)), m4, { ...EXPECT_V3_UNICAST, unicast: false }), 'chk_err');
    // VRID before everything in the message.
    dropped(validateAdvert(multi, m4, { ...EXPECT_V2_NOAUTH, vrid: 9 }), 'vrid_err');
  });

  it('a bad expect throws (programming error), a bad packet never does', () => {
    assert.throws(() => validateAdvert(v2, m4, { ...EXPECT_V2_NOAUTH, advertIntMs: 0 }), RangeError);
    assert.throws(() => validateAdvert(six.packet, { family: 6, src: 'x', dst: VRRP_GROUP_V6, hopLimit: 255 }, EXPECT_V3_IPV6), TypeError);
    // Every truncation of every capture is a drop, never a throw (IPv4: shorter than the total length; IPv6: than the count needs).
    for (const k of CAPTURED) {
      const { packet, meta } = rx(k);
      for (let n = 0; n < packet.length; n++) {
        const r = validateAdvert(packet.subarray(0, n), meta, k.expect);
        assert.equal(r.ok, false, `${k.name} cut at ${n}`);
      }
    }
  });

  after(() => {
    // Every drop reason has an error vector above.
    assert.deepEqual([...seenReasons].sort(), [...VRRP_DROP_REASONS].sort());
  });
});

/** The v2-pass capture with another password, re-checksummed. */
function fixtureWithPass(pw: string): Buffer {
  const b = Buffer.from(fixture('v2-pass').bytes);
  vrrpAuthPass(pw).copy(b, 20 + 12);
  b.writeUInt16BE(vrrpChecksum(b, 20, 20, 4, { src: '10.251.0.1', dst: VRRP_GROUP_V4 }), 26);
  return b;
}

/**
 * A v2 datagram whose checksum is 0x0000, to check that 0xffff is accepted
 * as the same value: the message sums to 0xffff with a zero checksum field.
 * Words: 2101 (v2 type 1, VRID 1) + 0000 (priority 0, count 0) + 00ff (auth
 * type 0, advert int 255) + ddff (auth data bytes 0..1) = ffff, so the
 * checksum is ~ffff = 0000.
 */
function hand0000(): { pkt: Buffer; expect: VrrpExpect } {
  const vrrp = Buffer.from([
    0x21, // version 2, type 1
    0x01, // VRID 1
    0x00, // priority 0
    0x00, // count 0
    0x00, // auth type 0
    0xff, // advert int 255 s
    0x00, 0x00, // checksum: ~ffff = 0000
    0xdd, 0xff, 0, 0, 0, 0, 0, 0, // auth data (not checked with auth type 0)
  ]);
  assert.equal(vrrpChecksum(vrrp, 0, 16, 4, { src: '0.0.0.0', dst: VRRP_GROUP_V4 }), 0x0000);
  const ip = hex('45c0 0024 0001 0000 ff70 0000 0afb0001 e0000012');
  return { pkt: Buffer.concat([ip, vrrp]), expect: { vrid: 1, version: 2, advertIntMs: 255_000, unicast: false } };
}
