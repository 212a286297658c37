/**
 * VrrpFsm: every row of the keepalived.md §1.2 transition table, the startup
 * rules, the timer formulas, preempt / nopreempt / preempt_delay, the
 * equal-priority tie-break, GARP timings (§1.15), faults, graceful stop,
 * priority changes and reload. Driven by a fake clock: each test passes
 * `now` and checks the exact actions and deadlines the machine returns.
 * A small simulated LAN at the end runs two or three instances against each
 * other (AT-VRRP-01, -02, -05, -06).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  VrrpFsm,
  compareAddresses,
  restartReasons,
  type GarpBurst,
  type ReceivedAdvert,
  type VrrpAction,
  type VrrpFsmConfig,
  type VrrpNotifyEvent,
  type VrrpState,
  type VrrpStep,
} from '../../../src/vrrp/fsm.js';
import { XlbError } from '../../../src/errors.js';

const internal = (e: unknown) => e instanceof XlbError && e.code === 'XLB_ERR_INTERNAL';

/** VI_1: v2, priority 100, advert 1 s, primary 10.0.0.2. */
const cfg = (o: Partial<VrrpFsmConfig> = {}): VrrpFsmConfig => ({
  name: 'VI_1',
  vrid: 51,
  version: 2,
  priority: 100,
  advertIntMs: 1000,
  primaryAddress: '10.0.0.2',
  ...o,
});

/** Master_Down_Interval of v2, 1 s, priority 100. */
const MDI_100 = 3609.375;
/** Skew_Time of v2, priority 100. */
const SKEW_100 = 609.375;
/** Master_Down_Interval of v2, 1 s, priority 200. */
const MDI_200 = 3218.75;

const ADV = (priority: number): VrrpAction => ({ kind: 'sendAdvert', priority });
const ADD: VrrpAction = { kind: 'addAddresses' };
const DEL: VrrpAction = { kind: 'removeAddresses' };
const GARP = (burst: GarpBurst, count: number): VrrpAction => ({ kind: 'garpBurst', burst, count });
const NOTIFY = (event: VrrpNotifyEvent, priority: number): VrrpAction => ({ kind: 'notify', event, priority });
/** What becoming MASTER does, in order. */
const BECOME_MASTER = (prio: number): VrrpAction[] => [ADV(prio), ADD, GARP('master', 5), NOTIFY('MASTER', prio)];

/** The actions without the trace lines. */
const acts = (s: VrrpStep): VrrpAction[] => s.actions.filter((a) => a.kind !== 'trace');
/** Only the trace lines. */
const traces = (s: VrrpStep): string[] => s.actions.flatMap((a) => (a.kind === 'trace' ? [a.line] : []));

const adv = (priority: number, source = '10.0.0.9', advertIntMs?: number): ReceivedAdvert =>
  advertIntMs === undefined ? { priority, source } : { priority, source, advertIntMs };

/** A non-owner started at 0 that became MASTER when its down timer expired; returns it and when. */
function master(o: Partial<VrrpFsmConfig> = {}): { fsm: VrrpFsm; t: number } {
  const fsm = new VrrpFsm(cfg(o));
  const t = fsm.start(0).nextAt!;
  const s = fsm.onTimer(t);
  assert.equal(s.state, 'MASTER');
  return { fsm, t };
}

/** Runs every timer up to `until`, returning [when, action] for the non-trace actions. */
function runTimers(fsm: VrrpFsm, until: number): Array<[number, VrrpAction]> {
  const out: Array<[number, VrrpAction]> = [];
  for (let next = fsm.nextAt; next !== undefined && next <= until; next = fsm.nextAt) {
    for (const a of acts(fsm.onTimer(next))) out.push([next, a]);
  }
  return out;
}

describe('startup (keepalived vrrp_init_state, RFC 5798 §6.4.1)', () => {
  it('a non-owner enters BACKUP with a full Master_Down_Interval', () => {
    const fsm = new VrrpFsm(cfg());
    const s = fsm.start(1000);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), [NOTIFY('BACKUP', 100)]);
    assert.deepEqual(traces(s), ['VI_1: INIT -> BACKUP (init)']);
    assert.equal(s.nextAt, 1000 + MDI_100);
  });

  it('a non-owner that wants MASTER also waits a full Master_Down_Interval', () => {
    const s = new VrrpFsm(cfg({ initialState: 'MASTER' })).start(0);
    assert.equal(s.state, 'BACKUP');
    assert.equal(s.nextAt, MDI_100);
  });

  it('an owner (255) becomes MASTER at once: advert first, addresses, GARP burst, notify', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    const s = fsm.start(0);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(acts(s), BECOME_MASTER(255));
    assert.deepEqual(traces(s), ['VI_1: INIT -> MASTER (init: address owner)']);
    assert.equal(s.nextAt, 1000);
    assert.equal(fsm.snapshot().garpMasterAt, 5000);
  });

  it('an owner configured with state BACKUP waits like a backup, with the owner skew', () => {
    const s = new VrrpFsm(cfg({ priority: 255, initialState: 'BACKUP' })).start(0);
    assert.equal(s.state, 'BACKUP');
    assert.equal(s.nextAt, 3003.90625);
  });

  it('an instance faulted before start enters FAULT and arms nothing', () => {
    const fsm = new VrrpFsm(cfg());
    const f = fsm.setFault(0, true, 'interface eth0 down');
    assert.deepEqual(f, { state: 'INIT', actions: [], nextAt: undefined });
    const s = fsm.start(0);
    assert.equal(s.state, 'FAULT');
    assert.deepEqual(acts(s), [NOTIFY('FAULT', 100)]);
    assert.deepEqual(traces(s), ['VI_1: INIT -> FAULT (init: interface eth0 down)']);
    assert.equal(s.nextAt, undefined);
  });

  it('a faulted owner starts in FAULT too', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.setFault(0, true, 'interface eth0 down');
    assert.equal(fsm.start(0).state, 'FAULT');
  });

  it('inputs before start are recorded without actions and used at start', () => {
    const fsm = new VrrpFsm(cfg());
    assert.deepEqual(fsm.setPriority(0, 200), { state: 'INIT', actions: [], nextAt: undefined });
    assert.deepEqual(fsm.onAdvert(0, adv(250)), { state: 'INIT', actions: [], nextAt: undefined });
    assert.deepEqual(fsm.onTimer(0), { state: 'INIT', actions: [], nextAt: undefined });
    const s = fsm.start(0);
    assert.equal(s.nextAt, MDI_200);
    assert.deepEqual(acts(s), [NOTIFY('BACKUP', 200)]);
  });

  it('start twice throws', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.throws(() => fsm.start(1), internal);
  });

  it('v3 with 10 ms adverts: takeover deadline 36.09375 ms after start', () => {
    const fsm = new VrrpFsm(cfg({ version: 3, advertIntMs: 10 }));
    assert.equal(fsm.start(0).nextAt, 36.09375);
    const s = fsm.onTimer(36.09375);
    assert.equal(s.state, 'MASTER');
    assert.equal(s.nextAt, 46.09375);
  });

  it('down_timer_adverts 5 stretches the start wait', () => {
    assert.equal(new VrrpFsm(cfg({ downTimerAdverts: 5 })).start(0).nextAt, 5609.375);
  });

  it('an owner held by its sync group waits Master_Adver_Interval + min skew', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.hold(0, 'group starting');
    const s = fsm.start(0);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(traces(s), ['VI_1: INIT -> BACKUP (init: wants MASTER, held by sync group)']);
    assert.equal(s.nextAt, 1003.90625);
  });

  it('a non-owner with state MASTER held by its sync group waits the same (v3: interval + interval/256)', () => {
    const v2 = new VrrpFsm(cfg({ initialState: 'MASTER' }));
    v2.hold(0, 'group starting');
    assert.equal(v2.start(0).nextAt, 1003.90625);
    const v3 = new VrrpFsm(cfg({ version: 3, advertIntMs: 100, initialState: 'MASTER' }));
    v3.hold(0, 'group starting');
    assert.equal(v3.start(0).nextAt, 100.390625);
  });

  it('a held instance with state BACKUP waits a full Master_Down_Interval', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.hold(0, 'group starting');
    assert.equal(fsm.start(0).nextAt, MDI_100);
  });
});

