/**
 * `type: bfd` checks in the health runner: the probe reads the session state
 * the daemon holds, a state change runs the session's checks at once
 * (bfdChanged), and rise, fall and retries do not delay them (the session's
 * detection time is the delay); alpha applies as configured.
 */
import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import type { XlbConfig } from '../../../src/config/model.js';
import { HealthRunner } from '../../../src/health/runner.js';
import { yaml } from '../config/yaml-text.js';

const log = pino({ level: 'silent' });
const SVC = '10.9.0.1|80|tcp';

function config(alpha: boolean): XlbConfig {
  const r = parseConfig(
    yaml`
    instance: t
    interfaces: [{ name: eth0 }]
    bfd:
      instances:
        - { name: b1, neighbor_ip: 10.0.0.1 }
        - { name: b2, neighbor_ip: 10.0.0.2 }
    services:
      - address: 10.9.0.1
        port: 80
        mode: dr
        health:
          interval: 10s
          fall: 3
          rise: 3
          retries: 2
          warmup: 0s
        backends:
          - { address: 10.0.0.1, health: { checks: [{ type: bfd, name: b1, alpha: ${alpha} }] } }
          - { address: 10.0.0.2, health: { checks: [{ type: bfd, name: b2, alpha: ${alpha} }] } }
  `,
    't.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

describe('HealthRunner: type bfd checks', () => {
  let t = 0;
  let runner: HealthRunner;
  let changes: string[][];
  const sessions = new Map<string, string>();
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      t += 1;
      mock.timers.tick(1);
      await new Promise((r) => setImmediate(r));
    }
  };
  const up = (b: string): boolean => runner.backend(SVC, `${b}:0`, 1).up;

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t = 0;
    changes = [];
    sessions.clear();
    runner = new HealthRunner({ log, now: () => t, rng: () => 0, bfd: { bfdSession: (n) => (sessions.has(n) ? { state: sessions.get(n)!, diag: 'none' } : undefined) } });
    runner.on('change', (keys: string[]) => changes.push(keys));
  });
  afterEach(() => {
    runner.stop();
    mock.timers.reset();
  });

  it('follows the session at once, in both directions, without rise or fall', async () => {
    sessions.set('b1', 'Up').set('b2', 'Up');
    runner.sync(config(false));
    await advance(1);
    assert.equal(up('10.0.0.1'), true);
    sessions.set('b1', 'Down');
    runner.bfdChanged('b1');
    await advance(1);
    assert.equal(up('10.0.0.1'), false, 'down on the first failed attempt (fall 3, retries 2 do not apply)');
    assert.equal(up('10.0.0.2'), true, 'the other session is not touched');
    assert.deepEqual(changes, [[SVC]]);
    sessions.set('b1', 'Up');
    runner.bfdChanged('b1');
    await advance(1);
    assert.equal(up('10.0.0.1'), true, 'up on the first good attempt (rise 3 does not apply)');
  });

  it('alpha: a backend starts down until its session is first Up', async () => {
    sessions.set('b1', 'Down').set('b2', 'Init');
    runner.sync(config(true));
    await advance(1);
    assert.equal(up('10.0.0.1'), false);
    assert.equal(up('10.0.0.2'), false);
    sessions.set('b2', 'Up');
    runner.bfdChanged('b2');
    await advance(1);
    assert.equal(up('10.0.0.2'), true);
    assert.equal(up('10.0.0.1'), false);
  });

  it('a session the daemon does not know fails the check', async () => {
    sessions.set('b2', 'Up');
    runner.sync(config(false));
    await advance(1);
    assert.equal(up('10.0.0.1'), false);
  });
});
