/**
 * /metrics of an instance without a data plane (a VRRP-only config): the
 * VRRP side is there, the data-plane counters are empty, and
 * xlb_xdp_loaded says the program is not loaded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../../src/metrics/metrics.js';
import type { VrrpInstanceStatus } from '../../../src/vrrp/runner.js';

const VI: VrrpInstanceStatus = {
  name: 'VI_WEB',
  vrid: 51,
  family: 4,
  interface: 'eth0',
  state: 'MASTER',
  reason: 'master down timer',
  basePriority: 150,
  effectivePriority: 150,
  advertsSent: 12,
  advertsReceived: 3,
  becameMaster: 1,
  drops: {},
};

describe('metrics without a data plane', () => {
  it('shows the VRRP instances and xlb_xdp_loaded 0, and no data-plane series', async () => {
    const m = createMetrics({ dp: () => null, services: () => [], vrrp: () => Promise.resolve([VI]) });
    const text = await m.registry.metrics();
    assert.match(text, /^xlb_xdp_loaded 0$/m);
    assert.match(text, /^xlb_vrrp_state\{instance="VI_WEB",state="MASTER"\} 1$/m);
    assert.match(text, /^xlb_vrrp_state\{instance="VI_WEB",state="BACKUP"\} 0$/m);
    assert.match(text, /^xlb_vrrp_priority\{instance="VI_WEB"\} 150$/m);
    assert.match(text, /^xlb_vrrp_adverts_sent_total\{instance="VI_WEB"\} 12$/m);
    assert.doesNotMatch(text, /^xlb_packets_total\{/m);
    assert.doesNotMatch(text, /^xlb_vip_packets_total\{/m);
  });
});