describe('BACKUP', () => {
  it('master-down timer expires -> MASTER, advert before addresses and GARP', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    const s = fsm.onTimer(MDI_100);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(acts(s), BECOME_MASTER(100));
    assert.deepEqual(traces(s), ['VI_1: BACKUP -> MASTER (master down timer expired)']);
    assert.equal(s.nextAt, MDI_100 + 1000);
  });

  it('a timer call before the deadline does nothing', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.deepEqual(fsm.onTimer(3609), { state: 'BACKUP', actions: [], nextAt: MDI_100 });
  });

  it('a late timer call still takes over once, and schedules from now', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    const s = fsm.onTimer(10_000);
    assert.deepEqual(acts(s), BECOME_MASTER(100));
    assert.equal(s.nextAt, 11_000);
  });

  it('priority 0 advert: the down timer becomes Skew_Time (v2: 609.375 ms), then MASTER', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.equal(fsm.onAdvert(1000, adv(200)).nextAt, 1000 + MDI_100);
    const s = fsm.onAdvert(1500, adv(0));
    assert.deepEqual(acts(s), []);
    assert.equal(s.nextAt, 1500 + SKEW_100);
    const m = fsm.onTimer(1500 + SKEW_100);
    assert.deepEqual(acts(m), BECOME_MASTER(100));
    assert.deepEqual(traces(m), ['VI_1: BACKUP -> MASTER (priority 0 advert, Skew_Time expired)']);
  });

  it('priority 0 advert, v3 at 10 ms: takeover after 6.09375 ms', () => {
    const fsm = new VrrpFsm(cfg({ version: 3, advertIntMs: 10 }));
    fsm.start(0);
    fsm.onAdvert(20, adv(200, '10.0.0.9', 10));
    assert.equal(fsm.onAdvert(25, adv(0, '10.0.0.9', 10)).nextAt, 31.09375);
  });

  it('a higher-priority advert is accepted: down timer restarted, master recorded', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    const s = fsm.onAdvert(2000, adv(200));
    assert.deepEqual(s, { state: 'BACKUP', actions: [], nextAt: 2000 + MDI_100 });
    assert.deepEqual(fsm.snapshot().master, { address: '10.0.0.9', priority: 200 });
  });

  it('an equal-priority advert is accepted whatever its address (RFC 5798 §6.4.2 "greater than or equal")', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.equal(fsm.onAdvert(2000, adv(100, '10.0.0.1')).nextAt, 2000 + MDI_100);
    assert.equal(fsm.onAdvert(3000, adv(100, '10.0.0.3')).nextAt, 3000 + MDI_100);
  });

  it('a lower-priority advert is discarded under preempt: the timer runs from the last accepted advert', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.onAdvert(1000, adv(200));
    for (const t of [2000, 3000, 4000]) {
      const s = fsm.onAdvert(t, adv(50, '10.0.0.7'));
      assert.equal(s.nextAt, 1000 + MDI_100);
      assert.deepEqual(acts(s), []);
    }
    assert.deepEqual(traces(fsm.onAdvert(4500, adv(50, '10.0.0.7'))), ['VI_1: lower priority advert from 10.0.0.7 (50 < 100) discarded']);
    assert.equal(fsm.onTimer(1000 + MDI_100).state, 'MASTER');
  });

  it('nopreempt accepts lower-priority adverts: no takeover while the master advertises', () => {
    const fsm = new VrrpFsm(cfg({ preempt: false, priority: 200 }));
    fsm.start(0);
    for (let t = 1000; t <= 10_000; t += 1000) {
      assert.deepEqual(fsm.onTimer(t).actions, []);
      assert.equal(fsm.onAdvert(t, adv(100)).nextAt, t + MDI_200);
    }
    assert.equal(fsm.state, 'BACKUP');
  });

  it('nopreempt still takes over after Skew_Time on a priority 0 advert', () => {
    const fsm = new VrrpFsm(cfg({ preempt: false }));
    fsm.start(0);
    fsm.onAdvert(1000, adv(50));
    assert.equal(fsm.onAdvert(1200, adv(0)).nextAt, 1200 + SKEW_100);
  });

  it('preempt_delay: lower-priority adverts are accepted for the delay after the first, then discarded', () => {
    const fsm = new VrrpFsm(cfg({ preemptDelayMs: 2000 }));
    fsm.start(0);
    const first = fsm.onAdvert(1000, adv(50));
    assert.equal(first.nextAt, 1000 + MDI_100);
    assert.deepEqual(traces(first), ['VI_1: lower priority master 10.0.0.9 (50): preempt delay until 3000']);
    assert.equal(fsm.snapshot().preemptDelayUntil, 3000);
    assert.equal(fsm.onAdvert(2000, adv(50)).nextAt, 2000 + MDI_100);
    assert.equal(fsm.onAdvert(2999, adv(50)).nextAt, 2999 + MDI_100);
    assert.equal(fsm.onAdvert(3000, adv(50)).nextAt, 2999 + MDI_100, 'delay over: discarded');
    assert.equal(fsm.onAdvert(4000, adv(50)).nextAt, 2999 + MDI_100);
    assert.equal(fsm.onTimer(2999 + MDI_100).state, 'MASTER');
  });

  it('preempt_delay: an advert of priority >= ours ends the delay; the next lower one starts a new one', () => {
    const fsm = new VrrpFsm(cfg({ preemptDelayMs: 2000 }));
    fsm.start(0);
    fsm.onAdvert(1000, adv(50));
    fsm.onAdvert(1500, adv(150));
    assert.equal(fsm.snapshot().preemptDelayUntil, undefined);
    fsm.onAdvert(4000, adv(50));
    assert.equal(fsm.snapshot().preemptDelayUntil, 6000);
    assert.equal(fsm.onAdvert(5000, adv(50)).nextAt, 5000 + MDI_100);
  });

  it('preempt_delay is ignored under nopreempt (everything is accepted anyway)', () => {
    const fsm = new VrrpFsm(cfg({ preempt: false, preemptDelayMs: 2000 }));
    fsm.start(0);
    fsm.onAdvert(1000, adv(50));
    assert.equal(fsm.snapshot().preemptDelayUntil, undefined);
    assert.equal(fsm.onAdvert(9000, adv(50)).nextAt, 9000 + MDI_100);
  });

  it('v3: an accepted advert sets Master_Adver_Interval to the master\'s; MASTER reverts to its own', () => {
    const fsm = new VrrpFsm(cfg({ version: 3 }));
    fsm.start(0);
    const s = fsm.onAdvert(500, adv(200, '10.0.0.9', 100));
    assert.equal(s.nextAt, 500 + 360.9375);
    assert.equal(fsm.snapshot().masterAdverIntMs, 100);
    const m = fsm.onTimer(860.9375);
    assert.equal(m.state, 'MASTER');
    assert.equal(m.nextAt, 1860.9375);
    assert.equal(fsm.snapshot().masterAdverIntMs, 1000);
  });

  it('v3: a discarded lower-priority advert does not change Master_Adver_Interval', () => {
    const fsm = new VrrpFsm(cfg({ version: 3 }));
    fsm.start(0);
    fsm.onAdvert(100, adv(50, '10.0.0.9', 20));
    assert.equal(fsm.snapshot().masterAdverIntMs, 1000);
  });

  it('v3: an advertised interval of 0 (which the codec refuses) is not adopted', () => {
    const fsm = new VrrpFsm(cfg({ version: 3 }));
    fsm.start(0);
    assert.equal(fsm.onAdvert(500, adv(200, '10.0.0.9', 0)).nextAt, 500 + MDI_100);
  });

  it('v2 ignores the advertised interval (the runner drops mismatches)', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.equal(fsm.onAdvert(500, adv(200, '10.0.0.9', 5000)).nextAt, 500 + MDI_100);
    assert.equal(fsm.snapshot().masterAdverIntMs, 1000);
  });

  it('an effective priority change recomputes the down timer from the last accepted advert', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.onAdvert(1000, adv(200));
    const s = fsm.setPriority(2000, 150);
    assert.deepEqual(acts(s), []);
    assert.deepEqual(traces(s), ['VI_1: effective priority 100 -> 150']);
    assert.equal(s.nextAt, 1000 + 3414.0625);
    assert.equal(fsm.setPriority(2000, 50).nextAt, 1000 + 3804.6875);
  });

  it('after a priority 0 advert a priority change recomputes the Skew_Time', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.onAdvert(1000, adv(0));
    assert.equal(fsm.setPriority(1100, 200).nextAt, 1000 + 218.75);
  });

  it('a priority change can move the deadline into the past: the next timer call takes over', () => {
    const fsm = new VrrpFsm(cfg({ priority: 1 }));
    assert.equal(fsm.start(0).nextAt, 3996.09375);
    const s = fsm.setPriority(3500, 254);
    assert.equal(s.nextAt, 3007.8125);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(fsm.onTimer(3500)), BECOME_MASTER(254));
  });

  it('a higher effective priority changes which adverts preempt', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.onAdvert(1000, adv(150));
    fsm.setPriority(1500, 200);
    assert.equal(fsm.onAdvert(2000, adv(150)).nextAt, 1000 + MDI_200, 'now lower: discarded');
  });

  it('BACKUP_PRIORITY only with notifyPriorityChanges', () => {
    const quiet = new VrrpFsm(cfg());
    quiet.start(0);
    assert.deepEqual(acts(quiet.setPriority(10, 120)), []);
    const loud = new VrrpFsm(cfg({ notifyPriorityChanges: true }));
    loud.start(0);
    assert.deepEqual(acts(loud.setPriority(10, 120)), [NOTIFY('BACKUP_PRIORITY', 120)]);
    assert.deepEqual(loud.setPriority(20, 120).actions, [], 'same priority: nothing');
  });
});

