/**
 * SSL_GET against a real TLS server on 127.0.0.1 and ::1, with certificates
 * made by the `openssl` CLI in a temp dir: verification on by default (a
 * self-signed certificate fails, its caFile passes), verify off, SNI as the
 * server sees it (names yes, IP literals no), a wrong name, and a server that
 * requires a client certificate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { HttpCheckSpec, TlsSpec } from '../../../../src/health/spec.js';
import { createHttpProbe, md5Hex } from '../../../../src/health/probes/http.js';
import type { ProbeResult, ProbeTarget } from '../../../../src/health/probes/types.js';
import { TEST_NET } from '../../../support/check-spec.js';

const spec = (tlsSpec: TlsSpec | undefined, over: Partial<HttpCheckSpec> = {}): HttpCheckSpec => {
  const s: HttpCheckSpec = {
    type: 'https',
    ...TEST_NET,
    timeoutMs: 2000,
    path: '/health',
    httpVersion: '1.1',
    status: [{ min: 200, max: 299 }],
    regexNoMatch: false,
    maxBodyBytes: 1024 * 1024,
    ...over,
  };
  if (tlsSpec) s.tls = tlsSpec;
  return s;
};
const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);
const BODY = 'tls ok\n';

/** A self-signed EC certificate for `cn` with the given subjectAltName. */
function selfSigned(dir: string, name: string, cn: string, san: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

interface TlsTestServer {
  server: tls.Server;
  port: number;
  /** SNI names seen, `false` when the client sent none. */
  sni: (string | false)[];
}

/** A TLS server answering every request with 200 and {@link BODY}. */
async function tlsServer(host: string, opts: tls.TlsOptions): Promise<TlsTestServer> {
  const sni: (string | false)[] = [];
  const server = tls.createServer(opts, (c) => {
    sni.push((c as tls.TLSSocket & { servername: string | false }).servername);
    c.on('error', () => undefined);
    c.once('data', () => c.end(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((res) => server.listen(0, host, res));
  return { server, port: (server.address() as net.AddressInfo).port, sni };
}

describe('https probe', () => {
  let dir: string;
  let srv: { cert: string; key: string };
  let client: { cert: string; key: string };
  let v4: TlsTestServer;
  let v6: TlsTestServer;
  let mtls: TlsTestServer;
  let t4: ProbeTarget;
  let t6: ProbeTarget;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xlb-https-'));
    srv = selfSigned(dir, 'server', 'backend.test', 'DNS:backend.test,IP:127.0.0.1,IP:::1');
    client = selfSigned(dir, 'client', 'xlb-client', 'DNS:xlb-client');
    const serverOpts = { cert: readFileSync(srv.cert), key: readFileSync(srv.key) };
    v4 = await tlsServer('127.0.0.1', serverOpts);
    v6 = await tlsServer('::1', serverOpts);
    mtls = await tlsServer('127.0.0.1', { ...serverOpts, requestCert: true, rejectUnauthorized: true, ca: readFileSync(client.cert) });
    t4 = { address: '127.0.0.1', port: v4.port, family: 4 };
    t6 = { address: '::1', port: v6.port, family: 6 };
  });
  after(() => {
    v4.server.close();
    v6.server.close();
    mtls.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies by default: a self-signed certificate fails as tls', async () => {
    for (const t of [t4, t6]) {
      const r = await createHttpProbe(spec(undefined), t).run();
      assert.equal(reason(r), 'tls', JSON.stringify(r));
      assert.match(!r.ok ? r.detail : '', /self.signed/i);
    }
    assert.equal(reason(await createHttpProbe(spec({ verify: true }), t4).run()), 'tls');
  });

  it('passes with the certificate as caFile (checked against the IP SAN, no SNI)', async () => {
    for (const [t, s] of [
      [t4, v4],
      [t6, v6],
    ] as const) {
      const before = s.sni.length;
      const r = await createHttpProbe(spec({ verify: true, caFile: srv.cert }, { digest: md5Hex(BODY) }), t).run();
      assert.equal(reason(r), 'ok', JSON.stringify(r));
      assert.deepEqual(s.sni.slice(before), [false], 'no SNI for an IP literal (RFC 6066)');
    }
  });

  it('verify: false accepts the self-signed certificate', async () => {
    assert.equal(reason(await createHttpProbe(spec({ verify: false }), t4).run()), 'ok');
  });

  it('sends SNI from host or serverName, and checks the certificate against it', async () => {
    const n = v4.sni.length;
    assert.equal(reason(await createHttpProbe(spec({ verify: true, caFile: srv.cert }, { host: 'backend.test' }), t4).run()), 'ok');
    assert.equal(reason(await createHttpProbe(spec({ verify: true, caFile: srv.cert, serverName: 'backend.test' }), t4).run()), 'ok');
    const wrong = await createHttpProbe(spec({ verify: true, caFile: srv.cert, serverName: 'other.test' }), t4).run();
    assert.equal(reason(wrong), 'tls');
    assert.match(!wrong.ok ? wrong.detail : '', /other\.test/);
    assert.equal(reason(await createHttpProbe(spec({ verify: false, serverName: 'other.test' }), t4).run()), 'ok');
    assert.deepEqual(v4.sni.slice(n), ['backend.test', 'backend.test', 'other.test']);
  });

  it('a server requiring a client certificate: fails without one, passes with certFile/keyFile', async () => {
    const t: ProbeTarget = { address: '127.0.0.1', port: mtls.port, family: 4 };
    const without = await createHttpProbe(spec({ verify: true, caFile: srv.cert }), t).run();
    // TLS 1.3: the client finishes its handshake first, then reads the server's alert.
    assert.equal(reason(without), 'tls', JSON.stringify(without));
    assert.match(!without.ok ? without.detail : '', /certificate required/);
    const withCert = await createHttpProbe(spec({ verify: true, caFile: srv.cert, certFile: client.cert, keyFile: client.key }), t).run();
    assert.equal(reason(withCert), 'ok', JSON.stringify(withCert));
  });

  it('TLS files are read once, at creation; a missing one fails every attempt as io', async () => {
    const ca = join(dir, 'ca-copy.pem');
    writeFileSync(ca, readFileSync(srv.cert));
    const probe = createHttpProbe(spec({ verify: true, caFile: ca }), t4);
    rmSync(ca);
    assert.equal(reason(await probe.run()), 'ok');
    const missing = createHttpProbe(spec({ verify: true, caFile: join(dir, 'nope.pem') }), t4);
    const r = await missing.run();
    assert.equal(reason(r), 'io');
    assert.match(!r.ok ? r.detail : '', /ENOENT/);
  });

  it('a plain-HTTP server behind an https check fails as tls, not as a hang', async () => {
    const net = await import('node:net');
    const s = net.createServer((c) => {
      c.on('error', () => undefined);
      c.end('HTTP/1.0 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    try {
      const r = await createHttpProbe(spec({ verify: false }), { address: '127.0.0.1', port: (s.address() as net.AddressInfo).port, family: 4 }).run();
      assert.equal(reason(r), 'tls', JSON.stringify(r));
      assert.match(!r.ok ? r.detail : '', /^tls handshake: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\)$/);
    } finally {
      s.close();
    }
  });
});
