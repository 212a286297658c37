/**
 * The health runner with scripted probes and mocked timers: results reach the
 * state machines, changes are announced in the same turn, the planner sees
 * down, drained and sorry-server states, reloads keep unchanged checks, and
 * stop() stops everything.
 */
import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import type { XlbConfig } from '../../../src/config/model.js';
import { HealthRunner } from '../../../src/health/runner.js';
import type { Probe, ProbeResult, ProbeTarget } from '../../../src/health/probes/types.js';
import type { CheckSpec } from '../../../src/health/spec.js';
import { emptyView, planReconcile } from '../../../src/daemon/plan.js';
import { yaml } from '../config/yaml-text.js';

const log = pino({ level: 'silent' });

function config(text: string): XlbConfig {
  const r = parseConfig(text, 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

const base = (health: string, extra = ''): string => yaml`
  instance: t
  interfaces: [{ name: eth0 }]
  services:
    - address: 10.9.0.1
      port: 80
      mode: dr
      ${extra}
      health:
        ${health}
      backends:
        - address: 10.0.0.1
        - address: 10.0.0.2
        - address: 10.0.0.3
`;

/** Scripted probes: `down` holds the addresses whose checks fail. */
class Probes {
  readonly down = new Set<string>();
  readonly created: string[] = [];
  readonly runs: string[] = [];
  closed = 0;
  create = (spec: CheckSpec, target: ProbeTarget): Probe => {
    this.created.push(`${spec.type} ${target.address}:${target.port}`);
    return {
      run: async (): Promise<ProbeResult> => {
        this.runs.push(target.address);
        return this.down.has(target.address) ? { ok: false, reason: 'refused', detail: 'refused', durationMs: 1 } : { ok: true, durationMs: 1 };
      },
      close: () => void this.closed++,
    };
  };
}

describe('HealthRunner', () => {
  let t = 0;
  let probes: Probes;
  let runner: HealthRunner;
  let changes: string[][];
  const advance = async (ms: number): Promise<void> => {
    // step 1 ms at a time so that timers, probe promises and re-arms interleave as in real time
    for (let i = 0; i < ms; i++) {
      t += 1;
      mock.timers.tick(1);
      await new Promise((r) => setImmediate(r));
    }
  };
  const make = (): HealthRunner => {
    const r = new HealthRunner({ log, now: () => t, rng: () => 0, createProbe: probes.create, runCommand: (cmd, env) => commands.push([...cmd.argv, env.XLB_STATE ?? ''].join(' ')) });
    r.on('change', (keys: string[]) => changes.push(keys));
    return r;
  };
  let commands: string[];

  beforeEach(() => {
    // only setTimeout: advance() awaits real setImmediate turns for the probe promises
    mock.timers.enable({ apis: ['setTimeout'] });
    t = 0;
    probes = new Probes();
    changes = [];
    commands = [];
  });
  afterEach(() => {
    runner?.stop();
    mock.timers.reset();
  });

  it('takes a failing backend out after fall rounds, and back after rise', async () => {
    const cfg = config(base('interval: 100ms\ntimeout: 50ms\nfall: 2\nrise: 2\nwarmup: 0s\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        ')));
    runner = make();
    runner.sync(cfg);
    assert.deepEqual(probes.created, ['tcp 10.0.0.1:80', 'tcp 10.0.0.2:80', 'tcp 10.0.0.3:80']);
    await advance(1);
    assert.equal(probes.runs.length, 3, 'the first round at once (warmup 0)');
    probes.down.add('10.0.0.2');
    await advance(100);
    assert.deepEqual(runner.backend('10.9.0.1|80|tcp', '10.0.0.2:0', 1), { up: true, weight: 1 }, 'one failed round of two');
    assert.equal(changes.length, 0);
    await advance(100);
    assert.deepEqual(runner.backend('10.9.0.1|80|tcp', '10.0.0.2:0', 1), { up: false, weight: 0 });
    assert.deepEqual(changes, [['10.9.0.1|80|tcp']]);
    probes.down.clear();
    await advance(100);
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.2:0', 1).up, false, 'rise 2: one good round is not enough');
    await advance(100);
    assert.deepEqual(runner.backend('10.9.0.1|80|tcp', '10.0.0.2:0', 1), { up: true, weight: 1 });
    assert.equal(changes.length, 2);
  });

  it('inhibit_on_failure drains (up, weight 0) instead of removing', async () => {
    runner = make();
    runner.sync(config(base('interval: 100ms\nwarmup: 0s\ninhibit_on_failure: true\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        '))));
    probes.down.add('10.0.0.1');
    await advance(1);
    assert.deepEqual(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1), { up: true, weight: 0 });
  });

  it('the planner leaves a down backend out of the ring and marks it down after the flip', async () => {
    const cfg = config(base('interval: 100ms\nwarmup: 0s\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        ')));
    runner = make();
    runner.sync(cfg);
    probes.down.add('10.0.0.3');
    await advance(1);
    const plan = planReconcile(emptyView(), cfg, 13, { maxVips: 4, maxBackends: 8, maxRings: 4 }, runner);
    const svc = plan.services.get('10.9.0.1|80|tcp')!;
    assert.deepEqual(
      svc.backends.map((b) => [b.key, b.up, b.weight]),
      [
        ['10.0.0.1:0', true, 1],
        ['10.0.0.2:0', true, 1],
        ['10.0.0.3:0', false, 0],
      ],
    );
    const ops = plan.steps.map((s) => (s.op === 'put-backend' ? `put ${s.id} ${s.up}` : s.op));
    assert.deepEqual(ops.slice(0, 4), ['put 1 true', 'put 2 true', 'put 3 false', 'write-ring']);
  });

  it('quorum lost: the sorry server alone; the quorum_down command runs', async () => {
    const cfg = config(
      base('interval: 100ms\nwarmup: 0s\nquorum: 2\nquorum_down: [/bin/page, q]\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        '), 'sorry_server: { address: 10.0.0.99 }'),
    );
    runner = make();
    runner.sync(cfg);
    probes.down.add('10.0.0.1');
    probes.down.add('10.0.0.2');
    await advance(1);
    assert.equal(runner.sorryActive('10.9.0.1|80|tcp'), true);
    assert.deepEqual(commands, ['/bin/page q DOWN']);
    const plan = planReconcile(emptyView(), cfg, 13, { maxVips: 4, maxBackends: 8, maxRings: 4 }, runner);
    const svc = plan.services.get('10.9.0.1|80|tcp')!;
    assert.deepEqual(svc.backends.filter((b) => b.up).map((b) => b.key), ['10.0.0.99:0']);
    probes.down.clear();
    await advance(100);
    assert.equal(runner.sorryActive('10.9.0.1|80|tcp'), false);
  });

  it('a reload keeps unchanged checks running as they were, and restarts changed ones in their state', async () => {
    const a = config(base('interval: 100ms\nwarmup: 0s\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        ')));
    runner = make();
    runner.sync(a);
    probes.down.add('10.0.0.1');
    await advance(1);
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, false);
    runner.sync(a);
    assert.equal(probes.created.length, 3, 'same config: no probe recreated');
    const b = config(base('interval: 200ms\nwarmup: 0s\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        ')));
    runner.sync(b);
    assert.equal(probes.created.length, 6, 'changed checks: new probes');
    assert.equal(probes.closed, 3, 'the old ones closed');
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, false, 'still down until a good round');
    probes.down.clear();
    await advance(1);
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, true);
  });

  it('a reload that changes one check of a backend keeps the other check: its state, counters and schedule', async () => {
    const two = (second: string): XlbConfig =>
      config(base(`interval: 100ms\nwarmup: 0s\nfall: 3\nchecks: [{ type: tcp }, ${second}]`.replace(/\n/g, '\n        ')));
    runner = make();
    runner.sync(two('{ type: tcp, connect_port: 81 }'));
    await advance(1);
    probes.down.add('10.0.0.1');
    await advance(200); // two failed rounds of three
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, true);
    const runsBefore = probes.runs.length;
    runner.sync(two('{ type: tcp, connect_port: 82 }'));
    assert.deepEqual(probes.created.slice(6), ['tcp 10.0.0.1:82', 'tcp 10.0.0.2:82', 'tcp 10.0.0.3:82'], 'only the changed check is made again');
    assert.equal(probes.closed, 3);
    await advance(1);
    // the kept check's third failed round is due 100 ms after its second, as before the reload;
    // the new check fails its first round at once, but fall 3 holds it up
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, true);
    await advance(100);
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, false, 'the kept check went down on its third failed round');
    const st = runner.status('10.9.0.1|80|tcp')[0]!;
    assert.match(st.checks[0]!.reason, /3 failed rounds/);
    assert.ok(probes.runs.length > runsBefore);
  });

  it('wasDown: a backend the data plane held down starts down', async () => {
    runner = make();
    runner.sync(config(base('interval: 100ms\nwarmup: 50ms\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        '))), (_s, b) => b === '10.0.0.2:0');
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.2:0', 1).up, false);
    assert.equal(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1).up, true);
  });

  it('stop() stops every timer and closes the probes', async () => {
    runner = make();
    runner.sync(config(base('interval: 100ms\nwarmup: 0s\nchecks: [{ type: tcp }]'.replace(/\n/g, '\n        '))));
    await advance(1);
    const n = probes.runs.length;
    runner.stop();
    await advance(500);
    assert.equal(probes.runs.length, n);
    assert.equal(probes.closed, 3);
  });

  it('target: vip checks go to the VIP with a steering mark per backend, released when they stop', async () => {
    const held = new Map<number, string>();
    let n = 0;
    const steering = {
      acquire: (backend: string, mode: 'dr' | 'tunnel'): number => {
        const mark = 100 + ++n;
        held.set(mark, `${backend} ${mode}`);
        return mark;
      },
      release: (mark: number): void => void held.delete(mark),
    };
    const targets: ProbeTarget[] = [];
    runner = new HealthRunner({ log, now: () => t, rng: () => 0, steering, createProbe: (spec, target) => (targets.push(target), probes.create(spec, target)) });
    const cfg = config(base('warmup: 0s\nchecks: [{ type: tcp }, { type: http, target: vip }]'.replace(/\n/g, '\n        ')));
    runner.sync(cfg);
    assert.deepEqual(
      targets.filter((x) => x.via).map((x) => [x.address, x.port, x.family, x.via!.backend, x.via!.mark]),
      [
        ['10.9.0.1', 80, 4, '10.0.0.1', 101],
        ['10.9.0.1', 80, 4, '10.0.0.2', 102],
        ['10.9.0.1', 80, 4, '10.0.0.3', 103],
      ],
    );
    assert.deepEqual([...held.values()], ['10.0.0.1 dr', '10.0.0.2 dr', '10.0.0.3 dr']);
    // a reload without 10.0.0.2 releases its mark and keeps the others
    runner.sync(config(base('warmup: 0s\nchecks: [{ type: tcp }, { type: http, target: vip }]'.replace(/\n/g, '\n        ')).replace(/ *- address: 10\.0\.0\.2\n/, '')));
    assert.deepEqual([...held.keys()], [101, 103]);
    runner.stop();
    assert.equal(held.size, 0);
  });

  it('target: vip without steering fails every attempt (never probes the VIP locally)', async () => {
    runner = make();
    runner.sync(config(base('interval: 100ms\nwarmup: 0s\nchecks: [{ type: tcp, target: vip }]'.replace(/\n/g, '\n        '))));
    assert.deepEqual(probes.created, [], 'no probe of the VIP is made');
    await advance(1);
    assert.deepEqual(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1), { up: false, weight: 0 });
    assert.match(runner.status('10.9.0.1|80|tcp')[0]!.checks[0]!.last!.detail ?? '', /no steering/);
  });

  it('backends without checks are always up at their weight', () => {
    runner = make();
    runner.sync(config(base('quorum: 1')));
    assert.deepEqual(runner.backend('10.9.0.1|80|tcp', '10.0.0.1:0', 1), { up: true, weight: 1 });
    assert.equal(probes.created.length, 0);
  });
});
