/**
 * @module metrics/metrics
 * The Prometheus registry of a running xlb (prom-client): data-plane counters
 * read from the per-CPU maps at scrape time, backend weights and states from
 * the applied config, reload results, build info, and the Node process
 * metrics. Names follow Prometheus conventions: `xlb_` prefix, `_total` for
 * counters, base units (bytes).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { XdpDataplane } from '../dataplane/xdp/xdp-dataplane.js';
import type { PlannedService } from '../daemon/plan.js';
import type { HealthObserver } from '../health/runner.js';
import type { VrrpInstanceStatus } from '../vrrp/runner.js';
import type { BfdRuntimeStatus } from '../bfd/runtime.js';
import { BFD_STATE, BFD_STATE_NAMES, type BfdState } from '../bfd/spec.js';

/** What the collectors read at scrape time. */
export interface MetricsSource {
  dp(): XdpDataplane | null;
  services(): Iterable<PlannedService>;
  /** A service's quorum (undefined: not under health checks). */
  quorumUp?(serviceKey: string): boolean | undefined;
  /** VRRP instances (the worker's last report is fine when it is busy). */
  vrrp?(): Promise<VrrpInstanceStatus[]>;
  /** BFD sessions and drops; undefined without BFD (the worker's last report is fine when it is busy). */
  bfd?(): Promise<BfdRuntimeStatus | undefined>;
}

/** RFC 5880 §4.1 state numbers by name, the value of xlb_bfd_session_state. */
const BFD_STATE_BY_NAME: ReadonlyMap<string, BfdState> = new Map(Object.entries(BFD_STATE_NAMES).map(([n, name]) => [name, Number(n) as BfdState]));

/** VRRP states as xlb_vrrp_state shows them. */
const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'] as const;

/** The registry and the metrics the daemon updates itself. */
export interface XlbMetrics {
  registry: Registry;
  reloads: Counter<'result'>;
  updateFailures: Counter;
  /** extra waves of ring flips: changes that needed more ring slots than were free */
  ringWaves: Counter;
  /** Hooks the health runner reports attempts and transitions through. */
  health: HealthObserver;
}

/** The version reported by xlb_build_info. */
export const XLB_VERSION = '0.1.0';

function vipLabels(s: PlannedService): { vip: string; service: string } {
  const vip = s.address.includes(':') ? `[${s.address}]:${s.port}/${s.proto === 17 ? 'udp' : 'tcp'}` : `${s.address}:${s.port}/${s.proto === 17 ? 'udp' : 'tcp'}`;
  return { vip, service: s.name };
}

/**
 * Build the registry.
 * @param src where the collectors read from
 */
