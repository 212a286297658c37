/**
 * VrrpSyncGroup (keepalived.md §1.9, AT-VRRP-10): members become MASTER only
 * together, one faulted member faults them all, one member seeing a higher
 * master drags them all to BACKUP, lower-priority GARPs for every member,
 * owners, stop, group notifies. Fake clock: each test passes `now`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpFsm, type GarpBurst, type ReceivedAdvert, type VrrpAction, type VrrpFsmConfig, type VrrpNotifyEvent } from '../../../src/vrrp/fsm.js';
import { VrrpSyncGroup, type SyncGroupStep } from '../../../src/vrrp/sync-group.js';
import { XlbError } from '../../../src/errors.js';

const internal = (e: unknown) => e instanceof XlbError && e.code === 'XLB_ERR_INTERNAL';

/** Master_Down_Interval of v2, 1 s, priority 100. */
const MDI_100 = 3609.375;

const ADV = (priority: number): VrrpAction => ({ kind: 'sendAdvert', priority });
const ADD: VrrpAction = { kind: 'addAddresses' };
const DEL: VrrpAction = { kind: 'removeAddresses' };
const GARP = (burst: GarpBurst, count: number): VrrpAction => ({ kind: 'garpBurst', burst, count });
const NOTIFY = (event: VrrpNotifyEvent, priority: number): VrrpAction => ({ kind: 'notify', event, priority });
const BECOME_MASTER = (prio: number): VrrpAction[] => [ADV(prio), ADD, GARP('master', 5), NOTIFY('MASTER', prio)];
const GROUP = (event: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP') => ({ kind: 'notify', event, priority: 0 });

const adv = (priority: number, source = '10.0.0.9'): ReceivedAdvert => ({ priority, source });

/** A member's non-trace actions in a group step. */
const macts = (s: SyncGroupStep, member: string): VrrpAction[] => (s.members.get(member) ?? []).filter((a) => a.kind !== 'trace');
/** A member's trace lines in a group step. */
const mtraces = (s: SyncGroupStep, member: string): string[] => (s.members.get(member) ?? []).flatMap((a) => (a.kind === 'trace' ? [a.line] : []));
/** The group's notifies. */
const gnotify = (s: SyncGroupStep) => s.actions.filter((a) => a.kind === 'notify');

const member = (name: string, addr: string, vrid: number, o: Partial<VrrpFsmConfig> = {}): VrrpFsm =>
  new VrrpFsm({ name, vrid, version: 2, priority: 100, advertIntMs: 1000, primaryAddress: addr, ...o });

/** SG with VI_1 (outside) and VI_2 (inside). */
function group(o1: Partial<VrrpFsmConfig> = {}, o2: Partial<VrrpFsmConfig> = {}): VrrpSyncGroup {
  return new VrrpSyncGroup('SG', [member('VI_1', '10.0.0.2', 51, o1), member('VI_2', '10.1.0.2', 52, o2)]);
}

/** A started group whose members both became MASTER at MDI_100. */
function masters(): VrrpSyncGroup {
  const g = group();
  g.start(0);
  const s = g.onTimer(MDI_100);
  assert.equal(s.state, 'MASTER');
  return g;
}

describe('VrrpSyncGroup start', () => {
  it('every member enters BACKUP, held by the others; the group notifies BACKUP', () => {
    const g = group();
    const s = g.start(0);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(macts(s, 'VI_1'), [NOTIFY('BACKUP', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [NOTIFY('BACKUP', 100)]);
    assert.deepEqual(s.actions, [{ kind: 'trace', line: 'group SG: INIT -> BACKUP' }, GROUP('BACKUP')]);
    assert.equal(s.nextAt, MDI_100);
    assert.equal(g.member('VI_1').held, true);
    assert.equal(g.member('VI_2').held, true);
    assert.equal(g.name, 'SG');
    assert.equal(g.state, 'BACKUP');
  });

  it('members that want MASTER wait Master_Adver_Interval + min skew, then become MASTER together', () => {
    const g = group({ initialState: 'MASTER' }, { initialState: 'MASTER' });
    assert.equal(g.start(0).nextAt, 1003.90625);
    const s = g.onTimer(1003.90625);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(macts(s, 'VI_1'), BECOME_MASTER(100));
    assert.deepEqual(macts(s, 'VI_2'), BECOME_MASTER(100));
  });

  it('a member faulted before start starts every member in FAULT', () => {
    const g = group();
    const pre = g.setFault(0, 'VI_1', true, 'interface eth0 down');
    assert.equal(pre.state, 'INIT');
    assert.deepEqual(pre.actions, []);
    const s = g.start(0);
    assert.equal(s.state, 'FAULT');
    assert.deepEqual(macts(s, 'VI_1'), [NOTIFY('FAULT', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [NOTIFY('FAULT', 100)]);
    assert.deepEqual(mtraces(s, 'VI_2'), ['VI_2: INIT -> FAULT (init: sync group SG: VI_1 faulted)']);
    assert.deepEqual(gnotify(s), [GROUP('FAULT')]);
    assert.equal(s.nextAt, undefined);
  });

  it('all members address owners that want MASTER: they start MASTER together', () => {
    const g = group({ priority: 255 }, { priority: 255 });
    const s = g.start(0);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(macts(s, 'VI_1'), BECOME_MASTER(255));
    assert.deepEqual(macts(s, 'VI_2'), BECOME_MASTER(255));
    assert.deepEqual(gnotify(s), [GROUP('MASTER')]);
  });

  it('an owner with a non-owner: the owner waits Master_Adver_Interval + min skew, then for the other', () => {
    const g = group({ priority: 255 }, {});
    const s = g.start(0);
    assert.equal(g.member('VI_1').nextAt, 1003.90625);
    assert.equal(s.nextAt, 1003.90625);
    const early = g.onTimer(1003.90625);
    assert.equal(early.state, 'BACKUP');
    assert.deepEqual(macts(early, 'VI_1'), []);
    assert.equal(g.member('VI_1').wantsMaster, true);
    const both = g.onTimer(MDI_100);
    assert.deepEqual(macts(both, 'VI_2'), BECOME_MASTER(100));
    assert.deepEqual(macts(both, 'VI_1'), BECOME_MASTER(255));
    assert.equal(both.state, 'MASTER');
  });

  it('a one-member group behaves like a lone instance', () => {
    const g = new VrrpSyncGroup('SG1', [member('VI_1', '10.0.0.2', 51)]);
    g.start(0);
    assert.equal(g.member('VI_1').held, false);
    const s = g.onTimer(MDI_100);
    assert.deepEqual(macts(s, 'VI_1'), BECOME_MASTER(100));
    assert.equal(s.state, 'MASTER');
  });
});

describe('VrrpSyncGroup: MASTER only if all members are eligible', () => {
  it('members whose timers expire together become MASTER together', () => {
    const g = group();
    g.start(0);
    const s = g.onTimer(MDI_100);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(macts(s, 'VI_1'), BECOME_MASTER(100));
    assert.deepEqual(macts(s, 'VI_2'), BECOME_MASTER(100));
    assert.deepEqual(gnotify(s), [GROUP('MASTER')]);
    assert.equal(s.nextAt, MDI_100 + 1000);
  });

  it('a member whose timer expires waits (re-armed) while another member hears a master', () => {
    const g = group();
    g.start(0);
    g.onAdvert(1000, 'VI_2', adv(200, '10.1.0.9'));
    const s = g.onTimer(MDI_100);
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(macts(s, 'VI_1'), []);
    assert.deepEqual(mtraces(s, 'VI_1'), ['VI_1: master down timer expired, held by sync group']);
    assert.equal(g.member('VI_1').wantsMaster, true);
    assert.equal(g.member('VI_1').nextAt, 2 * MDI_100);
    assert.equal(g.member('VI_2').nextAt, 1000 + MDI_100);
    assert.equal(s.nextAt, 1000 + MDI_100);
  });

  it('when the last member is ready they all become MASTER at once', () => {
    const g = group();
    g.start(0);
    g.onAdvert(1000, 'VI_2', adv(200, '10.1.0.9'));
    g.onTimer(MDI_100);
    // VI_2's master resigns: VI_2 takes over after its skew, and pulls VI_1 with it.
    g.onAdvert(4000, 'VI_2', adv(0, '10.1.0.9'));
    const s = g.onTimer(4000 + 609.375);
    assert.deepEqual(macts(s, 'VI_2'), BECOME_MASTER(100));
    assert.deepEqual(macts(s, 'VI_1'), BECOME_MASTER(100));
    assert.deepEqual(mtraces(s, 'VI_1'), ['VI_1: BACKUP -> MASTER (sync group: all members ready)']);
    assert.equal(s.state, 'MASTER');
  });

  it('an accepted advert makes a waiting member not ready again: the other member is held', () => {
    const g = group();
    g.start(0);
    g.onAdvert(1000, 'VI_2', adv(200, '10.1.0.9'));
    g.onTimer(MDI_100);
    assert.equal(g.member('VI_1').wantsMaster, true);
    g.onAdvert(4000, 'VI_1', adv(200));
    assert.equal(g.member('VI_1').wantsMaster, false);
    assert.equal(g.member('VI_2').held, true);
    const s = g.onTimer(1000 + MDI_100);
    assert.equal(s.state, 'BACKUP');
    assert.equal(g.member('VI_2').wantsMaster, true);
    assert.equal(g.member('VI_2').state, 'BACKUP');
  });
});

describe('VrrpSyncGroup: one member drags the others', () => {
  it('one member seeing a higher-priority master drags every member to BACKUP (AT-VRRP-10)', () => {
    const g = masters();
    const s = g.onAdvert(5000, 'VI_1', adv(200));
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(macts(s, 'VI_1'), [DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [DEL, NOTIFY('BACKUP', 100)]);
    assert.ok(mtraces(s, 'VI_2').includes('VI_2: MASTER -> BACKUP (sync group: VI_1 is BACKUP)'));
    assert.deepEqual(gnotify(s), [GROUP('BACKUP')]);
    assert.equal(g.member('VI_2').nextAt, 5000 + MDI_100);
    // VI_2 has no master of its own, but stays BACKUP while VI_1 follows one.
    g.onAdvert(6000, 'VI_1', adv(200));
    const later = g.onTimer(5000 + MDI_100);
    assert.deepEqual(macts(later, 'VI_2'), []);
    assert.equal(g.member('VI_2').state, 'BACKUP');
  });

  it('one member faulted puts every member in FAULT; MASTER members resign (AT-VRRP-10)', () => {
    const g = masters();
    const s = g.setFault(5000, 'VI_1', true, 'interface eth0 down');
    assert.equal(s.state, 'FAULT');
    assert.deepEqual(macts(s, 'VI_1'), [ADV(0), DEL, NOTIFY('FAULT', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [ADV(0), DEL, NOTIFY('FAULT', 100)]);
    assert.deepEqual(mtraces(s, 'VI_2'), ['VI_2: MASTER -> FAULT (sync group SG: VI_1 faulted)', 'VI_2: held by sync group (VI_1 is FAULT)']);
    assert.deepEqual(gnotify(s), [GROUP('FAULT')]);
    assert.equal(s.nextAt, undefined);
  });

  it('when the fault clears every member comes back as BACKUP with a fresh down timer', () => {
    const g = masters();
    g.setFault(5000, 'VI_1', true, 'interface eth0 down');
    const s = g.setFault(8000, 'VI_1', false, 'interface eth0 up');
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(macts(s, 'VI_1'), [NOTIFY('BACKUP', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [NOTIFY('BACKUP', 100)]);
    assert.deepEqual(gnotify(s), [GROUP('BACKUP')]);
    assert.equal(s.nextAt, 8000 + MDI_100);
    assert.equal(g.onTimer(8000 + MDI_100).state, 'MASTER');
  });

  it('two faulted members: the group stays in FAULT until both clear', () => {
    const g = masters();
    g.setFault(5000, 'VI_1', true, 'a');
    g.setFault(5100, 'VI_2', true, 'b');
    const one = g.setFault(6000, 'VI_1', false, 'a');
    assert.equal(one.state, 'FAULT');
    assert.equal(g.member('VI_1').state, 'FAULT');
    assert.equal(g.setFault(7000, 'VI_2', false, 'b').state, 'BACKUP');
  });

  it('a lower-priority advert to one MASTER member makes the others send their lower-priority GARPs', () => {
    const g = masters();
    const s = g.onAdvert(5000, 'VI_1', adv(50));
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(macts(s, 'VI_1'), [ADV(100), GARP('lower-prio', 5), NOTIFY('MASTER_RX_LOWER_PRI', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [GARP('lower-prio', 5)]);
    assert.equal(g.member('VI_2').snapshot().garpLowerPrioAt, 10_000);
  });

  it('members with garp_lower_prio_repeat 0 send nothing for the others', () => {
    const g = new VrrpSyncGroup('SG', [member('VI_1', '10.0.0.2', 51), member('VI_2', '10.1.0.2', 52, { garp: { lowerPrioRepeat: 0 } })]);
    g.start(0);
    g.onTimer(MDI_100);
    assert.deepEqual(macts(g.onAdvert(5000, 'VI_1', adv(50)), 'VI_2'), []);
  });

  it('a priority change goes to its member and can move the group deadline', () => {
    const g = group();
    g.start(0);
    const s = g.setPriority(100, 'VI_1', 200);
    assert.equal(g.member('VI_1').nextAt, 3218.75);
    assert.equal(s.nextAt, 3218.75);
  });
});

describe('VrrpSyncGroup: address deleted, reload', () => {
  it('an address deleted on one MASTER member sends every MASTER member to BACKUP; they return together after Skew_Time', () => {
    const g = masters();
    const s = g.addressDeleted(5000, 'VI_1', 'VIP 192.0.2.10/32 deleted');
    assert.equal(s.state, 'BACKUP');
    assert.deepEqual(macts(s, 'VI_1'), [ADV(0), DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [ADV(0), DEL, NOTIFY('BACKUP', 100)]);
    assert.deepEqual(mtraces(s, 'VI_2')[0], 'VI_2: MASTER -> BACKUP (sync group: VI_1 lost an address)');
    assert.equal(s.nextAt, 5609.375);
    const back = g.onTimer(5609.375);
    assert.equal(back.state, 'MASTER');
    assert.deepEqual(macts(back, 'VI_1'), BECOME_MASTER(100));
    assert.deepEqual(macts(back, 'VI_2'), BECOME_MASTER(100));
  });

  it('an address deleted on a member that is not MASTER does nothing', () => {
    const g = group();
    g.start(0);
    const s = g.addressDeleted(10, 'VI_1', 'x');
    assert.deepEqual([s.members.size, s.actions.length, s.nextAt], [0, 0, MDI_100]);
  });

  it('reconfigure goes to the member and keeps its name', () => {
    const g = group();
    g.start(0);
    const next: VrrpFsmConfig = { vrid: 51, version: 2, priority: 200, advertIntMs: 1000, primaryAddress: '10.0.0.2' };
    const s = g.reconfigure(100, 'VI_1', next);
    assert.equal(s.nextAt, 3218.75);
    assert.equal(g.member('VI_1').priority, 200);
    assert.throws(() => g.reconfigure(200, 'VI_1', { ...next, name: 'VI_9' }), internal);
  });

  it('late timers run earliest first across members', () => {
    const g = group();
    g.start(0);
    g.onAdvert(1000, 'VI_1', adv(200));
    // Both are past due at 10 s: VI_2 (due first) waits held, then VI_1 finds it ready.
    const s = g.onTimer(10_000);
    assert.equal(s.state, 'MASTER');
    assert.deepEqual(mtraces(s, 'VI_2')[0], 'VI_2: master down timer expired, held by sync group');
  });
});

describe('VrrpSyncGroup stop', () => {
  it('stops every member; MASTER members resign; the group notifies STOP', () => {
    const g = masters();
    const s = g.stop(9000);
    assert.equal(s.state, 'STOP');
    assert.deepEqual(macts(s, 'VI_1'), [ADV(0), DEL, NOTIFY('STOP', 100)]);
    assert.deepEqual(macts(s, 'VI_2'), [ADV(0), DEL, NOTIFY('STOP', 100)]);
    assert.deepEqual(gnotify(s), [GROUP('STOP')]);
    assert.equal(s.nextAt, undefined);
    const after = g.onTimer(20_000);
    assert.deepEqual([after.members.size, after.actions.length], [0, 0]);
  });
});

describe('VrrpSyncGroup checks', () => {
  it('refuses duplicate members, no members, started members, unknown member names', () => {
    assert.throws(() => new VrrpSyncGroup('SG', [member('VI_1', '10.0.0.2', 51), member('VI_1', '10.0.0.3', 52)]), internal);
    assert.throws(() => new VrrpSyncGroup('SG', []), internal);
    const started = member('VI_1', '10.0.0.2', 51);
    started.start(0);
    assert.throws(() => new VrrpSyncGroup('SG', [started]), internal);
    const g = group();
    assert.throws(() => g.onAdvert(0, 'VI_9', adv(100)), internal);
  });
});
