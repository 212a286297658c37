/**
 * A small fuzz run of the BFD codec (issue 15: "malformed packets never
 * crash the runtime"): 100,000 payloads, half random bytes and half
 * mutations of valid packets (FRR's captured ones and signed ones of every
 * auth type), through decode and the whole reception path. Seeded, so a
 * failure reproduces; bounded by the iteration count and the test timeout.
 *
 * Properties: nothing throws; a drop's reason is in the closed list; a
 * decoded packet re-encodes to the input's bytes: its Length bytes with the
 * A bit, its 24 header bytes (Length 24) without it, and Reserved of keyed
 * sections as zero (it is ignored on receipt).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../support/packet.js';
import { BFD_DROP_REASONS, decodeBfdControl, encodeBfdControl, receiveBfdControl, type BfdControl, type BfdRxSession } from '../../../src/bfd/codec.js';
import { BFD_AUTH_RX_INITIAL, nextAuthSection, type BfdAuthConfig } from '../../../src/bfd/auth.js';
import type { BfdAuthType } from '../../../src/bfd/spec.js';

const ITERATIONS = 100_000;
const SEED = 0x5eed_bfd;

/** The FRR vectors' bytes. */
function frrPackets(): Buffer[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'test', 'fixtures', 'bfd'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('test/fixtures/bfd not found');
    dir = up;
  }
  const out: Buffer[] = [];
  for (const f of ['frr-ipv4.json', 'frr-ipv6.json', 'frr-multihop.json']) {
    const doc = JSON.parse(readFileSync(join(dir, 'test', 'fixtures', 'bfd', f), 'utf8')) as { vectors: { hex: string }[] };
    for (const v of doc.vectors) out.push(Buffer.from(v.hex, 'hex'));
  }
  return out;
}

describe('bfd codec fuzz', () => {
  it(`${ITERATIONS} random and mutated payloads: no throw, closed reasons, stable re-encode`, { timeout: 120_000 }, () => {
    const rng = mulberry32(SEED);
    const rint = (n: number): number => Math.floor(rng() * n);
    const configs: BfdAuthConfig[] = ([1, 2, 3, 4, 5] as BfdAuthType[]).map((type) => ({ type, keys: [{ id: 1, secret: Buffer.from('k3y') }], txKeyId: 1 }));
    const seeds = frrPackets();
    const base = decodeBfdControl(seeds[0]!);
    assert.ok(base.ok);
    for (const c of configs) {
      const { auth } = nextAuthSection(c, { seq: 1000 });
      seeds.push(encodeBfdControl({ ...base.value, auth } as BfdControl, undefined, 0, c));
    }
    const sessions: BfdRxSession[] = [{ authRx: BFD_AUTH_RX_INITIAL }, ...configs.map((auth) => ({ auth, authRx: { seqKnown: true, seq: 999 } }))];
    const reasons = new Set<string>(BFD_DROP_REASONS);
    const counts = new Map<string, number>();

    for (let i = 0; i < ITERATIONS; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.alloc(rint(80));
        for (let j = 0; j < b.length; j++) b[j] = rint(256);
        // Bias towards version 1 and a plausible Length, or nearly everything is bad_version.
        if (b.length > 3 && rint(4) > 0) {
          b[0] = (1 << 5) | (b[0]! & 0x1f);
          if (rint(2) === 0) b[3] = b.length - rint(3);
        }
      } else {
        b = Buffer.from(seeds[rint(seeds.length)]!);
        for (let k = 1 + rint(3); k > 0; k--) {
          const op = rint(4);
          if (op === 0 && b.length > 0) b[rint(b.length)] = rint(256);
          else if (op === 1 && b.length > 0) b[rint(b.length)]! ^= 1 << rint(8);
          else if (op === 2) b = b.subarray(0, rint(b.length + 1));
          else b = Buffer.concat([b, Buffer.alloc(rint(8), rint(256))]);
        }
      }
      const d = decodeBfdControl(b);
      if (d.ok) {
        assert.ok(d.bytes >= 24 && d.bytes <= b.length);
        const re = encodeBfdControl(d.value);
        // Without the A bit, bytes between 24 and Length are not part of any field.
        const orig = Buffer.from(b.subarray(0, d.value.auth === undefined ? 24 : d.bytes));
        if (d.value.auth === undefined) orig[3] = 24;
        if (d.value.auth?.kind === 'keyed') orig[27] = 0; // Reserved
        assert.deepEqual(re, orig);
      } else {
        assert.ok(reasons.has(d.reason), d.reason);
      }
      const s = sessions[rint(sessions.length)]!;
      const r = receiveBfdControl(b, (p) => (p.myDiscriminator % 7 === 0 ? undefined : s));
      const key = r.ok ? 'accepted' : r.reason;
      if (!r.ok) assert.ok(reasons.has(r.reason), r.reason);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // The run reaches deep: packets are accepted and the auth checks run.
    assert.ok((counts.get('accepted') ?? 0) > 0, JSON.stringify([...counts]));
    assert.ok((counts.get('auth_digest') ?? 0) > 0, JSON.stringify([...counts]));
  });
});
