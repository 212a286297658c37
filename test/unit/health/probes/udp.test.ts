/**
 * UDP_CHECK against real dgram sockets on 127.0.0.1 and ::1: an echo server,
 * a silent one, and a closed port (the kernel answers ICMP port unreachable,
 * which Node 20 reports as ECONNREFUSED on the connected socket). Reply
 * matching with wildcard masks and length bounds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { UdpCheckSpec } from '../../../../src/health/spec.js';
import { checkUdpReply, createUdpProbe, udpReplyRequired } from '../../../../src/health/probes/udp.js';
import type { ProbeResult, ProbeTarget } from '../../../../src/health/probes/types.js';
import { TEST_NET } from '../../../support/check-spec.js';

const spec = (over: Partial<UdpCheckSpec> = {}): UdpCheckSpec => ({
  type: 'udp',
  ...TEST_NET,
  timeoutMs: 300,
  requireReply: false,
  minReplyLength: 0,
  maxReplyLength: 65507,
  ...over,
});
const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

interface UdpServer {
  sock: dgram.Socket;
  port: number;
  /** Payloads received. */
  got: Buffer[];
}

/** A UDP server that answers each datagram with `reply(msg)`, or not at all when it returns undefined. */
async function udpServer(type: 'udp4' | 'udp6', reply: (msg: Buffer) => Buffer | undefined): Promise<UdpServer> {
  const sock = dgram.createSocket(type);
  const got: Buffer[] = [];
  sock.on('message', (msg, rinfo) => {
    got.push(msg);
    const r = reply(msg);
    if (r) sock.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', res));
  return { sock, port: sock.address().port, got };
}

/** A UDP port with nothing bound to it. */
async function closedUdpPort(type: 'udp4' | 'udp6'): Promise<number> {
  const s = dgram.createSocket(type);
  await new Promise<void>((res) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', res));
  const port = s.address().port;
  await new Promise<void>((res) => s.close(res));
  return port;
}

describe('checkUdpReply', () => {
  const base = { minReplyLength: 0, maxReplyLength: 255 };
  it('compares under the mask: zero nibbles are wildcards', () => {
    // keepalived require_reply "12X4": mask ff f0 (X in the low nibble of the second byte).
    const s = { ...base, expect: hex('1240'), expectMask: hex('fff0') };
    assert.equal(checkUdpReply(hex('1240'), s), undefined);
    assert.equal(checkUdpReply(hex('124f99'), s), undefined);
    assert.match(String(checkUdpReply(hex('1250'), s)), /byte 1 is 0x50, expected 0x40 under mask 0xf0/);
    assert.match(String(checkUdpReply(hex('12'), s)), /shorter than the 2 expected/);
    assert.equal(checkUdpReply(hex('ab00'), { ...base, expect: hex('0000'), expectMask: hex('0000') }), undefined);
    assert.match(String(checkUdpReply(hex('1241'), { ...base, expect: hex('1240') })), /byte 1/);
  });

  it('checks length bounds', () => {
    assert.match(String(checkUdpReply(hex('01'), { minReplyLength: 2, maxReplyLength: 4 })), /shorter than 2/);
    assert.match(String(checkUdpReply(hex('0102030405'), { minReplyLength: 2, maxReplyLength: 4 })), /longer than 4/);
    assert.equal(checkUdpReply(hex('010203'), { minReplyLength: 2, maxReplyLength: 4 }), undefined);
  });

  it('a reply is required with requireReply or with expect', () => {
    assert.equal(udpReplyRequired({ requireReply: false }), false);
    assert.equal(udpReplyRequired({ requireReply: true }), true);
    assert.equal(udpReplyRequired({ requireReply: false, expect: hex('00') }), true);
  });
});

describe('udp probe', () => {
  let echo4: UdpServer;
  let echo6: UdpServer;
  let silent4: UdpServer;
  let pong6: UdpServer;
  before(async () => {
    echo4 = await udpServer('udp4', (m) => m);
    echo6 = await udpServer('udp6', (m) => m);
    silent4 = await udpServer('udp4', () => undefined);
    pong6 = await udpServer('udp6', () => Buffer.from('PONG 1.2.3\n'));
  });
  after(() => {
    for (const s of [echo4, echo6, silent4, pong6]) s.sock.close();
  });

  it('a reply is success; 16 random bytes are sent when there is no payload', async () => {
    for (const [s, address, family] of [
      [echo4, '127.0.0.1', 4],
      [echo6, '::1', 6],
    ] as const) {
      const r = await createUdpProbe(spec(), { address, port: s.port, family }).run();
      assert.equal(reason(r), 'ok', JSON.stringify(r));
      assert.ok(r.durationMs < 300, 'a reply ends the wait');
      assert.equal(s.got.at(-1)?.length, 16);
    }
    assert.notDeepEqual(echo4.got.at(-1), echo6.got.at(-1));
  });

  it('an ICMP port unreachable fails as refused, on both families', async () => {
    for (const [type, address, family] of [
      ['udp4', '127.0.0.1', 4],
      ['udp6', '::1', 6],
    ] as const) {
      const r = await createUdpProbe(spec({ timeoutMs: 2000 }), { address, port: await closedUdpPort(type), family }).run();
      assert.equal(reason(r), 'refused', JSON.stringify(r));
      // the addon's socket (IP_RECVERR) says which ICMP error it was
      assert.match(!r.ok ? r.detail : '', /Connection refused \(ICMP(v6)? type \d+ code \d+ from .*\) \(ICMP port unreachable\)/);
      assert.ok(r.durationMs < 2000);
    }
  });

  it('without requireReply, silence until the timeout is success (keepalived)', async () => {
    const r = await createUdpProbe(spec({ timeoutMs: 100 }), { address: '127.0.0.1', port: silent4.port, family: 4 }).run();
    assert.equal(reason(r), 'ok');
    assert.equal(r.ok && r.detail, 'no reply and no ICMP error');
    assert.ok(r.durationMs >= 95, String(r.durationMs));
  });

  it('with requireReply, silence fails as timeout', async () => {
    const r = await createUdpProbe(spec({ timeoutMs: 100, requireReply: true }), { address: '127.0.0.1', port: silent4.port, family: 4 }).run();
    assert.equal(reason(r), 'timeout');
  });

  it('sends the configured payload and matches the reply with a wildcard mask', async () => {
    const t: ProbeTarget = { address: '::1', port: pong6.port, family: 6 };
    const payload = Buffer.from('PING\n');
    // "PONG 3X.X.3": the minor version is a wildcard byte, the major one ('1' = 0x31) matches 0x3X.
    const expect = Buffer.from('PONG 0.0.3');
    const mask = Buffer.from('fffffffffff0ff00ffff', 'hex');
    const ok = await createUdpProbe(spec({ payload, requireReply: true, expect, expectMask: mask }), t).run();
    assert.equal(reason(ok), 'ok', JSON.stringify(ok));
    assert.deepEqual(pong6.got.at(-1), payload);
    const bad = await createUdpProbe(spec({ payload, requireReply: true, expect: Buffer.from('PONG 2') }), t).run();
    assert.equal(reason(bad), 'reply');
    const long = await createUdpProbe(spec({ payload, requireReply: true, maxReplyLength: 4 }), t).run();
    assert.equal(reason(long), 'reply');
    assert.match(!long.ok ? long.detail : '', /longer than 4/);
    const short = await createUdpProbe(spec({ payload, requireReply: true, minReplyLength: 100 }), t).run();
    assert.equal(reason(short), 'reply');
  });

  it('bindAddress sets the source address', async () => {
    const s = dgram.createSocket('udp4');
    const from: string[] = [];
    s.on('message', (m, rinfo) => {
      from.push(rinfo.address);
      s.send(m, rinfo.port, rinfo.address);
    });
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
    try {
      const r = await createUdpProbe(spec({ bindAddress: '127.0.0.3' }), { address: '127.0.0.1', port: s.address().port, family: 4 }).run();
      assert.equal(reason(r), 'ok');
      assert.deepEqual(from, ['127.0.0.3']);
      // A source address the host does not have fails as unreachable (EADDRNOTAVAIL), not as a throw.
      const bad = await createUdpProbe(spec({ bindAddress: '192.0.2.1' }), { address: '127.0.0.1', port: s.address().port, family: 4 }).run();
      assert.equal(reason(bad), 'unreachable', JSON.stringify(bad));
    } finally {
      s.close();
    }
  });

  it('close() ends a silent wait at once', async () => {
    const probe = createUdpProbe(spec({ timeoutMs: 5000 }), { address: '127.0.0.1', port: silent4.port, family: 4 });
    const p = probe.run();
    setTimeout(() => probe.close?.(), 10);
    const r = await p;
    assert.deepEqual([reason(r), !r.ok && r.detail], ['io', 'probe closed']);
  });
});