describe('MASTER', () => {
  it('sends an advert every advert_int', () => {
    const { fsm, t } = master();
    assert.deepEqual(fsm.onTimer(t + 1000), { state: 'MASTER', actions: [ADV(100)], nextAt: t + 2000 });
    assert.deepEqual(fsm.onTimer(t + 1999), { state: 'MASTER', actions: [], nextAt: t + 2000 });
    assert.deepEqual(fsm.onTimer(t + 2000).actions, [ADV(100)]);
  });

  it('priority 0 received: an advert at once, stays MASTER, the advert timer restarts (RFC 5798 §6.4.3)', () => {
    const { fsm, t } = master();
    const s = fsm.onAdvert(t + 400, adv(0));
    assert.deepEqual(s, { state: 'MASTER', actions: [ADV(100)], nextAt: t + 1400 });
  });

  it('lower priority: advert at once, lower-prio GARP burst, MASTER_RX_LOWER_PRI, delayed burst later', () => {
    const { fsm, t } = master();
    const s = fsm.onAdvert(t + 100, adv(50, '10.0.0.7'));
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(acts(s), [ADV(100), GARP('lower-prio', 5), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.deepEqual(traces(s), ['VI_1: lower priority advert from 10.0.0.7 (50, ours 100)']);
    assert.equal(s.nextAt, t + 1100);
    assert.equal(fsm.snapshot().garpLowerPrioAt, t + 5100);
    // A second lower advert bursts again but keeps the pending delayed burst.
    assert.deepEqual(acts(fsm.onAdvert(t + 200, adv(50, '10.0.0.7'))), [ADV(100), GARP('lower-prio', 5), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.equal(fsm.snapshot().garpLowerPrioAt, t + 5100);
    assert.deepEqual(runTimers(fsm, t + 5100), [
      [t + 1200, ADV(100)],
      [t + 2200, ADV(100)],
      [t + 3200, ADV(100)],
      [t + 4200, ADV(100)],
      [t + 5000, GARP('master-delayed', 5)],
      [t + 5100, GARP('lower-prio-delayed', 5)],
    ]);
  });

  it('lower_prio_no_advert: no answering advert; GARP and notify still', () => {
    const { fsm, t } = master({ lowerPrioNoAdvert: true });
    const s = fsm.onAdvert(t + 100, adv(50));
    assert.deepEqual(acts(s), [GARP('lower-prio', 5), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.equal(s.nextAt, t + 1000, 'advert timer untouched');
  });

  it('garp_lower_prio_repeat 0: no lower-priority GARP at all', () => {
    const { fsm, t } = master({ garp: { lowerPrioRepeat: 0 } });
    assert.deepEqual(acts(fsm.onAdvert(t + 100, adv(50))), [ADV(100), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.equal(fsm.snapshot().garpLowerPrioAt, undefined);
  });

  it('garp_lower_prio_delay 0: the burst without its delayed repeat', () => {
    const { fsm, t } = master({ garp: { lowerPrioDelayMs: 0, lowerPrioRepeat: 2 } });
    assert.deepEqual(acts(fsm.onAdvert(t + 100, adv(50))), [ADV(100), GARP('lower-prio', 2), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.equal(fsm.snapshot().garpLowerPrioAt, undefined);
  });

  it('equal priority from a lower primary address counts as lower: stays MASTER', () => {
    const { fsm, t } = master();
    const s = fsm.onAdvert(t + 100, adv(100, '10.0.0.1'));
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(acts(s), [ADV(100), GARP('lower-prio', 5), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
  });

  it('equal priority from a higher primary address wins: MASTER -> BACKUP', () => {
    const { fsm, t } = master();
    const s = fsm.onAdvert(t + 100, adv(100, '10.0.0.3'));
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), [DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(traces(s), ['VI_1: MASTER -> BACKUP (equal priority 100 from higher address 10.0.0.3)']);
    assert.equal(s.nextAt, t + 100 + MDI_100);
  });

  it('the tie-break compares addresses as numbers, not text (10.0.0.10 > 10.0.0.9)', () => {
    const { fsm, t } = master({ primaryAddress: '10.0.0.9' });
    assert.equal(fsm.onAdvert(t + 100, adv(100, '10.0.0.10')).state, 'BACKUP');
  });

  it('IPv6 tie-break: higher address wins, lower address yields (fe80::10 > fe80::9)', () => {
    const a = master({ version: 3, primaryAddress: 'fe80::9' });
    assert.equal(a.fsm.onAdvert(a.t + 100, adv(100, 'fe80::10', 1000)).state, 'BACKUP');
    const b = master({ version: 3, primaryAddress: 'fe80::9' });
    const s = b.fsm.onAdvert(b.t + 100, adv(100, 'fe80::1:0', 1000));
    assert.equal(s.state, 'BACKUP', 'fe80::1:0 > fe80::9');
    const c = master({ version: 3, primaryAddress: 'fe80::9' });
    assert.equal(c.fsm.onAdvert(c.t + 100, adv(100, 'fe80::8', 1000)).state, 'MASTER');
  });

  it('equal priority from our own address is ignored', () => {
    const { fsm, t } = master();
    const s = fsm.onAdvert(t + 100, adv(100, '10.0.0.2'));
    assert.deepEqual(acts(s), []);
    assert.deepEqual(traces(s), ['VI_1: equal priority advert from our own address 10.0.0.2: ignored']);
    assert.equal(s.state, 'MASTER');
  });

  it('higher priority: BACKUP, addresses removed, GARP timers cancelled, fresh down timer', () => {
    const { fsm, t } = master();
    const s = fsm.onAdvert(t + 100, adv(200));
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), [DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(traces(s), ['VI_1: MASTER -> BACKUP (higher priority 200 from 10.0.0.9)']);
    assert.equal(s.nextAt, t + 100 + MDI_100);
    const snap = fsm.snapshot();
    assert.deepEqual([snap.advertAt, snap.garpMasterAt, snap.garpRefreshAt, snap.garpLowerPrioAt], [undefined, undefined, undefined, undefined]);
    assert.deepEqual(snap.master, { address: '10.0.0.9', priority: 200 });
  });

  it('higher_prio_send_advert: one advert before yielding', () => {
    const { fsm, t } = master({ higherPrioSendAdvert: true });
    assert.deepEqual(acts(fsm.onAdvert(t + 100, adv(200))), [ADV(100), DEL, NOTIFY('BACKUP', 100)]);
  });

  it('higher_prio_send_advert also before yielding to an equal priority with a higher address', () => {
    const { fsm, t } = master({ higherPrioSendAdvert: true });
    assert.deepEqual(acts(fsm.onAdvert(t + 100, adv(100, '10.0.0.3'))), [ADV(100), DEL, NOTIFY('BACKUP', 100)]);
  });

  it('v3: yielding adopts the new master\'s interval for the down timer', () => {
    const { fsm, t } = master({ version: 3 });
    const s = fsm.onAdvert(t + 100, adv(200, '10.0.0.9', 200));
    assert.equal(s.nextAt, t + 100 + 600 + 121.875);
    assert.equal(fsm.snapshot().masterAdverIntMs, 200);
  });

  it('an effective priority change while MASTER sends nothing at once; the next advert carries it', () => {
    const { fsm, t } = master();
    const s = fsm.setPriority(t + 100, 150);
    assert.deepEqual(acts(s), []);
    assert.equal(s.nextAt, t + 1000);
    assert.deepEqual(fsm.onTimer(t + 1000).actions, [ADV(150)]);
  });

  it('MASTER_PRIORITY only with notifyPriorityChanges', () => {
    const { fsm, t } = master({ notifyPriorityChanges: true });
    assert.deepEqual(acts(fsm.setPriority(t + 100, 90)), [NOTIFY('MASTER_PRIORITY', 90)]);
  });

  it('a lower effective priority makes an advert that used to be lower win', () => {
    const { fsm, t } = master();
    fsm.setPriority(t + 10, 80);
    assert.equal(fsm.onAdvert(t + 20, adv(90)).state, 'BACKUP');
  });

  it('owner_ignore_adverts: an owner drops every advert', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255, ownerIgnoreAdverts: true }));
    fsm.start(0);
    const low = fsm.onAdvert(100, adv(100));
    assert.deepEqual(acts(low), []);
    assert.deepEqual(traces(low), ['VI_1: owner ignores advert from 10.0.0.9 priority 100']);
    assert.equal(fsm.onAdvert(200, adv(255, '10.0.0.200')).state, 'MASTER');
  });

  it('owner_ignore_adverts does nothing for a non-owner', () => {
    const { fsm, t } = master({ ownerIgnoreAdverts: true });
    assert.equal(fsm.onAdvert(t + 1, adv(200)).state, 'BACKUP');
  });

  it('two owners (no rogue-owner back-off): the lower primary address yields and stays BACKUP', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.start(0);
    assert.deepEqual(acts(fsm.onAdvert(100, adv(255, '10.0.0.1'))), [ADV(255), GARP('lower-prio', 5), NOTIFY('MASTER_RX_LOWER_PRI', 255)]);
    const s = fsm.onAdvert(200, adv(255, '10.0.0.3'));
    assert.equal(s.state, 'BACKUP');
    assert.equal(fsm.onAdvert(1200, adv(255, '10.0.0.3')).nextAt, 1200 + 3003.90625, 'accepted: equal priority');
  });

  it('the owner in BACKUP discards lower adverts and takes over at its deadline', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255, initialState: 'BACKUP' }));
    fsm.start(0);
    assert.equal(fsm.onAdvert(1000, adv(254)).nextAt, 3003.90625);
    assert.deepEqual(acts(fsm.onTimer(3003.90625)), BECOME_MASTER(255));
  });
});

describe('MASTER: an address deleted behind its back (keepalived_netlink.c)', () => {
  it('resigns with a priority-0 advert, removes the rest, BACKUP for Skew_Time only, then MASTER again', () => {
    const { fsm, t } = master();
    const s = fsm.addressDeleted(t + 10, 'VIP 192.0.2.10/32 deleted');
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), [ADV(0), DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(traces(s), ['VI_1: MASTER -> BACKUP (VIP 192.0.2.10/32 deleted)']);
    assert.equal(s.nextAt, t + 10 + SKEW_100);
    assert.deepEqual(acts(fsm.onTimer(t + 10 + SKEW_100)), BECOME_MASTER(100));
  });

  it('does nothing outside MASTER', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.deepEqual(fsm.addressDeleted(5, 'x'), { state: 'BACKUP', actions: [], nextAt: MDI_100 });
  });
});

describe('bfd_peer: the BFD session to the master went Down (peerDown)', () => {
  const WHY = 'bfd_peer to-lb1 down (control detection time expired)';

  it('BACKUP following a master: MASTER at once, as if the down timer fired now', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.onAdvert(1000, adv(200));
    assert.equal(fsm.snapshot().masterDownAt, 1000 + MDI_100);
    const s = fsm.peerDown(1500, WHY);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(acts(s), BECOME_MASTER(100));
    assert.deepEqual(traces(s), [`VI_1: BACKUP -> MASTER (${WHY})`]);
    assert.equal(s.nextAt, 1500 + 1000, 'next advert one interval on; no down timer');
    assert.equal(fsm.snapshot().masterDownAt, undefined);
    assert.equal(fsm.snapshot().master, undefined);
  });

  it('the same whatever the preempt settings (the down timer ignores them too)', () => {
    for (const o of [{ preempt: false }, { preemptDelayMs: 60_000 }, { priority: 50 }]) {
      const fsm = new VrrpFsm(cfg(o));
      fsm.start(0);
      fsm.onAdvert(1000, adv(200));
      assert.equal(fsm.peerDown(1001, WHY).state, 'MASTER', JSON.stringify(o));
    }
  });

  it('a node that takes over by mistake yields to the live master as usual', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.peerDown(100, WHY);
    const s = fsm.onAdvert(150, adv(200));
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), [DEL, NOTIFY('BACKUP', 100)]);
  });

  it('held by a sync group: stays BACKUP, wants MASTER, re-arms the down timer', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.hold(0, 'x');
    fsm.start(0);
    const s = fsm.peerDown(500, WHY);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), []);
    assert.deepEqual(traces(s), [`VI_1: ${WHY}, held by sync group`]);
    assert.equal(s.nextAt, 500 + MDI_100);
    assert.equal(fsm.wantsMaster, true);
    assert.deepEqual(acts(fsm.release(600, 'all members ready')), BECOME_MASTER(100));
  });

  it('MASTER: nothing', () => {
    const { fsm, t } = master();
    const before = fsm.snapshot();
    assert.deepEqual(fsm.peerDown(t + 10, WHY), { state: 'MASTER', actions: [], nextAt: before.nextAt });
  });

  it('INIT, FAULT and STOP: nothing', () => {
    const init = new VrrpFsm(cfg());
    assert.deepEqual(init.peerDown(5, WHY), { state: 'INIT', actions: [], nextAt: undefined });
    assert.deepEqual(init.start(10).state, 'BACKUP', 'and it starts as usual afterwards');
    const fault = new VrrpFsm(cfg());
    fault.start(0);
    fault.setFault(10, true, 'interface eth0 down');
    assert.deepEqual(fault.peerDown(20, WHY), { state: 'FAULT', actions: [], nextAt: undefined });
    const stopped = new VrrpFsm(cfg());
    stopped.start(0);
    stopped.stop(10);
    assert.deepEqual(stopped.peerDown(20, WHY), { state: 'STOP', actions: [], nextAt: undefined });
  });
});

