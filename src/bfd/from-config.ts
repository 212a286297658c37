/**
 * @module bfd/from-config
 * The validated `bfd:` config (src/config/bfd-model.ts) as the runtime's
 * {@link BfdRuntimeSpec}: plain data that crosses to the BFD worker
 * (./host.ts). As src/vrrp/from-config.ts is for VRRP.
 *
 * Two translations are not one-to-one:
 * - `max_hops`: the config keeps keepalived's rule (drop when TTL + max_hops
 *   < `ttl`), the runtime compares with 255; the same rule is
 *   max_hops + (255 - ttl), capped at 255. keepalived's -1 with TTL 255
 *   (drop everything) cannot be said to the runtime and becomes 0 (TTL 255
 *   only).
 * - `auth`: one key, which both signs and is accepted.
 * - `echo.reflect`: XDP reflects (the daemon writes `xlb_bfd_peers`, see
 *   {@link bfdReflectPeers}); the session then advertises `echo.interval` as
 *   its Required Min Echo RX, and 0 otherwise (RFC 5880 §6.8.1: non-zero
 *   only while we reflect).
 * - `echo.enabled`: own echo at `echo.interval` (`echoIntervalUs`), when the
 *   data plane is loaded (XDP timestamps the echoes that come back).
 *
 * Layer: pure mapping. The config does not import it.
 */
import type { BfdConfig, BfdInstanceConfig } from '../config/bfd-model.js';
import { XlbError } from '../errors.js';
import { BFD_MAX_HOPS_MAX } from './spec.js';
import type { BfdRuntimeSessionSpec, BfdRuntimeSpec } from './runtime.js';

/**
 * The runtime's `maxHops` (drop when rx_ttl + maxHops < 255) of keepalived's
 * (drop when rx_ttl + max_hops < ttl).
 * @param maxHops the config's, -1..255
 * @param ttl the session's outgoing TTL, 1..255
 * @returns 0..255
 */
export function runtimeMaxHops(maxHops: number, ttl: number): number {
  if (maxHops >= BFD_MAX_HOPS_MAX) return BFD_MAX_HOPS_MAX;
  return Math.min(BFD_MAX_HOPS_MAX, Math.max(0, maxHops + (BFD_MAX_HOPS_MAX - ttl)));
}

/**
 * One session as the runtime takes it.
 * @param reflecting whether XDP reflects its peer's echo now (the data plane
 *   is loaded and `echo.reflect` is on); the config refuses `echo` without
 *   interfaces, so false only when the caller has no data plane
 * @param ownEcho whether own echo can run (the data plane is loaded)
 * @throws XlbError XLB_ERR_INTERNAL when the secret of a `secret_file` was not read (loadConfigFile reads it)
 */
export function bfdSessionSpec(i: BfdInstanceConfig, reflecting = i.echo.reflect, ownEcho = true): BfdRuntimeSessionSpec {
  const out: { -readonly [K in keyof BfdRuntimeSessionSpec]: BfdRuntimeSessionSpec[K] } = {
    name: i.name,
    peer: i.neighborIp,
    multihop: i.multihop,
    desiredMinTxUs: i.minTxUs,
    requiredMinRxUs: i.minRxUs,
    idleTxUs: i.idleTxUs,
    detectMult: i.multiplier,
    passive: i.passive,
    maxHops: runtimeMaxHops(i.maxHops, i.ttl),
    ttl: i.ttl,
    requiredMinEchoRxUs: reflecting && i.echo.reflect ? i.echo.intervalUs : 0,
  };
  if (ownEcho && i.echo.enabled) out.echoIntervalUs = i.echo.intervalUs;
  if (i.sourceIp !== undefined) out.local = i.sourceIp;
  if (i.auth) {
    if (i.auth.secret === undefined) throw new XlbError('XLB_ERR_INTERNAL', `bfd ${i.name}: the secret of ${i.auth.secretFile ?? 'auth'} was not read`);
    out.auth = { type: i.auth.typeNumber, keys: [{ id: i.auth.keyId, secret: i.auth.secret }], txKeyId: i.auth.keyId };
  }
  return out;
}

/**
 * The runtime's spec of a validated `bfd:` section.
 * @param dataplane whether the XDP data plane is loaded (reflection and own echo need it)
 */
export function bfdSpec(cfg: BfdConfig, dataplane = true): BfdRuntimeSpec {
  return { sessions: cfg.instances.map((i) => bfdSessionSpec(i, dataplane && i.echo.reflect, dataplane)) };
}

/**
 * The peers XDP reflects echo for (`xlb_bfd_peers` with reflect on): the
 * `neighbor_ip` of each session with `echo.reflect`, once each.
 */
export function bfdReflectPeers(cfg: BfdConfig | undefined): string[] {
  return [...new Set((cfg?.instances ?? []).filter((i) => i.echo.reflect).map((i) => i.neighborIp))];
}
