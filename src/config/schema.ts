/**
 * @module config/schema
 * The JSON Schema (draft 2020-12) of the xlb YAML config, for editors
 * (yaml-language-server: `# yaml-language-server: $schema=…/xlb.schema.json`)
 * and other tools. schema/xlb.schema.json is written from {@link SCHEMA} by
 * src/tools/gen-schema.ts, and a unit test fails when the two drift apart or
 * when the schema's keys differ from the loader's (load.ts CONFIG_KEYS).
 *
 * The loader, not this schema, is the authority: it also checks what a
 * schema cannot say well (uniqueness of services, backends and interface
 * names, address families, primality of ring_size, total counts against the
 * limits) and gives precise messages.
 *
 * Layer: control plane, pure data. No I/O.
 */
import { DURATION_PATTERN } from './duration.js';
import {
  DEFAULT_INSTANCE,
  DEFAULT_LIMITS,
  DEFAULT_LOG_FORMAT,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_LISTEN,
  DEFAULT_NEXT_HOP_CACHE,
  DEFAULT_PROTOCOL,
  DEFAULT_WEIGHT,
  DEFAULT_XDP_MODE,
  IFNAME_PATTERN,
  INSTANCE_PATTERN,
  LIMIT_RANGES,
  LOG_FORMATS,
  LOG_LEVELS,
  PORT_RANGE,
  PROTOCOLS,
  SERVICE_MODES,
  WEIGHT_RANGE,
  XDP_MODES,
} from './model.js';

/** An integer property with a range. */
function int(description: string, r: { min: number; max: number }, dflt?: number): Record<string, unknown> {
  const s: Record<string, unknown> = { description, type: 'integer', minimum: r.min, maximum: r.max };
  if (dflt !== undefined) s.default = dflt;
  return s;
}

