/**
 * The addon's ProbeEngine (native/src/probe_engine.cc) through its TS face
 * (src/native/socket.ts) over loopback: no privileges needed. Marked and
 * device-bound connects share TcpConnect's code (OpenTcpConnect), tested in
 * test/bpf/socket.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ProbeEngine, probeEngine, TcpTarget, type ProbeConnectionHandlers } from '../../../src/native/socket.js';
import { SystemError } from '../../../src/errors.js';

/** What a connection reported, in order. */
interface Log {
  events: string[];
  bytes: Buffer[];
  error?: Error;
}

/** Handlers that log (copying the bytes: they are a view into the batch); `then` runs after each event. */
function logging(then: (event: string) => void = () => {}): { log: Log; handlers: ProbeConnectionHandlers; waitFor: (event: string) => Promise<void> } {
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
      data: (b, last) => {
        log.bytes.push(Buffer.from(b));
        note('data');
        if (last) note('end');
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
  await new Promise<void>((r) => srv.listen(0, host, 1024, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** Bounds each test: a connection that never calls back fails instead of hanging. */
const T = { timeout: 10_000 };

describe('ProbeEngine', () => {
  const engine = probeEngine();
  let echo: { port: number; close: () => Promise<void> };
  let target: TcpTarget;
  before(async () => {
    // answers "re:" + what it read, then closes
    echo = await serve('127.0.0.1', (s) => s.once('data', (d) => s.end(Buffer.concat([Buffer.from('re:'), d]))));
    target = new TcpTarget({ family: 4, address: '127.0.0.1', port: echo.port });
  });
  after(() => echo.close());

  it('connects, writes, reads the answer and the FIN, in that order', T, async () => {
    const { log, handlers, waitFor } = logging();
    const id = engine.connect(target, handlers);
    assert.throws(() => engine.write(id, Buffer.from('early')), /not connected/, 'no write before the handshake');
    await waitFor('connected');
    engine.write(id, Buffer.from('hello'));
    await waitFor('end');
    assert.equal(Buffer.concat(log.bytes).toString(), 're:hello');
    assert.deepEqual(log.events.filter((e) => e !== 'data'), ['connected', 'end']);
    engine.close(id);
    engine.close(id); // idempotent
    assert.throws(() => engine.write(id, Buffer.from('x')), /closed/);
  });

  it('many connections at once: each gets its own bytes, whatever batch they share', T, async () => {
    const n = 300;
    const logs = Array.from({ length: n }, () => logging());
    const ids = logs.map((l) => engine.connect(target, l.handlers));
    await Promise.all(logs.map((l) => l.waitFor('connected')));
    ids.forEach((id, i) => engine.write(id, Buffer.from(`n${i}`)));
    await Promise.all(logs.map((l) => l.waitFor('end')));
    logs.forEach((l, i) => assert.equal(Buffer.concat(l.log.bytes).toString(), `re:n${i}`, `connection ${i}`));
    for (const id of ids) engine.close(id, true);
    assert.equal(engine.open, 0, 'every connection closed');
  });

  it('close(id, true) resets the connection (no TIME_WAIT left here), close(id, false) sends a FIN (TIME_WAIT)', T, async () => {
    // What the server's socket reports for a RST races with its reads (Node
    // reports some as 'end'); the client's TIME_WAIT, which a reset avoids,
    // does not race.
    for (const [reset, want] of [[true, 0], [false, 1]] as const) {
      const quiet = await serve('127.0.0.1', (c) => c.resume()); // never answers, so the client closes first
      try {
        const { handlers, waitFor } = logging();
        const id = engine.connect(new TcpTarget({ family: 4, address: '127.0.0.1', port: quiet.port }), handlers);
        await waitFor('connected');
        engine.write(id, Buffer.from('x'));
        await new Promise((r) => setTimeout(r, 20));
        engine.close(id, reset);
        await new Promise((r) => setTimeout(r, 50)); // the server closes its side after a FIN
        const tw = await new Promise<string>((done, fail) =>
          execFile('ss', ['-Htn', 'state', 'time-wait', 'dst', `127.0.0.1:${quiet.port}`], (err, out) => (err ? fail(err) : done(out))),
        );
        assert.equal(tw.trim() === '' ? 0 : tw.trim().split('\n').length, want, `close(${reset}): TIME_WAIT sockets towards the server: ${tw}`);
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
    const id = engine.connect(new TcpTarget({ family: 4, address: '127.0.0.1', port }), handlers);
    await waitFor('error');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(log.events, ['error']);
    assert.ok(log.error instanceof SystemError);
    assert.equal((log.error as SystemError).code, 'ECONNREFUSED');
    assert.equal((log.error as SystemError).syscall, 'connect');
    assert.match(log.error.message, new RegExp(`127\\.0\\.0\\.1 port ${port}`), 'the peer in the message');
    assert.throws(() => engine.write(id, Buffer.from('x')), /closed/);
    engine.close(id); // ignored
  });

  it('no handler runs after close(), even when closed from inside a handler of the same batch', T, async () => {
    const chatty = await serve('127.0.0.1', (c) => {
      c.write('one');
      setTimeout(() => c.end('two'), 30);
    });
    try {
      const t = new TcpTarget({ family: 4, address: '127.0.0.1', port: chatty.port });
      // two connections; the first to read closes both
      const ids: number[] = [];
      const closeBoth = (e: string): void => {
        if (e === 'data') for (const id of ids) engine.close(id, true);
      };
      const a = logging(closeBoth);
      const b = logging(closeBoth);
      ids.push(engine.connect(t, a.handlers), engine.connect(t, b.handlers));
      await Promise.race([a.waitFor('data'), b.waitFor('data')]);
      await new Promise((r) => setTimeout(r, 80));
      const all = [...a.log.events, ...b.log.events].filter((e) => e === 'data');
      assert.equal(all.length, 1, 'one data event in all: the other connection was closed before its turn');
      assert.ok(!a.log.events.includes('end') && !b.log.events.includes('end'));
    } finally {
      await chatty.close();
    }
  });

  it('a large write goes out whole and in order; a large answer comes whole, over several batches', T, async () => {
    const big = Buffer.alloc(8 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 255;
    let got!: Promise<Buffer>;
    // reads slowly at first (the socket buffer fills), then echoes every byte back
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
            const all = Buffer.concat(parts);
            c.end(all);
            done(all);
          }
        });
      });
    });
    try {
      const { log, handlers, waitFor } = logging();
      const id = engine.connect(new TcpTarget({ family: 4, address: '127.0.0.1', port: sink.port }), handlers);
      await waitFor('connected');
      engine.write(id, big.subarray(0, 5 << 20));
      engine.write(id, big.subarray(5 << 20)); // queued behind what the first left
      await waitFor('end');
      const all = await got;
      assert.ok(all.equals(big), 'the server got the same bytes, in order');
      assert.ok(Buffer.concat(log.bytes).equals(big), 'and the client got them back whole');
      engine.close(id);
    } finally {
      await sink.close();
    }
  });

  it('IPv6 ::1', T, async () => {
    const six = await serve('::1', (c) => c.end('v6'));
    try {
      const { log, handlers, waitFor } = logging();
      const id = engine.connect(new TcpTarget({ family: 6, address: '::1', port: six.port }), handlers);
      await waitFor('end');
      assert.equal(Buffer.concat(log.bytes).toString(), 'v6');
      engine.close(id, true);
    } finally {
      await six.close();
    }
  });

  it('delayAck: the handshake\'s last ACK goes with the first bytes written, so the server accepts only then', T, async () => {
    let accepted = 0;
    const counting = await serve('127.0.0.1', (c) => {
      accepted++;
      c.resume();
    });
    try {
      for (const delayAck of [false, true]) {
        accepted = 0;
        const { handlers, waitFor } = logging();
        const id = engine.connect(new TcpTarget({ family: 4, address: '127.0.0.1', port: counting.port, delayAck }), handlers);
        await waitFor('connected');
        if (delayAck) {
          // well within the delayed-ACK timer (200 ms): no bare ACK has gone, no connection to accept
          await new Promise((r) => setTimeout(r, 50));
          assert.equal(accepted, 0, 'not accepted before the first bytes');
          engine.write(id, Buffer.from('x'));
        }
        for (let i = 0; i < 200 && accepted === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(accepted, 1, `delayAck ${delayAck}: accepted`);
        engine.close(id, true);
      }
    } finally {
      await counting.close();
    }
  });

  it('bad options throw at once', T, () => {
    assert.throws(() => new TcpTarget({ family: 4, address: 'nope', port: 80 }), TypeError);
    assert.throws(() => new TcpTarget({ family: 4, address: '127.0.0.1', port: 0 }), RangeError);
    assert.throws(() => new TcpTarget({ family: 5 as 4, address: '127.0.0.1', port: 80 }), TypeError);
    assert.throws(() => engine.connect({ native: {} } as TcpTarget, logging().handlers), /TcpTarget/);
  });

  it('keeps the process alive while a connection is open, and not once all are closed', T, async () => {
    const socket = fileURLToPath(new URL('../../../src/native/socket.js', import.meta.url));
    // connects, waits for the answer (the loop must stay alive for it), closes, and must then exit by itself
    const child = `
      const { ProbeEngine, TcpTarget } = await import(${JSON.stringify(socket)});
      const e = new ProbeEngine();
      const id = e.connect(new TcpTarget({ family: 4, address: '127.0.0.1', port: ${echo.port} }), {
        connected: () => e.write(id, Buffer.from('x')),
        data: (b, last) => { process.stdout.write(b.toString()); if (last) e.close(id); },
        end: () => e.close(id),
        error: (err) => { console.error(err); process.exitCode = 1; },
      });`;
    const out = await new Promise<string>((done, fail) =>
      execFile(process.execPath, ['--input-type=module', '-e', child], { timeout: 5000 }, (err, stdout) => (err ? fail(err) : done(stdout))),
    );
    assert.equal(out, 're:x');
  });

  it('one engine per ProbeEngine object; probeEngine() is the thread\'s one', () => {
    assert.equal(probeEngine(), engine);
    assert.ok(new ProbeEngine() !== engine);
  });
});
