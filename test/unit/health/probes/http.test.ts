/**
 * HTTP_GET: the pure helpers (status lists, MD5, head and chunked parsing),
 * then the probe against raw TCP servers on 127.0.0.1 and ::1 that answer
 * byte by byte as each case needs: status ranges, digest, regex and
 * regexNoMatch, Content-Length, chunked and read-until-close bodies, a body
 * trickled slower than the timeout, early closes and garbage.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { XlbError } from '../../../../src/errors.js';
import { parseStatusList } from '../../../../src/config/health.js';
import type { HttpCheckSpec } from '../../../../src/health/spec.js';
import {
  ChunkedDecoder,
  createHttpProbe,
  findHeadEnd,
  hostHeaderFor,
  md5Hex,
  parseResponseHead,
  sniFor,
  statusInRanges,
} from '../../../../src/health/probes/http.js';
import type { ProbeResult, ProbeTarget } from '../../../../src/health/probes/types.js';
import { TEST_NET } from '../../../support/check-spec.js';

const spec = (over: Partial<HttpCheckSpec> = {}): HttpCheckSpec => ({
  type: 'http',
  ...TEST_NET,
  path: '/',
  httpVersion: '1.0',
  status: [{ min: 200, max: 299 }],
  regexNoMatch: false,
  maxBodyBytes: 1024 * 1024,
  ...over,
});

const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('statusInRanges', () => {
  it('statusInRanges is inclusive at both ends', () => {
    const r = parseStatusList('200-299 503');
    assert.deepEqual(
      [199, 200, 299, 300, 503, 504].map((s) => statusInRanges(s, r)),
      [false, true, true, false, true, false],
    );
  });
});

describe('http pure helpers', () => {
  it('md5Hex matches RFC 1321 vectors (what genhash prints)', () => {
    assert.equal(md5Hex(''), 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(md5Hex('abc'), '900150983cd24fb0d6963f7d28e17f72');
    assert.equal(md5Hex(Buffer.from('abc')), '900150983cd24fb0d6963f7d28e17f72');
  });

  it('findHeadEnd finds CRLFCRLF and LFLF, resuming mid-buffer', () => {
    assert.equal(findHeadEnd(Buffer.from('HTTP/1.0 200 OK\r\n\r\nbody')), 19);
    assert.equal(findHeadEnd(Buffer.from('HTTP/1.0 200 OK\n\nbody')), 17);
    assert.equal(findHeadEnd(Buffer.from('HTTP/1.0 200 OK\r\nA: b\r\n')), -1);
    assert.equal(findHeadEnd(Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), 15), 19);
  });

  it('parseResponseHead reads status, Content-Length and chunked', () => {
    assert.deepEqual(parseResponseHead('HTTP/1.1 204 No Content\r\nContent-Length: 0'), { status: 204, contentLength: 0, chunked: false });
    assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 5'), {
      status: 200,
      contentLength: 5,
      chunked: true,
    });
    assert.deepEqual(parseResponseHead('HTTP/1.0 503'), { status: 503, contentLength: -1, chunked: false });
    assert.match(String(parseResponseHead('SSH-2.0-OpenSSH')), /bad status line/);
    assert.match(String(parseResponseHead('HTTP/1.1 200 OK\r\nno colon here')), /bad header line/);
    assert.match(String(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: -1')), /bad Content-Length/);
    assert.match(String(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2')), /conflicting/);
  });

  it('ChunkedDecoder decodes whatever the split, and stops at the last chunk', () => {
    const wire = Buffer.from('4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n');
    for (const step of [1, 2, 3, 7, wire.length]) {
      const d = new ChunkedDecoder();
      const out: Buffer[] = [];
      for (let i = 0; i < wire.length && !d.done; i += step) assert.equal(d.push(wire.subarray(i, i + step), (b) => out.push(Buffer.from(b))), undefined);
      assert.equal(d.done, true);
      assert.equal(Buffer.concat(out).toString(), 'Wikipedia in\r\n\r\nchunks.');
    }
  });

  it('ChunkedDecoder rejects malformed encodings', () => {
    for (const bad of ['zz\r\n', '3\r\nabcX', `${'1'.repeat(2000)}`]) {
      const d = new ChunkedDecoder();
      assert.equal(typeof d.push(Buffer.from(bad), () => undefined), 'string', bad);
    }
  });

  it('hostHeaderFor brackets IPv6 and omits the default port', () => {
    const t4: ProbeTarget = { address: '10.0.0.1', port: 80, family: 4 };
    const t6: ProbeTarget = { address: '2001:db8::1', port: 8080, family: 6 };
    assert.equal(hostHeaderFor({ type: 'http' }, t4), '10.0.0.1');
    assert.equal(hostHeaderFor({ type: 'https' }, t4), '10.0.0.1:80');
    assert.equal(hostHeaderFor({ type: 'https' }, { ...t4, port: 443 }), '10.0.0.1');
    assert.equal(hostHeaderFor({ type: 'http' }, t6), '[2001:db8::1]:8080');
    assert.equal(hostHeaderFor({ type: 'http', host: 'www.example' }, t6), 'www.example');
  });

  it('sniFor: serverName, else a DNS-name Host without port; never an IP literal', () => {
    assert.equal(sniFor('sni.example', '10.0.0.1'), 'sni.example');
    assert.equal(sniFor(undefined, 'www.example'), 'www.example');
    assert.equal(sniFor(undefined, 'www.example:8443'), 'www.example');
    assert.equal(sniFor(undefined, '10.0.0.1'), undefined);
    assert.equal(sniFor(undefined, '10.0.0.1:8443'), undefined);
    assert.equal(sniFor(undefined, '[2001:db8::1]:443'), undefined);
    assert.equal(sniFor(undefined, '2001:db8::1'), undefined);
  });

  it('createHttpProbe rejects a bad regex or a path that would break the request', () => {
    const t: ProbeTarget = { address: '127.0.0.1', port: 80, family: 4 };
    for (const s of [spec({ regex: '(' }), spec({ path: '/a b' }), spec({ path: 'nope' }), spec({ host: 'a\r\nX: y' })]) {
      assert.throws(() => createHttpProbe(s, t), (e: unknown) => e instanceof XlbError && e.code === 'XLB_ERR_CONFIG_INVALID');
    }
  });
});

/** What a test server does with one request. */
type Handler = (c: net.Socket, request: string) => unknown;