describe('GARP timings (keepalived.md §1.15)', () => {
  it('becoming MASTER: a burst of 5, a second burst of 5 after 5 s, no refresh by default', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    assert.deepEqual(acts(fsm.start(0)), BECOME_MASTER(255));
    const seen = runTimers(fsm, 20_000).filter(([, a]) => a.kind === 'garpBurst');
    assert.deepEqual(seen, [[5000, GARP('master-delayed', 5)]]);
  });

  it('the advert due with the second burst goes first', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.start(0);
    runTimers(fsm, 4000);
    assert.deepEqual(fsm.onTimer(5000).actions, [ADV(255), GARP('master-delayed', 5)]);
    assert.equal(fsm.snapshot().garpMasterAt, undefined);
  });

  it('garp_master_refresh: refresh bursts every period, counted from the second burst', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255, garp: { masterRefreshMs: 10_000, masterRefreshRepeat: 2 } }));
    fsm.start(0);
    assert.equal(fsm.snapshot().garpRefreshAt, 15_000);
    const seen = runTimers(fsm, 40_000).filter(([, a]) => a.kind === 'garpBurst');
    assert.deepEqual(seen, [
      [5000, GARP('master-delayed', 5)],
      [15_000, GARP('master-refresh', 2)],
      [25_000, GARP('master-refresh', 2)],
      [35_000, GARP('master-refresh', 2)],
    ]);
  });

  it('garp_master_delay 0: no second burst; the refresh counts from becoming MASTER', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255, garp: { masterDelayMs: 0, masterRefreshMs: 3000 } }));
    fsm.start(0);
    const seen = runTimers(fsm, 9000).filter(([, a]) => a.kind === 'garpBurst');
    assert.deepEqual(seen, [
      [3000, GARP('master-refresh', 1)],
      [6000, GARP('master-refresh', 1)],
      [9000, GARP('master-refresh', 1)],
    ]);
  });

  it('garp_master_repeat 0: no GARP on becoming MASTER, no second burst', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255, garp: { masterRepeat: 0 } }));
    assert.deepEqual(acts(fsm.start(0)), [ADV(255), ADD, NOTIFY('MASTER', 255)]);
    assert.deepEqual(
      runTimers(fsm, 6000).filter(([, a]) => a.kind === 'garpBurst'),
      [],
    );
  });

  it('the lower-priority defaults follow the master ones', () => {
    const { fsm, t } = master({ garp: { masterDelayMs: 2000, masterRepeat: 3 } });
    assert.deepEqual(acts(fsm.onAdvert(t + 1, adv(10))), [ADV(100), GARP('lower-prio', 3), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.equal(fsm.snapshot().garpLowerPrioAt, t + 2001);
  });

  it('leaving MASTER cancels every pending burst', () => {
    const { fsm, t } = master({ garp: { masterRefreshMs: 1000 } });
    fsm.onAdvert(t + 1, adv(10));
    fsm.onAdvert(t + 2, adv(200));
    const seen = runTimers(fsm, t + 20_000);
    const again = t + 2 + MDI_100;
    assert.deepEqual(
      seen.slice(0, 4),
      BECOME_MASTER(100).map((a) => [again, a]),
      'nothing left over from the first mastership before the second',
    );
    assert.ok(seen.slice(4).every(([at]) => at > again));
  });
});

