/**
 * TCP_CHECK against real listeners on 127.0.0.1 and ::1: connect = up;
 * refused and timed-out connects = down; bindAddress is the source; the
 * socket factory seam; close() cuts an attempt short.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TcpCheckSpec } from '../../../../src/health/spec.js';
import { createTcpProbe, nodeSocketFactory } from '../../../../src/health/probes/tcp.js';
import type { ProbeTarget, SocketFactory } from '../../../../src/health/probes/types.js';
import { TEST_NET } from '../../../support/check-spec.js';

const spec = (over: Partial<TcpCheckSpec> = {}): TcpCheckSpec => ({
  type: 'tcp',
  ...TEST_NET,
  ...over,
});

/** Listen on an ephemeral port; records each peer's address. */
async function listen(host: string): Promise<{ server: net.Server; port: number; peers: string[] }> {
  const peers: string[] = [];
  const server = net.createServer((c) => {
    peers.push(c.remoteAddress ?? '');
    c.on('error', () => undefined);
    c.end();
  });
  await new Promise<void>((res) => server.listen(0, host, res));
  return { server, port: (server.address() as net.AddressInfo).port, peers };
}

/** A port on `host` that nothing listens on (bound, then released). */
async function closedPort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, host, res));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe('tcp probe', () => {
  let v4: Awaited<ReturnType<typeof listen>>;
  let v6: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    v4 = await listen('127.0.0.1');
    v6 = await listen('::1');
  });
  after(() => {
    v4.server.close();
    v6.server.close();
  });

  it('connects to 127.0.0.1 and ::1', async () => {
    for (const [address, family, port] of [
      ['127.0.0.1', 4, v4.port],
      ['::1', 6, v6.port],
    ] as const) {
      const r = await createTcpProbe(spec(), { address, port, family }).run();
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(r.durationMs >= 0);
    }
  });

  it('a connect that completed in time is not failed by a late event loop', async () => {
    // the loop is held past the timeout right after the connect was started:
    // the timer and the connect's completion are both due when it comes back,
    // and expired timers run before the sockets are polled
    const probe = createTcpProbe(spec({ timeoutMs: 20 }), { address: '127.0.0.1', port: v4.port, family: 4 });
    const pending = probe.run();
    const until = performance.now() + 100;
    while (performance.now() < until) {
      /* a busy event loop */
    }
    const r = await pending;
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('a refused connect fails as refused', async () => {
    for (const [address, family] of [
      ['127.0.0.1', 4],
      ['::1', 6],
    ] as const) {
      const r = await createTcpProbe(spec(), { address, port: await closedPort(address), family }).run();
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, 'refused');
      assert.match(!r.ok ? r.detail : '', /ECONNREFUSED/);
    }
  });

  it('resets the connection (no TIME_WAIT on the prober, like keepalived SO_LINGER 0)', async () => {
    const seen: string[] = [];
    let done: () => void = () => undefined;
    const closed = new Promise<void>((res) => (done = res));
    const s = net.createServer((c) => {
      c.on('error', (e: NodeJS.ErrnoException) => seen.push(e.code ?? ''));
      c.on('end', () => seen.push('FIN'));
      c.on('close', () => done());
      c.resume();
    });
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    try {
      const r = await createTcpProbe(spec(), { address: '127.0.0.1', port: (s.address() as net.AddressInfo).port, family: 4 }).run();
      assert.equal(r.ok, true);
      await closed;
      assert.deepEqual(seen, ['ECONNRESET']);
    } finally {
      s.close();
    }
  });

  it('bindAddress sets the source address', async () => {
    const r = await createTcpProbe(spec({ bindAddress: '127.0.0.2' }), { address: '127.0.0.1', port: v4.port, family: 4 }).run();
    assert.equal(r.ok, true, JSON.stringify(r));
    await new Promise((res) => setImmediate(res));
    assert.ok(v4.peers.includes('127.0.0.2'), v4.peers.join());
  });

  it('a connect that never completes times out on time, through a custom socket factory', async () => {
    let made = 0;
    // A connect that never completes: it only ends when the probe aborts it.
    let aborted = false;
    const factory: SocketFactory = {
      ...nodeSocketFactory,
      tcp: () => {
        made++;
        return () => void (aborted = true);
      },
    };
    const target: ProbeTarget = { address: '127.0.0.1', port: v4.port, family: 4 };
    const r = await createTcpProbe(spec({ timeoutMs: 80 }), target, { socketFactory: factory }).run();
    assert.equal(made, 1);
    assert.equal(aborted, true, 'the pending connect is aborted');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'timeout');
    assert.ok(r.durationMs >= 70 && r.durationMs < 500, String(r.durationMs));
  });

  it('bindInterface, fwmark or target.via on a factory that cannot apply them fail every attempt as io', async () => {
    const t: ProbeTarget = { address: '127.0.0.1', port: v4.port, family: 4 };
    const plain = { socketFactory: nodeSocketFactory };
    const via: ProbeTarget = { ...t, via: { mark: 9, backend: '127.0.0.1' } };
    for (const [s, tt] of [[spec({ bindInterface: 'lo' }), t], [spec({ fwmark: 7 }), t], [spec(), via]] as const) {
      const r = await createTcpProbe(s, tt, plain).run();
      assert.equal(!r.ok && r.reason, 'io');
      assert.match(!r.ok ? r.detail : '', /native socket factory/);
    }
    const ok = await createTcpProbe(spec({ fwmark: 7 }), t, { socketFactory: { ...nodeSocketFactory, supportsDeviceAndMark: true } }).run();
    assert.equal(ok.ok, true);
  });

  it('close() ends the attempt in flight and later ones at once', async () => {
    const probe = createTcpProbe(spec({ timeoutMs: 5000 }), { address: '127.0.0.1', port: v4.port, family: 4 }, {
      socketFactory: { ...nodeSocketFactory, tcp: () => () => {} },
    });
    const p = probe.run();
    probe.close?.();
    const r = await p;
    assert.deepEqual([r.ok, !r.ok && r.reason, !r.ok && r.detail], [false, 'io', 'probe closed']);
    const again = await probe.run();
    assert.equal(!again.ok && again.reason, 'io');
    probe.close?.(); // idempotent
  });
});