/** The schema, as a value; see the module comment. */
export const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'xlb configuration',
  description:
    'Configuration of one xlb instance: an XDP/eBPF L4 load balancer. Keys are snake_case; durations are strings with a unit (150ms, 2s).',
  type: 'object',
  additionalProperties: false,
  required: ['interfaces', 'services'],
  properties: {
    instance: {
      description:
        'Instance name. Names the BPF pin directory /sys/fs/bpf/xlb/<instance>/ and the control socket /run/xlb/<instance>.sock, so several instances can run on one machine.',
      type: 'string',
      pattern: INSTANCE_PATTERN.source,
      default: DEFAULT_INSTANCE,
    },
    interfaces: {
      description: 'Interfaces the XDP program is attached to: where client packets arrive. At least one; names unique.',
      type: 'array',
      minItems: 1,
      items: { $ref: '#/$defs/interface' },
    },
    metrics: {
      description: 'The Prometheus /metrics endpoint.',
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: {
          description: 'Listen address, host:port or [v6]:port; host is an IP address or a host name. Loopback by default so metrics are not exposed by accident.',
          type: 'string',
          pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5}$',
          default: DEFAULT_METRICS_LISTEN,
        },
      },
    },
    log: {
      description: 'Logging.',
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { description: 'Least severe level written.', enum: [...LOG_LEVELS], default: DEFAULT_LOG_LEVEL },
        format: {
          description: 'json: one JSON object per line (for log shippers); pretty: human-readable lines.',
          enum: [...LOG_FORMATS],
          default: DEFAULT_LOG_FORMAT,
        },
      },
    },
    limits: {
      description: 'Map sizes and data-path knobs. Fixed when the BPF object is loaded: changing one needs `xlb load`, not `xlb reload`.',
      type: 'object',
      additionalProperties: false,
      properties: {
        max_vips: int('Most services (VIPs).', LIMIT_RANGES.maxVips, DEFAULT_LIMITS.maxVips),
        max_backends: int(
          'Size of the backend table. Backend ids are 1..max_backends-1 (0 is reserved), so all services together hold at most max_backends-1 backends.',
          LIMIT_RANGES.maxBackends,
          DEFAULT_LIMITS.maxBackends,
        ),
        max_conns: int('IPv4 connection-table entries (LRU).', LIMIT_RANGES.maxConns, DEFAULT_LIMITS.maxConns),
        max_conns6: int('IPv6 connection-table entries (LRU). Default: max_conns.', LIMIT_RANGES.maxConns6),
        max_nat: int('NAT reverse entries (LRU), one per nat flow. Default: max_conns.', LIMIT_RANGES.maxNat),
        ring_size: int(
          'Maglev ring size M, entries per service. Must be prime; larger rings balance better (M > 100 x backends per service) and cost 4 bytes per entry per service.',
          LIMIT_RANGES.ringSize,
          DEFAULT_LIMITS.ringSize,
        ),
        conn_rate_limit: int(
          'New flows recorded in the connection table per second per CPU; beyond it flows follow the ring unrecorded, so a SYN flood cannot flush the table (nat flows are always recorded). 0 = unlimited.',
          LIMIT_RANGES.connRateLimit,
          DEFAULT_LIMITS.connRateLimit,
        ),
        next_hop_cache: {
          description: 'How long a backend\'s route and neighbour stay cached per CPU, 0s..10s; 0s = a FIB lookup per packet.',
          type: 'string',
          pattern: DURATION_PATTERN,
          default: DEFAULT_NEXT_HOP_CACHE,
        },
      },
    },
    tunnel: {
      description: 'Outer headers of tunnel-mode services (IPIP for IPv4, IP6IP6 for IPv6).',
      type: 'object',
      additionalProperties: false,
      properties: {
        source4: {
          description: "IPv4 outer source address for IPv4 tunnel services. Default: the kernel's choice (the egress interface's address).",
          type: 'string',
          format: 'ipv4',
        },
        source6: {
          description: "IPv6 outer source address for IPv6 tunnel services. Default: the kernel's choice.",
          type: 'string',
          format: 'ipv6',
        },
        source_entropy: {
          description: 'Put the flow hash in the low bits of the outer source address, so backends spread tunnelled flows over their receive queues (RSS).',
          type: 'boolean',
          default: false,
        },
      },
    },
    services: {
      description: 'Virtual services (VIPs). May be empty. (address, port, protocol) and names are unique.',
      type: 'array',
      items: { $ref: '#/$defs/service' },
    },
  },
  $defs: {
    ifname: {
      description: 'A Linux interface name: 1..15 characters, no "/", ":" or whitespace.',
      type: 'string',
      pattern: IFNAME_PATTERN.source,
    },
    address: {
      description: 'An IPv4 or IPv6 address.',
      type: 'string',
      anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }],
    },
    interface: {
      description: 'An interface the XDP program is attached to.',
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { $ref: '#/$defs/ifname', description: 'Interface name.' },
        xdp_mode: {
          description: 'native: in the driver (fastest); generic: after the kernel built the skb (any driver, slow); auto: native, falling back to generic.',
          enum: [...XDP_MODES],
          default: DEFAULT_XDP_MODE,
        },
      },
    },
    service: {
      description: 'A virtual service: clients connect to address:port; xlb picks a backend by Maglev hashing and forwards by mode.',
      type: 'object',
      additionalProperties: false,
      required: ['address', 'port', 'mode', 'backends'],
      properties: {
        name: {
          description: 'Unique name, used in logs and metrics labels. Default: <address>:<port|all>/<protocol>, an IPv6 address in brackets.',
          type: 'string',
          minLength: 1,
          maxLength: 128,
        },
        address: { $ref: '#/$defs/address', description: 'The virtual IP address (VIP), IPv4 or IPv6.' },
        port: {
          description: 'The VIP port, or "all" for an all-ports service (an exact port on the same address and protocol wins over "all").',
          oneOf: [int('A port.', PORT_RANGE), { const: 'all' }],
        },
        protocol: { description: 'Transport protocol.', enum: [...PROTOCOLS], default: DEFAULT_PROTOCOL },
        mode: {
          description:
            'dr: direct return, only the destination MAC is rewritten (backends on-link, holding the VIP); tunnel: IPIP/IP6IP6 encapsulation to the backend (which holds the VIP); nat: destination address and port rewritten, replies return through xlb.',
          enum: [...SERVICE_MODES],
        },
        persistence: {
          description: 'Hash the client source address only, so a client reaches the same backend on every connection (like IPVS sh).',
          type: 'boolean',
          default: false,
        },
        backends: {
          description: 'The backends (real servers). May be empty (the service then drops its traffic). (address, port) unique within the service.',
          type: 'array',
          items: { $ref: '#/$defs/backend' },
        },
      },
      allOf: [
        {
          description: 'nat needs a port to map: "all" is not supported; dr and tunnel backends take no port.',
          if: { required: ['mode'], properties: { mode: { const: 'nat' } } },
          then: { properties: { port: { type: 'integer' } } },
          else: { properties: { backends: { items: { not: { required: ['port'] } } } } },
        },
        {
          description: 'interface is for dr backends only.',
          if: { required: ['mode'], properties: { mode: { enum: ['tunnel', 'nat'] } } },
          then: { properties: { backends: { items: { not: { required: ['interface'] } } } } },
        },
      ],
    },
    backend: {
      description: 'A backend of a service. Same address family as the service.',
      type: 'object',
      additionalProperties: false,
      required: ['address'],
      properties: {
        address: { $ref: '#/$defs/address', description: 'Backend address; same family as the service address.' },
        port: int("nat only: the backend port the VIP's port is mapped to. Default: the VIP's port. dr and tunnel backends receive the VIP's port.", PORT_RANGE),
        weight: int(
          'Maglev weight: the backend\'s share of new flows relative to the others. 0 drains it (its existing flows stay, it gets no new ones).',
          WEIGHT_RANGE,
          DEFAULT_WEIGHT,
        ),
        interface: {
          $ref: '#/$defs/ifname',
          description: 'dr only, informative: the interface the backend is reached on.',
        },
      },
    },
  },
} as const;

/**
 * The committed text of schema/xlb.schema.json: {@link SCHEMA}, two-space
 * indented, with a final newline.
 */
export function renderSchema(): string {
  return `${JSON.stringify(SCHEMA, null, 2)}\n`;
}