describe('FAULT', () => {
  it('fault while MASTER: priority-0 advert, addresses removed, FAULT notify, nothing armed', () => {
    const { fsm, t } = master();
    const s = fsm.setFault(t + 10, true, 'interface eth0 down');
    assert.equal(s.state, 'FAULT');
    assert.deepEqual(acts(s), [ADV(0), DEL, NOTIFY('FAULT', 100)]);
    assert.deepEqual(traces(s), ['VI_1: MASTER -> FAULT (interface eth0 down)']);
    assert.equal(s.nextAt, undefined);
  });

  it('fault while BACKUP: FAULT notify, down timer stopped', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    const s = fsm.setFault(100, true, 'script chk failed');
    assert.deepEqual(s.actions.filter((a) => a.kind !== 'trace'), [NOTIFY('FAULT', 100)]);
    assert.equal(s.nextAt, undefined);
  });

  it('adverts and timer calls are ignored in FAULT', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.setFault(100, true, 'x');
    assert.deepEqual(fsm.onAdvert(200, adv(0)), { state: 'FAULT', actions: [], nextAt: undefined });
    assert.deepEqual(fsm.onTimer(10_000), { state: 'FAULT', actions: [], nextAt: undefined });
  });

  it('a second fault report only updates the reason', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.setFault(100, true, 'a');
    assert.deepEqual(fsm.setFault(200, true, 'b').actions, []);
    assert.equal(fsm.snapshot().reason, 'b');
  });

  it('fault cleared: BACKUP with a fresh down timer and the own advert interval', () => {
    const fsm = new VrrpFsm(cfg({ version: 3 }));
    fsm.start(0);
    fsm.onAdvert(100, adv(200, '10.0.0.9', 100));
    fsm.setFault(200, true, 'interface eth0 down');
    assert.equal(fsm.snapshot().masterAdverIntMs, 1000);
    const s = fsm.setFault(5000, false, 'interface eth0 up');
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(acts(s), [NOTIFY('BACKUP', 100)]);
    assert.deepEqual(traces(s), ['VI_1: FAULT -> BACKUP (fault cleared (interface eth0 up))']);
    assert.equal(s.nextAt, 5000 + MDI_100);
  });

  it('a non-owner that wants MASTER also comes back as BACKUP', () => {
    const { fsm, t } = master({ initialState: 'MASTER' });
    fsm.setFault(t + 1, true, 'x');
    assert.equal(fsm.setFault(t + 2, false, 'x').state, 'BACKUP');
  });

  it('an owner that wants MASTER comes back as MASTER at once', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.start(0);
    fsm.setFault(10, true, 'interface eth0 down');
    const s = fsm.setFault(20, false, 'interface eth0 up');
    assert.deepEqual(acts(s), BECOME_MASTER(255));
    assert.equal(s.nextAt, 1020);
  });

  it('clearing a fault that is not set does nothing', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.deepEqual(fsm.setFault(10, false, 'x'), { state: 'BACKUP', actions: [], nextAt: MDI_100 });
  });

  it('own and group faults are independent: FAULT until both clear', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.setFault(10, true, 'own');
    fsm.setGroupFault(20, true, 'group');
    assert.deepEqual(fsm.setFault(30, false, 'own').actions, []);
    assert.equal(fsm.state, 'FAULT');
    assert.equal(fsm.setGroupFault(40, false, 'group').state, 'BACKUP');
  });
});

describe('sync group inputs on a lone instance', () => {
  it('hold and release are idempotent; a release without an expired timer only traces', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.deepEqual(traces(fsm.hold(1, 'x')), ['VI_1: held by sync group (x)']);
    assert.deepEqual(fsm.hold(2, 'x').actions, []);
    assert.deepEqual(traces(fsm.release(3, 'y')), ['VI_1: released by sync group (y)']);
    assert.deepEqual(fsm.release(4, 'y').actions, []);
    assert.equal(fsm.state, 'BACKUP');
  });

  it('held at expiry: stays BACKUP, wants MASTER, re-arms; released: MASTER at once', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.hold(0, 'x');
    fsm.start(0);
    const s = fsm.onTimer(MDI_100);
    assert.deepEqual(acts(s), []);
    assert.equal(s.nextAt, 2 * MDI_100);
    assert.equal(fsm.wantsMaster, true);
    const r = fsm.release(4000, 'all members ready');
    assert.deepEqual(acts(r), BECOME_MASTER(100));
    assert.deepEqual(traces(r), ['VI_1: BACKUP -> MASTER (sync group: all members ready)']);
    assert.equal(fsm.wantsMaster, false);
  });

  it('demote leaves MASTER without a priority-0 advert; elsewhere it does nothing', () => {
    const { fsm, t } = master();
    const s = fsm.demote(t + 1, 'VI_2 is BACKUP');
    assert.deepEqual(acts(s), [DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(traces(s), ['VI_1: MASTER -> BACKUP (sync group: VI_2 is BACKUP)']);
    assert.equal(s.nextAt, t + 1 + MDI_100);
    assert.deepEqual(fsm.demote(t + 2, 'again').actions, []);
  });

  it('syncLowerPrioGarp: a MASTER bursts (once delayed), others do nothing', () => {
    const { fsm, t } = master();
    assert.deepEqual(fsm.syncLowerPrioGarp(t + 1).actions, [GARP('lower-prio', 5)]);
    assert.equal(fsm.snapshot().garpLowerPrioAt, t + 5001);
    const b = new VrrpFsm(cfg());
    b.start(0);
    assert.deepEqual(b.syncLowerPrioGarp(1).actions, []);
  });

  it('a held owner whose fault clears waits Master_Adver_Interval + min skew in BACKUP', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.start(0);
    fsm.setFault(10, true, 'x');
    fsm.hold(20, 'y');
    const s = fsm.setFault(30, false, 'x');
    assert.equal(s.state, 'BACKUP');
    assert.equal(s.nextAt, 30 + 1003.90625);
  });
});

