/**
 * SMTP_CHECK against scripted servers on 127.0.0.1 and ::1: banner 2xx,
 * HELO answered 2xx (single and multi-line replies, split across packets),
 * then QUIT; non-2xx replies, early closes, garbage and silence fail.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { SmtpCheckSpec } from '../../../../src/health/spec.js';
import { SmtpReplyReader, createSmtpProbe } from '../../../../src/health/probes/smtp.js';
import type { ProbeResult, ProbeTarget } from '../../../../src/health/probes/types.js';
import { TEST_NET } from '../../../support/check-spec.js';

const spec = (over: Partial<SmtpCheckSpec> = {}): SmtpCheckSpec => ({
  type: 'smtp',
  ...TEST_NET,
  heloName: 'xlb.healthcheck',
  ...over,
});
const reason = (r: ProbeResult): string => (r.ok ? 'ok' : r.reason);

describe('SmtpReplyReader', () => {
  it('joins multi-line replies and keeps partial lines', () => {
    const r = new SmtpReplyReader();
    assert.deepEqual(r.push(Buffer.from('220-mx.test ESMTP\r\n220-second')), []);
    assert.deepEqual(r.push(Buffer.from(' line\r\n220 ready\r\n250 ok\n')), [
      { code: 220, lines: ['mx.test ESMTP', 'second line', 'ready'] },
      { code: 250, lines: ['ok'] },
    ]);
    assert.deepEqual(r.push(Buffer.from('221\r\n')), [{ code: 221, lines: [''] }]);
  });

  it('rejects lines that are not replies, and endless lines', () => {
    assert.match(String(new SmtpReplyReader().push(Buffer.from('HTTP/1.1 400 Bad\r\n'))), /bad reply line/);
    assert.match(String(new SmtpReplyReader().push(Buffer.from('2200 x\r\n'))), /bad reply line/);
    assert.match(String(new SmtpReplyReader().push(Buffer.alloc(5000, 0x61))), /longer than 4096/);
  });
});

/** A line-oriented server: `onConnect` greets, `onLine` answers each command line; records the lines. */
async function smtpServer(host: string, onConnect: (c: net.Socket) => void, onLine: (c: net.Socket, line: string) => void) {
  const lines: string[] = [];
  const server = net.createServer((c) => {
    c.on('error', () => undefined);
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        lines.push(line);
        onLine(c, line);
      }
    });
    onConnect(c);
  });
  await new Promise<void>((res) => server.listen(0, host, res));
  return { server, port: (server.address() as net.AddressInfo).port, lines };
}

/** A well-behaved MTA with a multi-line banner and multi-line HELO reply, sent in pieces. */
const goodConnect = (c: net.Socket): void => {
  c.write('220-mx.test ESMTP\r\n');
  setTimeout(() => c.write('220-more banner\r\n220 ready\r'), 5);
  setTimeout(() => c.write('\n'), 10);
};
const goodLine = (c: net.Socket, line: string): void => {
  if (line.startsWith('HELO ')) c.write('250-mx.test hello\r\n250 nice to meet you\r\n');
  else if (line === 'QUIT') c.end('221 bye\r\n');
};

describe('smtp probe', () => {
  const servers: { server: net.Server }[] = [];
  const target = async (host: string, onConnect: (c: net.Socket) => void, onLine: (c: net.Socket, line: string) => void = () => undefined) => {
    const s = await smtpServer(host, onConnect, onLine);
    servers.push(s);
    const t: ProbeTarget = { address: host, port: s.port, family: host.includes(':') ? 6 : 4 };
    return { t, lines: s.lines };
  };
  after(() => {
    for (const s of servers) s.server.close();
  });
  let good4: Awaited<ReturnType<typeof target>>;
  let good6: Awaited<ReturnType<typeof target>>;
  before(async () => {
    good4 = await target('127.0.0.1', goodConnect, goodLine);
    good6 = await target('::1', goodConnect, goodLine);
  });

  it('banner 2xx, HELO 2xx, then QUIT (multi-line replies, split packets)', async () => {
    for (const g of [good4, good6]) {
      const r = await createSmtpProbe(spec({ heloName: 'checker.test' }), g.t).run();
      assert.equal(reason(r), 'ok', JSON.stringify(r));
      assert.equal(r.detail, '250 mx.test hello');
      await new Promise((res) => setTimeout(res, 20));
      assert.deepEqual(g.lines.slice(-2), ['HELO checker.test', 'QUIT']);
    }
  });

  it('a non-2xx banner or HELO reply fails as status', async () => {
    const busy = await target('127.0.0.1', (c) => c.end('554 5.3.2 too busy\r\n'));
    const r = await createSmtpProbe(spec(), busy.t).run();
    assert.deepEqual([reason(r), !r.ok && r.detail], ['status', 'banner 554 5.3.2 too busy']);
    const helo = await target('::1', (c) => c.write('220 hi\r\n'), (c) => c.write('501-syntax\r\n501 error\r\n'));
    const r2 = await createSmtpProbe(spec(), helo.t).run();
    assert.deepEqual([reason(r2), !r2.ok && r2.detail], ['status', 'HELO reply 501 error']);
  });

  it('an early close fails as reset, garbage as protocol, silence as timeout', async () => {
    const hang = await target('127.0.0.1', (c) => c.write('220 hi\r\n'), (c) => c.end());
    const r = await createSmtpProbe(spec(), hang.t).run();
    assert.deepEqual([reason(r), !r.ok && r.detail], ['reset', 'connection closed by the server during the HELO reply']);
    const ssh = await target('127.0.0.1', (c) => c.write('SSH-2.0-OpenSSH_9.6\r\n'));
    assert.equal(reason(await createSmtpProbe(spec(), ssh.t).run()), 'protocol');
    const quiet = await target('::1', () => undefined);
    const q = await createSmtpProbe(spec({ timeoutMs: 100 }), quiet.t).run();
    assert.equal(reason(q), 'timeout');
    assert.match(!q.ok ? q.detail : '', /^banner from \[::1\]:\d+ timed out after 100 ms$/);
  });

  it('a HELO name that would break the command is a config error', () => {
    assert.throws(() => createSmtpProbe(spec({ heloName: 'a b' }), good4.t), /bad SMTP check HELO name/);
    assert.throws(() => createSmtpProbe(spec({ heloName: 'a\r\nRCPT' }), good4.t), /bad SMTP check HELO name/);
  });
});