export function createMetrics(src: MetricsSource): XlbMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const perVip = (name: string, help: string, field: 'packets' | 'bytes' | 'newFlows'): void => {
    new Counter({
      name,
      help,
      labelNames: ['vip', 'service'],
      registers: [registry],
      collect() {
        const dp = src.dp();
        this.reset();
        if (!dp) return;
        for (const s of src.services()) this.inc(vipLabels(s), Number(dp.vipStats(s.vipId)[field]));
      },
    });
  };
  perVip('xlb_vip_packets_total', 'Packets received for the virtual service and sent to a backend.', 'packets');
  perVip('xlb_vip_bytes_total', 'Bytes of those packets, as received.', 'bytes');
  perVip('xlb_vip_new_flows_total', 'Flows the connection table did not know (scheduled by the Maglev ring).', 'newFlows');

  const perBackend = (name: string, help: string, field: 'packets' | 'bytes' | 'newFlows'): void => {
    new Counter({
      name,
      help,
      labelNames: ['vip', 'service', 'backend'],
      registers: [registry],
      collect() {
        const dp = src.dp();
        this.reset();
        if (!dp) return;
        for (const s of src.services()) {
          const l = vipLabels(s);
          for (const b of s.backends) this.inc({ ...l, backend: b.key }, Number(dp.backendStats(b.id)[field]));
        }
      },
    });
  };
  perBackend('xlb_backend_packets_total', 'Packets sent to the backend.', 'packets');
  perBackend('xlb_backend_bytes_total', 'Bytes sent to the backend, as received.', 'bytes');
  perBackend('xlb_backend_new_flows_total', 'New flows scheduled to the backend.', 'newFlows');

  new Gauge({
    name: 'xlb_backend_weight',
    help: 'Maglev weight of the backend in use: the configured one, or what health checks made of it (0 = draining, down, or slow start not begun).',
    labelNames: ['vip', 'service', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of src.services()) for (const b of s.backends) this.set({ ...vipLabels(s), backend: b.key }, b.weight);
    },
  });
  new Gauge({
    name: 'xlb_backend_up',
    help: 'Whether the backend is up (1: its health checks pass, or it has none) or down (0: out of the ring, its flows rescheduled).',
    labelNames: ['vip', 'service', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of src.services()) for (const b of s.backends) this.set({ ...vipLabels(s), backend: b.key }, b.up ? 1 : 0);
    },
  });

  const perReason = (name: string, help: string, field: 'packets' | 'bytes'): void => {
    new Counter({
      name,
      help,
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        const dp = src.dp();
        this.reset();
        if (!dp) return;
        for (const [k, v] of Object.entries(dp.reasonCounters())) {
          // XLB_R_NONE is never counted unless something is wrong: shown only then
          if (k !== 'XLB_R_NONE' || v[field]) this.inc({ reason: k.replace(/^XLB_R_/, '').toLowerCase() }, Number(v[field]));
        }
      },
    });
  };
  new Gauge({
    name: 'xlb_xdp_loaded',
    help: 'Whether the XDP program is loaded (1) or not (0: the config has no interfaces, as a VRRP-only config).',
    registers: [registry],
    collect() {
      this.set(src.dp() ? 1 : 0);
    },
  });
  perReason('xlb_packets_total', 'Packets seen by the XDP program, by the one reason each was counted under.', 'packets');
  perReason('xlb_bytes_total', 'Bytes seen by the XDP program, by reason.', 'bytes');
  /** A counter read from a per-CPU array of the data plane, one label value per enum name. */
  const fromDataplane = (name: string, help: string, label: string, read: (dp: XdpDataplane) => Record<string, bigint>, prefix: RegExp): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        const dp = src.dp();
        this.reset();
        if (!dp) return;
        for (const [k, v] of Object.entries(read(dp))) this.inc({ [label]: k.replace(prefix, '').toLowerCase() }, Number(v));
      },
    });
  };
  fromDataplane(
    'xlb_dataplane_events_total',
    'Data-path events: flows recorded, flows not recorded (new-flow budget), failed inserts, next-hop refreshes, flow cache fills.',
    'event',
    (dp) => dp.eventCounters(),
    /^XLB_EV_/,
  );
  fromDataplane(
    'xlb_health_steering_total',
    'Packets of target: vip health checks at the steering program, by result: steered, neigh (sent after neighbour resolution), no_route, too_big, bad.',
    'result',
    (dp) => dp.steeringCounters(),
    /^XLB_HC_/,
  );
  // VRRP: one status read per scrape, shared by the collectors below
  let vrrpRead: Promise<VrrpInstanceStatus[]> | undefined;
  const vrrp = (): Promise<VrrpInstanceStatus[]> => {
    vrrpRead ??= (src.vrrp?.() ?? Promise.resolve([])).finally(() => setImmediate(() => (vrrpRead = undefined)));
    return vrrpRead;
  };
  const vrrpGauge = (name: string, help: string, extra: string[], fill: (m: Gauge<string>, i: VrrpInstanceStatus) => void): void => {
    new Gauge({
      name,
      help,
      labelNames: ['instance', ...extra],
      registers: [registry],
      async collect() {
        const list = await vrrp();
        this.reset();
        for (const i of list) fill(this, i);
      },
    });
  };
  const vrrpCounter = (name: string, help: string, read: (i: VrrpInstanceStatus) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['instance'],
      registers: [registry],
      async collect() {
        const list = await vrrp();
        this.reset();
        for (const i of list) this.inc({ instance: i.name }, read(i));
      },
    });
  };
  vrrpGauge('xlb_vrrp_state', 'VRRP instance state: 1 for the state it is in, 0 for the others.', ['state'], (m, i) => {
    for (const st of VRRP_STATES) m.set({ instance: i.name, state: st }, i.state === st ? 1 : 0);
  });
  vrrpGauge('xlb_vrrp_priority', 'VRRP effective priority (base priority moved by the trackers).', [], (m, i) => m.set({ instance: i.name }, i.effectivePriority));
  vrrpCounter('xlb_vrrp_adverts_sent_total', 'VRRP adverts sent.', (i) => i.advertsSent);
  vrrpCounter('xlb_vrrp_adverts_received_total', 'VRRP adverts received and accepted.', (i) => i.advertsReceived);
  vrrpCounter('xlb_vrrp_became_master_total', 'Transitions to MASTER.', (i) => i.becameMaster);
  new Counter({
    name: 'xlb_vrrp_dropped_total',
    help: 'VRRP adverts dropped by receive validation, by reason (keepalived counter names where it has them).',
    labelNames: ['instance', 'reason'],
    registers: [registry],
    async collect() {
      const list = await vrrp();
      this.reset();
      for (const i of list) for (const [reason, n] of Object.entries(i.drops)) this.inc({ instance: i.name, reason }, n ?? 0);
    },
  });

  // BFD: one status read per scrape, as for VRRP
  let bfdRead: Promise<BfdRuntimeStatus | undefined> | undefined;
  const bfd = (): Promise<BfdRuntimeStatus | undefined> => {
    bfdRead ??= (src.bfd?.() ?? Promise.resolve(undefined)).finally(() => setImmediate(() => (bfdRead = undefined)));
    return bfdRead;
  };
  new Gauge({
    name: 'xlb_bfd_session_state',
    help: `BFD session state, RFC 5880 numbering: ${BFD_STATE.ADMIN_DOWN} AdminDown, ${BFD_STATE.DOWN} Down, ${BFD_STATE.INIT} Init, ${BFD_STATE.UP} Up.`,
    labelNames: ['session'],
    registers: [registry],
    async collect() {
      const st = await bfd();
      this.reset();
      for (const s of st?.sessions ?? []) if (!s.draining) this.set({ session: s.name }, BFD_STATE_BY_NAME.get(s.state) ?? BFD_STATE.DOWN);
    },
  });
  new Counter({
    name: 'xlb_bfd_state_changes_total',
    help: 'BFD session state changes.',
    labelNames: ['session'],
    registers: [registry],
    async collect() {
      const st = await bfd();
      this.reset();
      for (const s of st?.sessions ?? []) this.inc({ session: s.name }, s.stateChanges);
    },
  });
  new Counter({
    name: 'xlb_bfd_packets_total',
    help: 'BFD control packets, by session and direction (in: accepted for the session, out: sent).',
    labelNames: ['session', 'direction'],
    registers: [registry],
    async collect() {
      const st = await bfd();
      this.reset();
      for (const s of st?.sessions ?? []) {
        this.inc({ session: s.name, direction: 'in' }, s.packetsIn);
        this.inc({ session: s.name, direction: 'out' }, s.packetsOut);
      }
    },
  });
  new Counter({
    name: 'xlb_bfd_echo_packets_total',
    help: "xlb's own BFD echo packets, by session and direction (out: sent by the echo thread, back: come back and timestamped by XDP).",
    labelNames: ['session', 'direction'],
    registers: [registry],
    async collect() {
      const st = await bfd();
      this.reset();
      for (const s of st?.sessions ?? []) {
        if (s.echoState === 'off') continue;
        this.inc({ session: s.name, direction: 'out' }, s.echoSent);
        this.inc({ session: s.name, direction: 'back' }, s.echoReturned);
      }
    },
  });
  new Counter({
    name: 'xlb_bfd_echo_failures_total',
    help: "Times xlb's own BFD echo stopped coming back within its detection time (each took the session Down, diag echo function failed).",
    labelNames: ['session'],
    registers: [registry],
    async collect() {
      const st = await bfd();
      this.reset();
      for (const s of st?.sessions ?? []) if (s.echoState !== 'off') this.inc({ session: s.name }, s.echoFailures);
    },
  });
  new Counter({
    name: 'xlb_bfd_drops_total',
    help: 'BFD control packets dropped by reception checks (RFC 5880 §6.8.6, in its order), by reason, whether a session was found or not.',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const st = await bfd();
      this.reset();
      for (const [reason, n] of Object.entries(st?.drops ?? {})) this.inc({ reason }, n ?? 0);
    },
  });

  const checkSeconds = new Histogram({
    name: 'xlb_health_check_duration_seconds',
    help: 'Time one health-check attempt took, by checker type.',
    labelNames: ['type'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const checks = new Counter({
    name: 'xlb_health_checks_total',
    help: 'Health-check attempts, by checker type and result (ok, or why it failed: timeout, refused, status, tls, ...).',
    labelNames: ['type', 'result'],
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'xlb_backend_transitions_total',
    help: 'Backends going up or down by their health checks.',
    labelNames: ['service', 'backend', 'to'],
    registers: [registry],
  });
  const quorumChanges = new Counter({ name: 'xlb_service_quorum_transitions_total', help: 'Services gaining or losing their quorum.', labelNames: ['service', 'to'], registers: [registry] });
  new Gauge({
    name: 'xlb_service_quorum_up',
    help: 'Whether the service has its quorum (1) or not (0: its sorry server, if any, is in use).',
    labelNames: ['vip', 'service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of src.services()) {
        const up = src.quorumUp?.(s.key);
        if (up !== undefined) this.set(vipLabels(s), up ? 1 : 0);
      }
    },
  });
  const health: HealthObserver = {
    attempt(type, r) {
      checkSeconds.observe({ type }, r.durationMs / 1000);
      checks.inc({ type, result: r.ok ? 'ok' : r.reason });
    },
    backend(service, backend, up) {
      transitions.inc({ service, backend, to: up ? 'up' : 'down' });
    },
    quorum(service, up) {
      quorumChanges.inc({ service, to: up ? 'up' : 'down' });
    },
  };

  const reloads = new Counter({ name: 'xlb_reloads_total', help: 'Config reloads, by result (success, failure).', labelNames: ['result'], registers: [registry] });
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);
  const updateFailures = new Counter({ name: 'xlb_dataplane_update_failures_total', help: 'Data-plane map writes that failed.', registers: [registry] });
  new Gauge({ name: 'xlb_build_info', help: 'Build information; always 1.', labelNames: ['version', 'node'], registers: [registry] }).set({ version: XLB_VERSION, node: process.version }, 1);
  const ringWaves = new Counter({
    name: 'xlb_ring_waves_total',
    help: 'Waves of ring flips after the first: a reload or health change that changed more rings than there were free ring slots waits out the grace period of the slots it released, once per extra wave.',
    registers: [registry],
  });
  return { registry, reloads, updateFailures, ringWaves, health };
}