describe('stop', () => {
  it('MASTER: priority-0 advert, addresses removed, STOP notify', () => {
    const { fsm, t } = master();
    const s = fsm.stop(t + 10);
    assert.deepEqual(s, {
      state: 'STOP',
      actions: [{ kind: 'trace', line: 'VI_1: MASTER -> STOP (stopped)' }, ADV(0), DEL, NOTIFY('STOP', 100)],
      nextAt: undefined,
    });
  });

  it('BACKUP and FAULT: STOP notify only', () => {
    const b = new VrrpFsm(cfg());
    b.start(0);
    assert.deepEqual(acts(b.stop(10)), [NOTIFY('STOP', 100)]);
    const f = new VrrpFsm(cfg());
    f.start(0);
    f.setFault(5, true, 'x');
    assert.deepEqual(acts(f.stop(10)), [NOTIFY('STOP', 100)]);
  });

  it('before start: nothing to notify', () => {
    const fsm = new VrrpFsm(cfg());
    assert.deepEqual(acts(fsm.stop(0)), []);
    assert.equal(fsm.state, 'STOP');
  });

  it('after stop every input is a no-op, and start throws', () => {
    const { fsm, t } = master();
    fsm.stop(t);
    const none = { state: 'STOP', actions: [], nextAt: undefined };
    assert.deepEqual(fsm.onAdvert(t + 1, adv(200)), none);
    assert.deepEqual(fsm.onTimer(t + 5000), none);
    assert.deepEqual(fsm.setFault(t + 2, true, 'x'), none);
    assert.deepEqual(fsm.setPriority(t + 3, 120), none);
    assert.deepEqual(fsm.stop(t + 4), none);
    assert.deepEqual(fsm.hold(t + 5, 'x'), none);
    assert.throws(() => fsm.start(t + 6), internal);
  });
});

describe('transitions and traces (H-28)', () => {
  it('one trace per transition, "NAME: FROM -> TO (reason)"', () => {
    const fsm = new VrrpFsm(cfg());
    const lines: string[] = [];
    const run = (s: VrrpStep): void => void lines.push(...traces(s).filter((l) => l.includes(' -> ')));
    run(fsm.start(0));
    run(fsm.onTimer(MDI_100));
    run(fsm.onAdvert(4000, adv(200)));
    run(fsm.setFault(4100, true, 'interface eth0 down'));
    run(fsm.setFault(4200, false, 'interface eth0 up'));
    run(fsm.stop(4300));
    assert.deepEqual(lines, [
      'VI_1: INIT -> BACKUP (init)',
      'VI_1: BACKUP -> MASTER (master down timer expired)',
      'VI_1: MASTER -> BACKUP (higher priority 200 from 10.0.0.9)',
      'VI_1: BACKUP -> FAULT (interface eth0 down)',
      'VI_1: FAULT -> BACKUP (fault cleared (interface eth0 up))',
      'VI_1: BACKUP -> STOP (stopped)',
    ]);
  });

  it('the snapshot tells state, since and reason', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(5);
    fsm.onTimer(5 + MDI_100);
    const s = fsm.snapshot();
    assert.equal(s.state, 'MASTER');
    assert.equal(s.since, 5 + MDI_100);
    assert.equal(s.reason, 'master down timer expired');
    assert.equal(s.effectivePriority, 100);
    assert.equal(s.nextAt, 5 + MDI_100 + 1000);
  });

  it('the default name is the VRID', () => {
    const fsm = new VrrpFsm({ vrid: 7, version: 2, priority: 100, advertIntMs: 1000, primaryAddress: '10.0.0.2' });
    assert.deepEqual(traces(fsm.start(0)), ['vrid 7: INIT -> BACKUP (init)']);
  });
});

describe('configuration and input checks', () => {
  it('refuses values the loader should have refused', () => {
    for (const bad of [
      { vrid: 0 },
      { vrid: 256 },
      { priority: 0 },
      { priority: 256 },
      { version: 4 as 2 },
      { advertIntMs: 500 },
      { version: 3 as const, advertIntMs: 15 },
      { downTimerAdverts: 0 },
      { preemptDelayMs: -1 },
      { primaryAddress: 'eth0' },
      { garp: { masterRepeat: 1.5 } },
      { garp: { masterDelayMs: -5 } },
    ]) {
      assert.throws(() => new VrrpFsm(cfg(bad)), internal, JSON.stringify(bad));
    }
  });

  it('refuses an advert priority outside 0..255 or a source that is not an address', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.throws(() => fsm.onAdvert(1, adv(256)), internal);
    assert.throws(() => fsm.onAdvert(1, adv(-1)), internal);
    assert.throws(() => fsm.onAdvert(1, adv(100, 'nonsense')), internal);
    assert.throws(() => fsm.onAdvert(1, adv(100, '10.0.0.9', Number.POSITIVE_INFINITY)), internal);
    assert.throws(() => fsm.onAdvert(1, adv(100, '10.0.0.9', -10)), internal);
  });

  it('refuses effective priorities a tracker evaluation cannot give', () => {
    const fsm = new VrrpFsm(cfg());
    assert.throws(() => fsm.setPriority(0, 0), internal);
    assert.throws(() => fsm.setPriority(0, 255), internal);
    const owner = new VrrpFsm(cfg({ priority: 255 }));
    assert.throws(() => owner.setPriority(0, 254), internal);
    assert.deepEqual(owner.setPriority(0, 255).actions, []);
  });

  it('compareAddresses orders IPv4 and IPv6 as unsigned numbers', () => {
    assert.equal(compareAddresses('10.0.0.10', '10.0.0.9'), 1);
    assert.equal(compareAddresses('9.255.255.255', '10.0.0.0'), -1);
    assert.equal(compareAddresses('192.168.1.1', '192.168.1.1'), 0);
    assert.equal(compareAddresses('2001:db8::1', '2001:db8::0:1'), 0);
    assert.equal(compareAddresses('fe80::ffff', 'fe80::1:0'), -1);
    assert.equal(compareAddresses('ff02::12', 'fe80::1'), 1);
  });

  it('compareAddresses puts IPv4 before IPv6 (a validated advert never mixes them)', () => {
    assert.equal(compareAddresses('255.255.255.255', '::1'), -1);
    assert.equal(compareAddresses('::1', '0.0.0.1'), 1);
  });
});

