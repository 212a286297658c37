/**
 * @module health/probes
 * One entry point for the health runner: {@link createProbe} builds the probe
 * of a check from its validated {@link CheckSpec} and resolved target.
 *
 * Layer: control plane; dispatch only (the I/O is in the per-type modules).
 */
import type { CheckSpec } from '../spec.js';
import { createBfdProbe, type BfdSessionSource } from './bfd.js';
import { createDnsProbe } from './dns.js';
import { createFileProbe } from './file.js';
import { createHttpProbe } from './http.js';
import { createIcmpProbe, type IcmpProbeOptions } from './icmp.js';
import { createMiscProbe } from './misc.js';
import { createSmtpProbe } from './smtp.js';
import { createTcpProbe } from './tcp.js';
import { createUdpProbe } from './udp.js';
import type { Probe, ProbeOptions, ProbeTarget } from './types.js';

export {
  PROBE_FAIL_REASONS,
  type Probe,
  type ProbeFail,
  type ProbeFailReason,
  type ProbeOk,
  type ProbeOptions,
  type ProbeResult,
  type ProbeTarget,
  type SocketFactory,
} from './types.js';
export { md5Hex } from './http.js';
export { type BfdSessionSource } from './bfd.js';

/** Options of {@link createProbe}: the socket factory of TCP/UDP probes, and the icmp probe's own. */
export interface CreateProbeOptions extends ProbeOptions {
  /** Passed to createIcmpProbe (socket mode, addon class for tests). */
  icmp?: IcmpProbeOptions;
  /** Where `type: bfd` checks read their session's state (the daemon); absent: they fail every attempt. */
  bfd?: BfdSessionSource;
}

/**
 * Build the probe of one check. Network checks go to `target` (the caller has
 * resolved connectAddress/connectPort and, later, `target: vip`); misc and
 * file checks ignore it.
 * @param spec the validated check
 * @param target where network checks are sent
 * @param options socket factory for tcp/http/https/udp/dns/smtp
 *   (bindInterface/fwmark need a native one); icmp options
 * @returns the probe; run it once per attempt, close it when the check goes away
 * @throws XlbError `XLB_ERR_CONFIG_INVALID` for spec values the config loader
 *   should have rejected (a regex that does not compile, an empty command, an
 *   unencodable DNS name)
 */
export function createProbe(spec: CheckSpec, target: ProbeTarget, options: CreateProbeOptions = {}): Probe {
  switch (spec.type) {
    case 'tcp':
      return createTcpProbe(spec, target, options);
    case 'http':
    case 'https':
      return createHttpProbe(spec, target, options);
    case 'udp':
      return createUdpProbe(spec, target, options);
    case 'icmp':
      return createIcmpProbe(spec, target, options.icmp);
    case 'dns':
      return createDnsProbe(spec, target, options);
    case 'smtp':
      return createSmtpProbe(spec, target, options);
    case 'misc':
      return createMiscProbe(spec);
    case 'file':
      return createFileProbe(spec);
    case 'bfd':
      return createBfdProbe(spec, options.bfd);
  }
}