/**
 * A raw HTTP-ish server: reads the request head, records it, and hands the
 * socket to the handler registered for the path.
 */
async function rawServer(host: string, routes: Record<string, Handler>): Promise<{ server: net.Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = net.createServer((c) => {
    c.on('error', () => undefined);
    let buf = '';
    c.on('data', (d) => {
      if (buf.includes('\r\n\r\n')) return;
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      requests.push(buf);
      const path = buf.split(' ')[1] ?? '';
      const h = routes[path];
      if (h) void h(c, buf);
      else c.end('HTTP/1.0 404 Not Found\r\n\r\n');
    });
  });
  await new Promise<void>((res) => server.listen(0, host, res));
  return { server, port: (server.address() as net.AddressInfo).port, requests };
}

const BODY = 'hello, health checker\n';
const BIG = 'x'.repeat(100_000);

const routes: Record<string, Handler> = {
  '/ok': (c) => c.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`),
  '/503': (c) => c.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'),
  '/close-body': (c) => c.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${BODY}`),
  '/chunked': async (c) => {
    c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (const piece of ['6\r\nhello,', '\r\n10\r\n health checker', '\n\r\n0\r\n', '\r\n']) {
      await sleep(5);
      c.write(piece);
    }
    // Keep the connection open: the chunked terminator alone must end the attempt.
    setTimeout(() => c.end(), 2000).unref();
  },
  '/split-head': async (c) => {
    for (const piece of ['HTTP/1.0 2', '00 OK\r\nContent-Le', 'ngth: 22\r\n\r', `\n${BODY}`]) {
      c.write(piece);
      await sleep(5);
    }
    c.end();
  },
  '/continue': (c) => c.end(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`),
  '/big': (c) => c.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BIG.length}\r\n\r\n${BIG}`),
  '/trickle': async (c) => {
    c.write('HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n');
    const t = setInterval(() => (c.destroyed ? clearInterval(t) : c.write('x')), 20);
    c.on('close', () => clearInterval(t));
  },
  '/silent': () => undefined,
  // answers at once, then holds the event loop (server and probe share it)
  // for longer than the probe's timeout, as a busy checker's loop is held
  '/answer-then-stall': (c) => {
    c.end(`HTTP/1.0 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      /* a busy event loop */
    }
  },
  '/hangup': (c) => c.destroy(),
  '/short': (c) => c.end('HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nonly this'),
  '/garbage': (c) => c.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'),
  '/bad-chunk': (c) => c.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnope\r\n'),
  '/huge-head': (c) => c.end(`HTTP/1.0 200 OK\r\nX: ${'a'.repeat(70_000)}`),
  '/204': (c) => c.write('HTTP/1.1 204 No Content\r\n\r\n'),
};

describe('http probe', () => {
  let v4: Awaited<ReturnType<typeof rawServer>>;
  let v6: Awaited<ReturnType<typeof rawServer>>;
  let t4: ProbeTarget;
  let t6: ProbeTarget;
  before(async () => {
    v4 = await rawServer('127.0.0.1', routes);
    v6 = await rawServer('::1', routes);
    t4 = { address: '127.0.0.1', port: v4.port, family: 4 };
    t6 = { address: '::1', port: v6.port, family: 6 };
  });
  after(() => {
    v4.server.close();
    v6.server.close();
  });

  it('resets the connection also after the server closed first: no FIN back, no TIME_WAIT left on the server', async () => {
    // its own server, so that no other case's TIME_WAIT is counted
    const own = await rawServer('127.0.0.1', routes);
    try {
      const port = own.port;
      // a read-until-close body with a digest: the attempt ends on the server's FIN
      const r = await createHttpProbe(spec({ path: '/close-body', digest: md5Hex(BODY) }), { address: '127.0.0.1', port, family: 4 }).run();
      assert.equal(reason(r), 'ok');
      await sleep(50); // a FIN from the probe would be answered by now, and the server's socket in TIME_WAIT
      const { execFileSync } = await import('node:child_process');
      const tw = execFileSync('ss', ['-Htn', 'state', 'time-wait', 'src', `127.0.0.1:${port}`], { encoding: 'utf8' }).trim();
      assert.equal(tw, '', `TIME_WAIT on the server's side: ${tw}`);
    } finally {
      own.server.close();
    }
  });

  it('sends GET with Host and User-Agent; HTTP/1.0 by default', async () => {
    const r = await createHttpProbe(spec({ path: '/ok' }), t4).run();
    assert.equal(reason(r), 'ok');
    assert.equal(r.detail, 'HTTP 200');
    assert.equal(v4.requests.at(-1), `GET /ok HTTP/1.0\r\nHost: 127.0.0.1:${v4.port}\r\nUser-Agent: xlb-healthcheck\r\n\r\n`);
  });

  it('HTTP/1.1 adds Connection: close; IPv6 Host is bracketed; a configured host is sent as is', async () => {
    assert.equal(reason(await createHttpProbe(spec({ path: '/ok', httpVersion: '1.1' }), t6).run()), 'ok');
    assert.equal(v6.requests.at(-1), `GET /ok HTTP/1.1\r\nHost: [::1]:${v6.port}\r\nUser-Agent: xlb-healthcheck\r\nConnection: close\r\n\r\n`);
    assert.equal(reason(await createHttpProbe(spec({ path: '/ok', host: 'www.example' }), t4).run()), 'ok');
    assert.match(v4.requests.at(-1) ?? '', /\r\nHost: www\.example\r\n/);
  });

  it('status must be in the ranges', async () => {
    const r = await createHttpProbe(spec({ path: '/503' }), t4).run();
    assert.equal(reason(r), 'status');
    assert.equal(!r.ok && r.detail, 'HTTP 503');
    assert.equal(reason(await createHttpProbe(spec({ path: '/503', status: parseStatusList('200-299 503') }), t6).run()), 'ok');
    assert.equal(reason(await createHttpProbe(spec({ path: '/nowhere', status: parseStatusList('200-299 400-499') }), t4).run()), 'ok');
    assert.equal(reason(await createHttpProbe(spec({ path: '/204', status: parseStatusList('204'), digest: md5Hex('') }), t4).run()), 'ok');
  });

  it('digest of Content-Length, chunked, read-until-close and split-head bodies', async () => {
    const digest = md5Hex(BODY);
    for (const path of ['/ok', '/chunked', '/close-body', '/split-head', '/continue']) {
      for (const t of [t4, t6]) {
        const r = await createHttpProbe(spec({ path, digest }), t).run();
        assert.equal(reason(r), 'ok', `${path} ${JSON.stringify(r)}`);
        // The chunked server keeps the connection open for 2 s: the terminator ended the attempt.
        assert.ok(r.durationMs < 1000, `${path} ${r.durationMs}`);
      }
    }
  });

  it('a wrong digest fails as digest and shows the body MD5 (genhash)', async () => {
    const r = await createHttpProbe(spec({ path: '/chunked', digest: md5Hex('something else') }), t4).run();
    assert.equal(reason(r), 'digest');
    assert.match(!r.ok ? r.detail : '', new RegExp(`body MD5 ${md5Hex(BODY)} \\(22 bytes\\)`));
  });

  it('maxBodyBytes caps what is read: digest and regex see the prefix', async () => {
    const r = await createHttpProbe(spec({ path: '/big', maxBodyBytes: 1000, digest: md5Hex('x'.repeat(1000)) }), t4).run();
    assert.equal(reason(r), 'ok', JSON.stringify(r));
    const r2 = await createHttpProbe(spec({ path: '/big', digest: md5Hex(BIG) }), t6).run();
    assert.equal(reason(r2), 'ok', JSON.stringify(r2));
  });

  it('regex and regexNoMatch', async () => {
    assert.equal(reason(await createHttpProbe(spec({ path: '/ok', regex: 'health\\s+check' }), t4).run()), 'ok');
    assert.equal(reason(await createHttpProbe(spec({ path: '/chunked', regex: '^sick' }), t4).run()), 'regex');
    assert.equal(reason(await createHttpProbe(spec({ path: '/ok', regex: 'maintenance', regexNoMatch: true }), t6).run()), 'ok');
    const r = await createHttpProbe(spec({ path: '/close-body', regex: 'hello', regexNoMatch: true }), t4).run();
    assert.equal(reason(r), 'regex');
    assert.match(!r.ok ? r.detail : '', /matches \/hello\//);
    // Both: digest checked first, then the regex.
    assert.equal(reason(await createHttpProbe(spec({ path: '/ok', digest: md5Hex(BODY), regex: 'nope' }), t4).run()), 'regex');
  });

  it('a body trickled slower than the timeout fails on time (keepalived #1822)', async () => {
    const r = await createHttpProbe(spec({ path: '/trickle', timeoutMs: 200, digest: md5Hex('x') }), t4).run();
    assert.equal(reason(r), 'timeout');
    assert.match(!r.ok ? r.detail : '', /^body from 127\.0\.0\.1:\d+ timed out after 200 ms$/);
    assert.ok(r.durationMs >= 195 && r.durationMs < 400, String(r.durationMs));
  });

  it('an answer that came in time is read before the timeout is judged, however late the event loop', async () => {
    const r = await createHttpProbe(spec({ path: '/answer-then-stall', timeoutMs: 50 }), t4).run();
    assert.equal(reason(r), 'ok', JSON.stringify(r));
  });

  it('a server that never answers times out in the response head phase', async () => {
    const r = await createHttpProbe(spec({ path: '/silent', timeoutMs: 100 }), t6).run();
    assert.equal(reason(r), 'timeout');
    assert.match(!r.ok ? r.detail : '', /^response head from \[::1\]:\d+ timed out/);
  });

  it('early closes fail as reset; garbage, bad chunks and huge heads as protocol', async () => {
    assert.equal(reason(await createHttpProbe(spec({ path: '/hangup' }), t4).run()), 'reset');
    const short = await createHttpProbe(spec({ path: '/short', digest: md5Hex('x') }), t4).run();
    assert.equal(reason(short), 'reset');
    assert.match(!short.ok ? short.detail : '', /during the body \(9 bytes read\)/);
    // Without digest or regex, the status alone decides and the body is not awaited.
    assert.equal(reason(await createHttpProbe(spec({ path: '/short' }), t4).run()), 'ok');
    assert.equal(reason(await createHttpProbe(spec({ path: '/garbage' }), t4).run()), 'protocol');
    assert.equal(reason(await createHttpProbe(spec({ path: '/bad-chunk', regex: 'x' }), t6).run()), 'protocol');
    assert.equal(reason(await createHttpProbe(spec({ path: '/huge-head' }), t4).run()), 'protocol');
  });

  it('refused connects fail as refused', async () => {
    const s = net.createServer();
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((res) => s.close(() => res()));
    assert.equal(reason(await createHttpProbe(spec(), { address: '127.0.0.1', port, family: 4 }).run()), 'refused');
  });

  it('runs attempts concurrently and repeatedly on one probe', async () => {
    const probe = createHttpProbe(spec({ path: '/ok', digest: md5Hex(BODY) }), t4);
    const rs = await Promise.all(Array.from({ length: 50 }, () => probe.run()));
    assert.deepEqual(new Set(rs.map(reason)), new Set(['ok']));
  });
});