describe('reconfigure (reload without a role change)', () => {
  it('lists the changes that need a restart', () => {
    assert.deepEqual(restartReasons(cfg(), cfg({ advertIntMs: 2000, priority: 150 })), []);
    assert.deepEqual(restartReasons(cfg(), cfg({ vrid: 52, version: 3, primaryAddress: '10.0.0.3', priority: 255 })), [
      'vrid 51 -> 52',
      'version 2 -> 3',
      'primary address 10.0.0.2 -> 10.0.0.3',
      'address owner now (priority 100 -> 255)',
    ]);
    assert.deepEqual(restartReasons(cfg({ primaryAddress: '2001:db8::1' }), cfg({ primaryAddress: '2001:db8:0::1' })), []);
    assert.deepEqual(restartReasons(cfg({ priority: 255 }), cfg({ priority: 200 })), ['address owner no longer (priority 255 -> 200)']);
  });

  it('an owner reconfigures with its priority 255; other effective priorities are refused', () => {
    const fsm = new VrrpFsm(cfg({ priority: 255 }));
    fsm.start(0);
    assert.equal(fsm.reconfigure(10, cfg({ priority: 255, advertIntMs: 2000 })).state, 'MASTER');
    assert.throws(() => fsm.reconfigure(20, cfg({ priority: 255 }), 200), internal);
  });

  it('MASTER: GARP bursts switched off are cancelled, a refresh switched off stops', () => {
    const { fsm, t } = master({ garp: { masterRefreshMs: 10_000 } });
    fsm.onAdvert(t + 1, adv(10));
    const before = fsm.snapshot();
    assert.deepEqual([before.garpMasterAt, before.garpLowerPrioAt, before.garpRefreshAt], [t + 5000, t + 5001, t + 15_000]);
    fsm.reconfigure(t + 2, cfg({ garp: { masterDelayMs: 0, lowerPrioRepeat: 0 } }));
    const after = fsm.snapshot();
    assert.deepEqual([after.garpMasterAt, after.garpLowerPrioAt, after.garpRefreshAt], [undefined, undefined, undefined]);
  });

  it('a reload that changes the effective priority notifies it with notifyPriorityChanges', () => {
    const { fsm, t } = master({ notifyPriorityChanges: true });
    const s = fsm.reconfigure(t + 1, cfg({ notifyPriorityChanges: true, priority: 150 }));
    assert.deepEqual(acts(s), [NOTIFY('MASTER_PRIORITY', 150)]);
    assert.deepEqual(traces(s), ['VI_1: reconfigured (effective priority 150)']);
    assert.deepEqual(acts(fsm.reconfigure(t + 2, cfg({ notifyPriorityChanges: true, priority: 150 }))), []);
  });

  it('refuses a change that needs a restart, and keeps the old config', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    assert.throws(() => fsm.reconfigure(10, cfg({ vrid: 9 })), internal);
    assert.equal(fsm.config.vrid, 51);
  });

  it('MASTER: a longer advert interval applies after the advert already due; the role stays', () => {
    const { fsm, t } = master();
    const s = fsm.reconfigure(t + 100, cfg({ advertIntMs: 3000 }));
    assert.equal(s.state, 'MASTER');
    assert.equal(s.nextAt, t + 1000);
    fsm.onTimer(t + 1000);
    assert.equal(fsm.nextAt, t + 4000);
  });

  it('MASTER: a shorter advert interval brings the next advert forward', () => {
    const { fsm, t } = master({ version: 3 });
    assert.equal(fsm.reconfigure(t + 100, cfg({ version: 3, advertIntMs: 200 })).nextAt, t + 300);
    assert.deepEqual(fsm.onTimer(t + 300).actions, [ADV(100)]);
    assert.equal(fsm.nextAt, t + 500);
  });

  it('BACKUP: a new base priority and down_timer_adverts recompute the running down timer', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.onAdvert(1000, adv(250));
    const s = fsm.reconfigure(1500, cfg({ priority: 200, downTimerAdverts: 4 }));
    assert.equal(s.state, 'BACKUP');
    assert.equal(s.nextAt, 1000 + 4000 + 218.75);
    assert.equal(fsm.priority, 200);
  });

  it('the runner can pass the effective priority its trackers give under the new base', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.reconfigure(10, cfg({ priority: 120 }), 140);
    assert.equal(fsm.priority, 140);
  });

  it('an unchanged base keeps the tracker-adjusted priority', () => {
    const fsm = new VrrpFsm(cfg());
    fsm.start(0);
    fsm.setPriority(5, 130);
    fsm.reconfigure(10, cfg({ preemptDelayMs: 1000 }));
    assert.equal(fsm.priority, 130);
  });

  it('v3 BACKUP keeps following the master\'s interval after a change of its own', () => {
    const fsm = new VrrpFsm(cfg({ version: 3 }));
    fsm.start(0);
    fsm.onAdvert(100, adv(200, '10.0.0.9', 100));
    fsm.reconfigure(150, cfg({ version: 3, advertIntMs: 2000 }));
    assert.equal(fsm.snapshot().masterAdverIntMs, 100);
    assert.equal(fsm.nextAt, 100 + 360.9375);
  });

  it('turning preempt off drops a running preempt delay; turning the refresh on schedules it', () => {
    const b = new VrrpFsm(cfg({ preemptDelayMs: 5000 }));
    b.start(0);
    b.onAdvert(100, adv(50));
    b.reconfigure(200, cfg({ preempt: false, preemptDelayMs: 5000 }));
    assert.equal(b.snapshot().preemptDelayUntil, undefined);
    const { fsm, t } = master();
    fsm.reconfigure(t + 10, cfg({ garp: { masterRefreshMs: 60_000 } }));
    assert.equal(fsm.snapshot().garpRefreshAt, t + 60_010);
  });
});

// --- a simulated LAN --------------------------------------------------------

interface Node {
  readonly name: string;
  readonly addr: string;
  readonly fsm: VrrpFsm;
  alive: boolean;
}

/** An advert on its way to a node. */
interface Delivery {
  readonly at: number;
  readonly seq: number;
  readonly to: Node;
  readonly adv: ReceivedAdvert;
}

/**
 * Instances on one segment: an advert reaches every other live instance
 * `latency` ms later. Deliveries due at the same time as a timer run first.
 * Records every state change as `"<time> <name> <state>"`.
 */
class Lan {
  now = 0;
  /** State changes: `"<time> <name> <state>"`. */
  readonly log: string[] = [];
  /** Notify events: `"<time> <name> <event>"`. */
  readonly events: string[] = [];
  readonly #nodes: Node[] = [];
  #queue: Delivery[] = [];
  #seq = 0;
  constructor(readonly latency = 0) {}

  add(name: string, addr: string, o: Partial<VrrpFsmConfig> = {}): VrrpFsm {
    const fsm = new VrrpFsm(cfg({ name, primaryAddress: addr, ...o }));
    this.#nodes.push({ name, addr, fsm, alive: true });
    return fsm;
  }

  node(name: string): Node {
    const n = this.#nodes.find((x) => x.name === name);
    assert.ok(n);
    return n;
  }

  start(name: string): void {
    const n = this.node(name);
    this.#apply(n, () => n.fsm.start(this.now));
  }

  /** Graceful stop: the priority-0 advert goes out. */
  stop(name: string): void {
    const n = this.node(name);
    this.#apply(n, () => n.fsm.stop(this.now));
    n.alive = false;
  }

  /** Silent death: nothing more is sent or received. */
  kill(name: string): void {
    this.node(name).alive = false;
  }

  /** One-way loss: the node hears nothing while deaf, but still sends and runs its timers. */
  deaf(name: string, on: boolean): void {
    if (on) this.#deaf.add(this.node(name));
    else this.#deaf.delete(this.node(name));
  }
  readonly #deaf = new Set<Node>();

  /** Runs any input of a node at the current time. */
  apply(name: string, input: () => VrrpStep): void {
    this.#apply(this.node(name), input);
  }

  fault(name: string, faulted: boolean): void {
    const n = this.node(name);
    this.#apply(n, () => n.fsm.setFault(this.now, faulted, faulted ? 'interface down' : 'interface up'));
  }

  state(name: string): VrrpState {
    return this.node(name).fsm.state;
  }

