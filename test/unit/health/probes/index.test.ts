/**
 * The shared probe contract: the failure-reason list (a metric label), errno
 * mapping, attempt bookkeeping, and createProbe() dispatching every check
 * type to its probe (run for real where it needs no privilege).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckSpec, CheckTiming, NetCheckBase } from '../../../../src/health/spec.js';
import { createProbe, md5Hex, PROBE_FAIL_REASONS } from '../../../../src/health/probes/index.js';
import { AttemptSet, errnoReason, type ProbeResult, type ProbeTarget } from '../../../../src/health/probes/types.js';
import { TEST_NET, TEST_TIMING } from '../../../support/check-spec.js';

const TIMING: CheckTiming = { ...TEST_TIMING, timeoutMs: 500 };
const NET: NetCheckBase = { ...TEST_NET, timeoutMs: 500 };
const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);

describe('probe contract', () => {
  it('failure reasons are unique, label-safe, and a closed set', () => {
    assert.equal(new Set(PROBE_FAIL_REASONS).size, PROBE_FAIL_REASONS.length);
    for (const r of PROBE_FAIL_REASONS) assert.match(r, /^[a-z][a-z_]*$/);
    assert.ok(Object.isFrozen(PROBE_FAIL_REASONS));
  });

  it('errnoReason maps socket errors', () => {
    assert.deepEqual(
      ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EMFILE', undefined].map(errnoReason),
      ['refused', 'unreachable', 'unreachable', 'reset', 'reset', 'timeout', 'io', 'io'],
    );
  });

  it('AttemptSet aborts what is in flight, once', () => {
    const a = new AttemptSet();
    let n = 0;
    const abort = (): void => void n++;
    a.add(abort);
    const other = (): void => void (n += 10);
    a.add(other);
    a.delete(other);
    a.close();
    a.close();
    assert.deepEqual([n, a.closed], [1, true]);
  });

  it('re-exports md5Hex (genhash)', () => {
    assert.equal(md5Hex(''), 'd41d8cd98f00b204e9800998ecf8427e');
  });
});

describe('createProbe', () => {
  let server: net.Server;
  let target: ProbeTarget;
  let dir: string;
  before(async () => {
    server = net.createServer((c) => {
      c.on('error', () => undefined);
      c.end('HTTP/1.0 200 OK\r\n\r\n');
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    target = { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port, family: 4 };
    dir = mkdtempSync(join(tmpdir(), 'xlb-probe-'));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dispatches every type', async () => {
    const file = join(dir, 'w');
    writeFileSync(file, '3\n');
    const cases: [CheckSpec, string][] = [
      [{ ...NET, type: 'tcp' }, 'ok'],
      [{ ...NET, type: 'http', path: '/', httpVersion: '1.0', status: [{ min: 200, max: 299 }], regexNoMatch: false, maxBodyBytes: 1024 }, 'ok'],
      // An https check against a plain server: the TLS handshake fails.
      [{ ...NET, type: 'https', path: '/', httpVersion: '1.0', status: [{ min: 200, max: 299 }], regexNoMatch: false, maxBodyBytes: 1024, tls: { verify: false } }, 'tls'],
      // A TCP port over UDP: nothing listens there, ICMP port unreachable.
      [{ ...NET, type: 'udp', requireReply: false, minReplyLength: 0, maxReplyLength: 100 }, 'refused'],
      [{ ...NET, type: 'dns', queryType: 'SOA', queryName: '.', expect: [] }, 'refused'],
      // The HTTP reply is no SMTP banner.
      [{ ...NET, type: 'smtp', heloName: 'x' }, 'protocol'],
      [{ ...TIMING, type: 'misc', command: ['true'], dynamic: false }, 'ok'],
      [{ ...TIMING, type: 'file', path: file, weight: 2, reverse: false }, 'ok'],
    ];
    for (const [spec, want] of cases) {
      const r = await createProbe(spec, target).run();
      assert.equal(reason(r), want, `${spec.type}: ${JSON.stringify(r)}`);
    }
  });

  it('never rejects, even when the socket cannot be created or connected (port 70000)', async () => {
    const bad: ProbeTarget = { ...target, port: 70000 };
    const specs: CheckSpec[] = [
      { ...NET, type: 'tcp' },
      { ...NET, type: 'http', path: '/', httpVersion: '1.0', status: [{ min: 200, max: 299 }], regexNoMatch: false, maxBodyBytes: 1024 },
      { ...NET, type: 'udp', requireReply: false, minReplyLength: 0, maxReplyLength: 100 },
      { ...NET, type: 'dns', queryType: 'A', queryName: 'x', expect: [] },
      { ...NET, type: 'smtp', heloName: 'x' },
    ];
    for (const spec of specs) {
      const r = await createProbe(spec, bad).run();
      assert.equal(reason(r), 'io', `${spec.type}: ${JSON.stringify(r)}`);
    }
  });

  it('builds an icmp probe without touching sockets until run()', () => {
    const p = createProbe({ ...NET, type: 'icmp' }, target);
    assert.equal(typeof p.run, 'function');
    p.close?.();
  });
});
