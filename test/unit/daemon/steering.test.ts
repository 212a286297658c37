/**
 * Steering of `target: vip` health checks: where the program is attached
 * (lo and the xlb interfaces, only while a check needs it) and the marks
 * handed out (unique, reused after release, written to the data plane).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import type { XlbConfig } from '../../../src/config/model.js';
import { needsSteering, Steering, XLB_HC_MARK_BASE, type SteeringDataplane } from '../../../src/daemon/steering.js';
import { yaml } from '../config/yaml-text.js';

const log = pino({ level: 'silent' });

function config(check: string, interfaces = '[{ name: eth0 }, { name: eth1 }]'): XlbConfig {
  const r = parseConfig(
    yaml`
    instance: t
    interfaces: ${interfaces}
    services:
      - address: 10.9.0.1
        port: 80
        mode: tunnel
        health: { checks: [${check}] }
        backends: [{ address: 10.0.0.1 }, { address: 10.0.0.2 }]
  `,
    't.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** Records what the data plane was asked to do. */
class FakeDp implements SteeringDataplane {
  readonly calls: string[] = [];
  readonly targets = new Map<number, string>();
  failSet = false;
  attachSteering(linkPath: string, ifindex: number): 'attached' {
    this.calls.push(`attach ${linkPath} ${ifindex}`);
    return 'attached';
  }
  setSteering(mark: number, t: { backend: string; mode: string; inIfindex: number }): void {
    if (this.failSet) throw new Error('map full');
    this.targets.set(mark, `${t.backend} ${t.mode} in ${t.inIfindex}`);
  }
  deleteSteering(mark: number): void {
    this.targets.delete(mark);
  }
}

const IFINDEX: Record<string, number> = { lo: 1, eth0: 2, eth1: 3 };

function make(dp: FakeDp, detached: string[]): Steering {
  return new Steering(dp, '/sys/fs/bpf/xlb/t', log, (n) => IFINDEX[n]!, (p) => void detached.push(p));
}

describe('Steering', () => {
  it('attaches at lo and every interface only while some check has target: vip, and detaches after', () => {
    const dp = new FakeDp();
    const detached: string[] = [];
    const s = make(dp, detached);
    assert.equal(needsSteering(config('{ type: tcp }')), false);
    s.sync(config('{ type: tcp }'));
    assert.deepEqual(dp.calls, []);
    s.sync(config('{ type: tcp, target: vip }'));
    assert.deepEqual(dp.calls, ['attach /sys/fs/bpf/xlb/t/link_tc_lo 1', 'attach /sys/fs/bpf/xlb/t/link_tc_eth0 2', 'attach /sys/fs/bpf/xlb/t/link_tc_eth1 3']);
    assert.deepEqual(s.devices, ['lo', 'eth0', 'eth1']);
    s.sync(config('{ type: tcp, target: vip }', '[{ name: eth0 }]'));
    assert.deepEqual(detached, ['/sys/fs/bpf/xlb/t/link_tc_eth1']);
    s.sync(config('{ type: tcp }'));
    assert.deepEqual(detached, ['/sys/fs/bpf/xlb/t/link_tc_eth1', '/sys/fs/bpf/xlb/t/link_tc_lo', '/sys/fs/bpf/xlb/t/link_tc_eth0']);
    assert.deepEqual(s.devices, []);
  });

  it('hands out unique marks, routes by the first interface, and reuses released marks', () => {
    const dp = new FakeDp();
    const s = make(dp, []);
    s.sync(config('{ type: tcp, target: vip }', '[{ name: eth1 }, { name: eth0 }]'));
    const a = s.acquire('10.0.0.1', 'tunnel');
    const b = s.acquire('10.0.0.2', 'dr');
    assert.deepEqual([a, b], [XLB_HC_MARK_BASE + 1, XLB_HC_MARK_BASE + 2]);
    assert.deepEqual([...dp.targets], [
      [a, '10.0.0.1 tunnel in 3'],
      [b, '10.0.0.2 dr in 3'],
    ]);
    s.release(a);
    assert.equal(dp.targets.has(a), false);
    assert.equal(s.acquire('10.0.0.3', 'tunnel'), a, 'a released mark is reused');
  });

  it('a refused map write gives no mark away; no interface, no marks', () => {
    const dp = new FakeDp();
    const s = make(dp, []);
    assert.throws(() => s.acquire('10.0.0.1', 'tunnel'), /need an xlb interface/);
    s.sync(config('{ type: tcp, target: vip }'));
    dp.failSet = true;
    assert.throws(() => s.acquire('10.0.0.1', 'tunnel'), /map full/);
    dp.failSet = false;
    assert.equal(s.acquire('10.0.0.1', 'tunnel'), XLB_HC_MARK_BASE + 1, 'the mark of the failed write is still free');
  });
});
