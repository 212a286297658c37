/**
 * @module vrrp/from-config
 * The validated `vrrp:` config (src/config/vrrp-model.ts) as the runner's
 * {@link VrrpSpec}: plain data that crosses to the VRRP worker. Sync groups'
 * trackers are appended to each member's (keepalived: group trackers apply
 * to all members); a script referenced without a weight of its own takes the
 * script's weight.
 *
 * Layer: pure mapping. The config does not import it (the config reads the
 * protocol's defaults from ./spec.ts, never from the runner or the FSM).
 */
import type { VrrpConfig, VrrpInstanceConfig, VrrpNotifyConfig, VrrpVipConfig } from '../config/vrrp-model.js';
import type { VrrpInstanceSpec, VrrpNotifySpec, VrrpScriptSpec, VrrpSpec, VrrpTrackRef, VrrpVip } from './runner.js';

function vip(v: VrrpVipConfig): VrrpVip {
  const out: VrrpVip = { address: v.address, prefixLength: v.prefix, dev: v.dev };
  if (v.label !== undefined) out.label = v.label;
  return out;
}

function notify(n: VrrpNotifyConfig): VrrpNotifySpec {
  const out: VrrpNotifySpec = {};
  if (n.master) out.master = n.master;
  if (n.backup) out.backup = n.backup;
  if (n.fault) out.fault = n.fault;
  if (n.stop) out.stop = n.stop;
  if (n.masterRxLowerPri) out.masterRxLowerPri = n.masterRxLowerPri;
  if (n.any) out.generic = n.any;
  return out;
}

function instance(i: VrrpInstanceConfig, cfg: VrrpConfig): VrrpInstanceSpec {
  const group = cfg.syncGroups.find((g) => g.group.includes(i.name));
  const ref = (r: { name: string; weight: number; reverse: boolean }): VrrpTrackRef => ({ name: r.name, weight: r.weight, reverse: r.reverse });
  const out: VrrpInstanceSpec = {
    name: i.name,
    family: i.family,
    interface: i.interface ?? '',
    fsm: {
      vrid: i.vrid,
      version: i.version,
      priority: i.priority,
      advertIntMs: i.advertIntMs,
      preempt: i.preempt,
      preemptDelayMs: i.preemptDelayMs,
      downTimerAdverts: i.downTimerAdverts,
      lowerPrioNoAdvert: i.lowerPrioNoAdvert,
      higherPrioSendAdvert: i.higherPrioSendAdvert,
      ownerIgnoreAdverts: i.ownerIgnoreAdverts,
      initialState: i.state,
      notifyPriorityChanges: i.notifyPriorityChanges,
      garp: { ...i.garp },
    },
    vips: i.virtualIpaddress.map(vip),
    excluded: i.virtualIpaddressExcluded.map(vip),
    unicastPeers: i.unicastPeers.map((p) => ({ address: p.address, minTtl: p.minTtl, maxTtl: p.maxTtl })),
    checkUnicastSrc: i.checkUnicastSrc,
    checksum: i.v3ChecksumAsV2 ? 'vrrp-only' : 'pseudo-header',
    trackInterfaces: [...i.trackInterfaces, ...(group?.trackInterfaces ?? [])].map(ref),
    trackScripts: [...i.trackScripts, ...(group?.trackScripts ?? [])].map(ref),
    trackFiles: [...i.trackFiles, ...(group?.trackFiles ?? [])].map(ref),
    trackBfd: [...i.trackBfd, ...(group?.trackBfd ?? [])].map(ref),
    dontTrackPrimary: i.dontTrackPrimary,
    notify: notify(i.notify),
  };
  if (i.unicastSrcIp !== undefined) out.unicastSrc = i.unicastSrcIp;
  if (i.authentication) out.authPass = i.authentication.pass;
  if (group) out.syncGroup = group.name;
  if (i.bfdPeer !== undefined) out.bfdPeer = i.bfdPeer;
  // RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID} (IPv6)
  if (i.vmac) out.vmac = { name: i.vmac.name, mac: `00:00:5e:00:0${i.family === 6 ? 2 : 1}:${i.vrid.toString(16).padStart(2, '0')}` };
  return out;
}

/** The runner's spec of a validated `vrrp:` section. */
export function vrrpSpec(cfg: VrrpConfig): VrrpSpec {
  const out: VrrpSpec = {
    instances: cfg.instances.map((i) => instance(i, cfg)),
    groups: cfg.syncGroups.map((g) => ({ name: g.name, members: [...g.group], notify: notify(g.notify) })),
    scripts: cfg.scripts.map((s) => {
      const out: VrrpScriptSpec = { name: s.name, argv: s.script, intervalMs: s.intervalMs, timeoutMs: s.timeoutMs, rise: s.rise, fall: s.fall, initFail: s.initFail };
      if (s.path !== undefined) out.path = s.path;
      if (s.runAs) out.runAs = s.runAs;
      return out;
    }),
    files: cfg.trackFiles.map((f) => (f.initFile ? { name: f.name, path: f.file, init: { ...f.initFile } } : { name: f.name, path: f.file })),
  };
  out.garpIntervalMs = cfg.defaults.garpIntervalMs;
  out.gnaIntervalMs = cfg.defaults.gnaIntervalMs;
  out.rtPriority = cfg.defaults.rtPriority;
  if (cfg.notifyFifo !== undefined) out.notifyFifo = cfg.notifyFifo;
  return out;
}