  /** Runs deliveries and timers up to `until` (inclusive), then sets the clock there. */
  run(until: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      this.#queue = this.#queue.filter((d) => d.to.alive && !this.#deaf.has(d.to));
      const delivery = this.#queue.reduce<Delivery | undefined>(
        (best, d) => (best === undefined || d.at < best.at || (d.at === best.at && d.seq < best.seq) ? d : best),
        undefined,
      );
      let timer: Node | undefined;
      for (const n of this.#nodes) {
        const at = n.fsm.nextAt;
        if (n.alive && at !== undefined && (timer === undefined || at < timer.fsm.nextAt!)) timer = n;
      }
      const tAt = timer?.fsm.nextAt;
      if (delivery !== undefined && delivery.at <= until && (tAt === undefined || delivery.at <= tAt)) {
        this.now = delivery.at;
        this.#queue = this.#queue.filter((d) => d !== delivery);
        this.#apply(delivery.to, () => delivery.to.fsm.onAdvert(this.now, delivery.adv));
      } else if (timer !== undefined && tAt! <= until) {
        this.now = Math.max(this.now, tAt!);
        this.#apply(timer, () => timer.fsm.onTimer(this.now));
      } else {
        this.now = until;
        return;
      }
    }
    assert.fail('LAN does not settle');
  }

  #apply(n: Node, input: () => VrrpStep): void {
    const was = n.fsm.state;
    const step = input();
    if (step.state !== was) this.log.push(`${this.now} ${n.name} ${step.state}`);
    for (const a of step.actions) {
      if (a.kind === 'notify') this.events.push(`${this.now} ${n.name} ${a.event}`);
      if (a.kind !== 'sendAdvert' || !n.alive) continue;
      for (const to of this.#nodes) {
        if (to === n || !to.alive) continue;
        const advert: ReceivedAdvert = { priority: a.priority, source: n.addr, advertIntMs: n.fsm.config.advertIntMs };
        this.#queue.push({ at: this.now + this.latency, seq: this.#seq++, to, adv: advert });
      }
    }
  }
}

describe('two routers on one LAN', () => {
  it('AT-VRRP-01: the master dies silently; the backup is MASTER 3.609375 s after its last advert', () => {
    const lan = new Lan();
    lan.add('A', '10.0.0.1', { priority: 200 });
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    assert.deepEqual(lan.log, ['0 A BACKUP', '0 B BACKUP', `${MDI_200} A MASTER`]);
    lan.kill('A');
    lan.run(20_000);
    // A advertised at 3218.75 + k x 1000; the last one before 10 000 was at 9218.75.
    assert.deepEqual(lan.log.slice(3), [`${9218.75 + MDI_100} B MASTER`]);
  });

  it('AT-VRRP-02: graceful stop; the backup is MASTER after Skew_Time (609.375 ms at priority 100)', () => {
    const lan = new Lan();
    lan.add('A', '10.0.0.1', { priority: 200 });
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    lan.stop('A');
    lan.run(20_000);
    assert.deepEqual(lan.log.slice(3), ['10000 A STOP', `${10_000 + SKEW_100} B MASTER`]);
  });

  it('AT-VRRP-06: equal priorities started together: both claim MASTER, the higher address keeps it', () => {
    const lan = new Lan(1);
    lan.add('A', '10.0.0.1');
    lan.add('B', '10.0.0.2');
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    assert.deepEqual(lan.log, ['0 A BACKUP', '0 B BACKUP', `${MDI_100} A MASTER`, `${MDI_100} B MASTER`, `${MDI_100 + 1} A BACKUP`]);
    assert.equal(lan.state('B'), 'MASTER');
  });

  it('AT-VRRP-06: the same with the addresses the other way round', () => {
    const lan = new Lan(1);
    lan.add('A', '10.0.0.2');
    lan.add('B', '10.0.0.1');
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    assert.equal(lan.state('A'), 'MASTER');
    assert.equal(lan.state('B'), 'BACKUP');
  });

  it('AT-VRRP-05: a higher-priority node joining preempts after its down interval', () => {
    const lan = new Lan();
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.add('A', '10.0.0.1', { priority: 200 });
    lan.start('B');
    lan.run(20_000);
    lan.start('A');
    lan.run(40_000);
    assert.deepEqual(lan.log, ['0 B BACKUP', `${MDI_100} B MASTER`, '20000 A BACKUP', `${20_000 + MDI_200} A MASTER`, `${20_000 + MDI_200} B BACKUP`]);
  });

  it('AT-VRRP-05: with nopreempt the higher-priority node stays BACKUP', () => {
    const lan = new Lan();
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.add('A', '10.0.0.1', { priority: 200, preempt: false });
    lan.start('B');
    lan.run(20_000);
    lan.start('A');
    lan.run(60_000);
    assert.equal(lan.state('A'), 'BACKUP');
    assert.equal(lan.state('B'), 'MASTER');
  });

  it('AT-VRRP-05: preempt_delay 2 s holds the preemption back while the delay runs', () => {
    const lan = new Lan();
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.add('A', '10.0.0.1', { priority: 200, preemptDelayMs: 2000 });
    lan.start('B');
    lan.run(20_000);
    lan.start('A');
    lan.run(60_000);
    // B advertises at 3609.375 + k x 1000: A accepts from 20 609.375 until 22 609.375 (exclusive),
    // so the last accepted advert is at 21 609.375, and A takes over one MDI later.
    assert.deepEqual(lan.log.slice(3), [`${21_609.375 + MDI_200} A MASTER`, `${21_609.375 + MDI_200} B BACKUP`]);
  });

  it('AT-VRRP-08: the master faults (priority-0 advert), the backup takes over in Skew_Time; recovery preempts back', () => {
    const lan = new Lan();
    lan.add('A', '10.0.0.1', { priority: 200 });
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    lan.fault('A', true);
    lan.run(15_000);
    lan.fault('A', false);
    lan.run(30_000);
    assert.deepEqual(lan.log.slice(3), [
      '10000 A FAULT',
      `${10_000 + SKEW_100} B MASTER`,
      '15000 A BACKUP',
      `${15_000 + MDI_200} A MASTER`,
      `${15_000 + MDI_200} B BACKUP`,
    ]);
  });

  it('AT-VRRP-13: the master loses a VIP; its smaller skew brings it back before the backup moves', () => {
    const lan = new Lan();
    const a = lan.add('A', '10.0.0.1', { priority: 200 });
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    lan.apply('A', () => a.addressDeleted(lan.now, 'VIP deleted'));
    lan.run(20_000);
    assert.deepEqual(lan.log.slice(3), ['10000 A BACKUP', `${10_000 + 218.75} A MASTER`]);
    assert.equal(lan.state('B'), 'BACKUP');
  });

  it('AT-VRRP-12: split brain heals: the master answers the lower node at once, which yields when it hears it', () => {
    const lan = new Lan();
    lan.add('A', '10.0.0.1', { priority: 200 });
    lan.add('B', '10.0.0.2', { priority: 100 });
    lan.start('A');
    lan.start('B');
    lan.run(10_000);
    // B stops hearing A (one-way loss): it times out and claims MASTER; A hears it and answers.
    lan.deaf('B', true);
    lan.run(13_000);
    const split = 9218.75 + MDI_100;
    assert.deepEqual(lan.log.slice(3), [`${split} B MASTER`]);
    assert.ok(lan.events.includes(`${split} A MASTER_RX_LOWER_PRI`));
    assert.equal(lan.state('A'), 'MASTER');
    // Heard again: A's next advert (its timer restarted by its answer) sends B back.
    lan.deaf('B', false);
    lan.run(20_000);
    assert.deepEqual(lan.log.slice(4), [`${split + 1000} B BACKUP`]);
  });
});

describe('VrrpFsm advert cadence', () => {
  it('a late advert timer does not push the next advert back; a whole interval late restarts the cadence', () => {
    const { fsm, t } = master({ version: 3, advertIntMs: 100, garp: { masterDelayMs: 0 } });
    assert.equal(fsm.nextAt, t + 100);
    const s1 = fsm.onTimer(t + 103); // 3 ms late
    assert.deepEqual(acts(s1), [ADV(100)]);
    assert.equal(s1.nextAt, t + 200, 'due an interval after the previous one was due');
    const s2 = fsm.onTimer(t + 350); // 150 ms late
    assert.deepEqual(acts(s2), [ADV(100)]);
    assert.equal(s2.nextAt, t + 450, 'more than an interval late: from now');
  });
});
