/**
 * BfdHost and the real BFD worker over the worker protocol, without
 * sockets: a spec the runtime refuses comes back as a rejected apply (and
 * nothing runs); status of an empty runtime; stop() ends the worker and is
 * not a crash. With stand-in workers: a worker that dies is reported
 * (`crashed`) and requests to it answer at once instead of hanging.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { BfdHost, type BfdHostLog } from '../../../src/bfd/host.js';

const lines: string[] = [];
const entries: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
const at =
  (level: string) =>
  (obj: Record<string, unknown>, msg: string): void => {
    lines.push(msg);
    entries.push({ level, obj, msg });
  };
const log: BfdHostLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };

/** (rt_priority, policy) of each thread of this process (proc(5) stat fields 40 and 41; policy 1 = SCHED_FIFO). */
function threadScheduling(): [number, number][] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // the fields after the command start at field 3
      return [[Number(f[40 - 3]), Number(f[41 - 3])] as [number, number]];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}
const worker = (code: string): URL => new URL(`data:text/javascript,${encodeURIComponent(code)}`);
const session = { name: 'b1', peer: '192.0.2.2', local: '192.0.2.1', desiredMinTxUs: 10_000, requiredMinRxUs: 10_000, detectMult: 3 };

describe('BfdHost', () => {
  it('the real worker refuses a bad spec (nothing runs), reports an empty status, and stops', async () => {
    const host = new BfdHost(log);
    let crashed = false;
    host.on('crashed', () => (crashed = true));
    await assert.rejects(host.apply({ sessions: [session, session] }), /defined twice/);
    await assert.rejects(host.apply({ sessions: [{ ...session, peer: 'not-an-address' }] }), /not an IP address/);
    const st = await host.status();
    assert.deepEqual(st.sessions, []);
    assert.deepEqual(st.drops, {});
    await host.stop();
    assert.equal(crashed, false);
    assert.deepEqual(await host.status(), st, 'after stop: the last known status');
  });

  it("runs the worker thread SCHED_FIFO at the apply's rtPriority (bfd rt_priority), logged; refused without CAP_SYS_NICE, logged", async () => {
    const host = new BfdHost(log);
    try {
      const fifo7 = (): boolean => threadScheduling().some(([prio, policy]) => prio === 7 && policy === 1);
      assert.equal(fifo7(), false, 'no thread at SCHED_FIFO 7 before');
      await host.apply({ sessions: [] }, 7);
      // the log line comes through the worker's messages, just before the answer: wait for it (bounded)
      for (let i = 0; i < 100 && !entries.some((e) => e.obj.priority === 7); i++) await new Promise((r) => setTimeout(r, 10));
      const e = entries.find((x) => x.obj.priority === 7);
      assert.ok(e, 'the scheduling change is logged');
      assert.equal(e.obj.area, 'bfd');
      if (e.level === 'info') {
        assert.equal(e.msg, 'bfd: thread scheduled SCHED_FIFO');
        assert.equal(fifo7(), true, 'one thread (the worker) is SCHED_FIFO at 7');
      } else {
        assert.equal(e.level, 'warn');
        assert.match(e.msg, /^bfd: real-time scheduling refused/);
      }
      // the same priority again: nothing to do, nothing logged
      const logged = (): number => entries.filter((x) => x.obj.priority !== undefined).length;
      const n = logged();
      await host.apply({ sessions: [] }, 7);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(logged(), n);
    } finally {
      await host.stop();
    }
  });

  it('reports a worker that exits on its own as crashed; requests to it answer at once', async () => {
    const host = new BfdHost(log, {}, worker('process.exit(3)'));
    const code = await new Promise((r) => host.once('crashed', r));
    assert.equal(code, 3);
    assert.deepEqual((await host.status()).sessions, []);
    await assert.rejects(host.apply({ sessions: [] }), /has exited/);
    await host.stop();
  });
});
