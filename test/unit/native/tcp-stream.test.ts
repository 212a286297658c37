/**
 * The addon's TcpStream (native/src/tcp_stream.cc) through its TS face
 * (src/native/socket.ts) over loopback: no privileges needed. Marked and
 * device-bound connects share TcpConnect's code (OpenTcpConnect), tested in
 * test/bpf/socket.test.ts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TcpStream, type TcpStreamHandlers } from '../../../src/native/socket.js';
import { SystemError } from '../../../src/errors.js';

/** What a stream reported, in order. */
interface Log {
  events: string[];
  bytes: Buffer[];
  error?: Error;
}

/** Handlers that log; `then` runs after each event (to act from inside a callback). */
function logging(then: (event: string) => void = () => {}): { log: Log; handlers: TcpStreamHandlers; waitFor: (event: string) => Promise<void> } {
  const log: Log = { events: [], bytes: [] };
  const waiters: [string, () => void][] = [];
  const note = (e: string): void => {
    log.events.push(e);
    then(e);
    for (const [w, done] of waiters.splice(0)) if (w === e) done();
      else waiters.push([w, done]);
  };
  return {
    log,
    handlers: {
      connected: () => note('connected'),
      data: (b) => {
        log.bytes.push(b);
        note('data');
      },
      end: () => note('end'),
      error: (err) => {
        log.error = err;
        note('error');
      },
    },
    waitFor: (event) => (log.events.includes(event) ? Promise.resolve() : new Promise((done) => waiters.push([event, done]))),
  };
}

/** A loopback server; `onConn` gets each accepted socket. */
async function serve(host: string, onConn: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(0, host, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** Bounds each test: a stream that never calls back fails instead of hanging. */
const T = { timeout: 10_000 };

describe('TcpStream', () => {
  let echo: { port: number; close: () => Promise<void> };
  before(async () => {
    // answers "re:" + what it read, then closes
    echo = await serve('127.0.0.1', (s) => s.once('data', (d) => s.end(Buffer.concat([Buffer.from('re:'), d]))));
  });
  after(() => echo.close());

  it('connects, writes, reads the answer and the FIN, in that order', T, async () => {
    const { log, handlers, waitFor } = logging();
    const s = new TcpStream({ family: 4, address: '127.0.0.1', port: echo.port }, handlers);
    assert.equal(s.connected, false);
    assert.throws(() => s.write(Buffer.from('early')), /not connected/, 'no write before the handshake');
    await waitFor('connected');
    assert.equal(s.connected, true);
    s.write(Buffer.from('hello'));
    await waitFor('end');
    assert.equal(Buffer.concat(log.bytes).toString(), 're:hello');
    assert.deepEqual(log.events.filter((e) => e !== 'data'), ['connected', 'end']);
    assert.equal(s.ended, true);
    s.close(false);
    assert.equal(s.closed, true);
    s.close(true); // idempotent
  });

  it('close(true) resets the connection, close(false) sends a FIN', T, async () => {
    for (const [reset, want] of [[true, 'ECONNRESET'], [false, 'fin']] as const) {
      // a server that does not answer, so the client closes first
      let seen!: Promise<string>;
      const quiet = await serve('127.0.0.1', (c) => {
        seen = new Promise((done) => {
          c.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
          c.on('end', () => done('fin'));
          c.resume();
        });
      });
      try {
        const { handlers, waitFor } = logging();
        const s = new TcpStream({ family: 4, address: '127.0.0.1', port: quiet.port }, handlers);
        await waitFor('connected');
        s.write(Buffer.from('x'));
        await new Promise((r) => setTimeout(r, 20));
        s.close(reset);
        assert.equal(await seen, want, `close(${reset})`);
      } finally {
        await quiet.close();
      }
    }
  });

  it('a refused connect is one error event (SystemError ECONNREFUSED, syscall connect), then nothing', T, async () => {
    const free = await serve('127.0.0.1', () => {});
    const port = free.port;
    await free.close(); // nothing listens there now
    const { log, handlers, waitFor } = logging();
    const s = new TcpStream({ family: 4, address: '127.0.0.1', port }, handlers);
    await waitFor('error');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(log.events, ['error']);
    assert.ok(log.error instanceof SystemError);
    assert.equal((log.error as SystemError).code, 'ECONNREFUSED');
    assert.equal((log.error as SystemError).syscall, 'connect');
    assert.equal(s.closed, true);
    assert.throws(() => s.write(Buffer.from('x')), /closed/);
  });

  it('no handler runs after close(), even from inside a handler', T, async () => {
    const chatty = await serve('127.0.0.1', (c) => {
      c.write('one');
      setTimeout(() => c.end('two'), 30);
    });
    try {
      let s!: TcpStream;
      const { log, handlers, waitFor } = logging((e) => e === 'data' && s.close(true));
      s = new TcpStream({ family: 4, address: '127.0.0.1', port: chatty.port }, handlers);
      await waitFor('data');
      await new Promise((r) => setTimeout(r, 80));
      assert.deepEqual(log.events, ['connected', 'data']);
      assert.equal(Buffer.concat(log.bytes).toString(), 'one');
    } finally {
      await chatty.close();
    }
  });

  it('a write larger than the socket takes goes out whole and in order, as the peer reads', T, async () => {
    const big = Buffer.alloc(8 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 255;
    let got!: Promise<Buffer>;
    // reads slowly at first (the socket buffer fills), then answers once it has every byte
    const sink = await serve('127.0.0.1', (c) => {
      got = new Promise((done) => {
        const parts: Buffer[] = [];
        let n = 0;
        c.pause();
        setTimeout(() => c.resume(), 50);
        c.on('data', (d) => {
          parts.push(d);
          n += d.length;
          if (n >= big.length) {
            c.end('ok');
            done(Buffer.concat(parts));
          }
        });
      });
    });
    try {
      const { log, handlers, waitFor } = logging();
      const s = new TcpStream({ family: 4, address: '127.0.0.1', port: sink.port }, handlers);
      await waitFor('connected');
      s.write(big.subarray(0, 5 << 20));
      s.write(big.subarray(5 << 20)); // queued behind what the first left
      await waitFor('end');
      assert.equal(Buffer.concat(log.bytes).toString(), 'ok');
      const all = await got;
      assert.equal(all.length, big.length);
      assert.ok(all.equals(big), 'same bytes, same order');
      s.close(false);
    } finally {
      await sink.close();
    }
  });

  it('IPv6 ::1', T, async () => {
    const six = await serve('::1', (c) => c.end('v6'));
    try {
      const { log, handlers, waitFor } = logging();
      const s = new TcpStream({ family: 6, address: '::1', port: six.port }, handlers);
      await waitFor('end');
      assert.equal(Buffer.concat(log.bytes).toString(), 'v6');
      s.close(true);
    } finally {
      await six.close();
    }
  });

  it('bad options throw at once', T, () => {
    const { handlers } = logging();
    assert.throws(() => new TcpStream({ family: 4, address: 'nope', port: 80 }, handlers), TypeError);
    assert.throws(() => new TcpStream({ family: 4, address: '127.0.0.1', port: 0 }, handlers), RangeError);
    assert.throws(() => new TcpStream({ family: 5 as 4, address: '127.0.0.1', port: 80 }, handlers), TypeError);
  });
});
