/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.h - the load-time knobs and every map of the XDP and tc programs.
 *
 * Knobs are const volatile globals the loader writes before load (the
 * verifier sees constants); map max_entries are defaults that the loader
 * sizes from the config (XdpDataplane.load() in src/dataplane/xdp/).
 * Layouts and names come from xlb_abi.h. Unlike the other pieces this one
 * defines objects: it belongs to the one translation unit of xlb.bpf.c.
 * The order of the definitions is the order of the maps in the object.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../xlb_abi.h"

/* Load-time knobs (written by the loader before load; the verifier sees constants). */
const volatile __u32 xlb_abi_version = XLB_ABI_VERSION;
const volatile __u32 ring_size = 65537; /* Maglev ring size M, prime */
/* Next-hop cache lifetime in jiffies (25 = 25 ms at HZ=1000, 100 ms at HZ=250);
 * 0 = a route lookup per packet. */
const volatile __u64 nh_cache_jiffies = 25;
/* New flows recorded per second per CPU before the connection table is
 * left alone (a SYN flood must not flush it); 0 = no limit. Flows above it
 * still go where the Maglev ring says. As Katran's MAX_CONN_RATE. */
const volatile __u32 conn_rate_limit = 125000;
/* log2 of the xlb_flow_cache entries of each CPU (the loader sizes the map
 * to match); 0 = no flow cache. */
const volatile __u32 flow_cache_bits = 10;
/* Bumped by the control plane (through the mmap'ed .bss) after every write
 * that the record check or a cached next hop depends on: a flow cache entry
 * whose epoch is not this one has its record checked again. Changes to
 * xlb_bfd_peers bump it too, for xlb_bfd_peer_cache. The only .bss
 * variable: the loader maps .bss as one u32. */
volatile __u32 fc_epoch;

/* Maps: max_entries here are defaults; the loader sizes them from the config. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip_ref);
	__uint(max_entries, 512);
} XLB_MAP_VIPS SEC(".maps");

/* VIPs by id: what a connection-table hit needs, without a lookup by address. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_vip_val);
	__uint(max_entries, 512);
} XLB_MAP_VIP_TABLE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_FILTER_WORDS * XLB_FILTER_PLANES);
} XLB_MAP_ADDR_FILTER SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_addr_key);
	__type(value, struct xlb_addr_val);
	__uint(max_entries, 512);
} XLB_MAP_VIP_ADDRS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_backend_val);
	__uint(max_entries, 4096);
} XLB_MAP_BACKENDS SEC(".maps");

/* Ring slots of ring_size entries each, in chunks; a VIP's xlb_vip_val.ring picks one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_ring_chunk);
	__uint(max_entries, 2 * ((65537 + XLB_RING_CHUNK - 1) / XLB_RING_CHUNK));
	__uint(map_flags, BPF_F_MMAPABLE);
} XLB_MAP_RINGS SEC(".maps");

/* Connection tables: IPv4 flows under a compact key, IPv6 under the full one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow4);
	__type(value, struct xlb_conn_val);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_CONNS4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_flow);
	__type(value, struct xlb_conn_val);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_CONNS6 SEC(".maps");

/* Copies of connection-table records (struct xlb_fc_entry), direct-mapped,
 * 2^flow_cache_bits entries per CPU: CPU n owns entries n << flow_cache_bits
 * onwards. A plain array, not a per-CPU one: one memory access less per
 * lookup (no per-element pointer), and mmapable so that every entry starts
 * a cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_fc_entry);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_MMAPABLE);
} XLB_MAP_FLOW_CACHE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlb_nat_key);
	__type(value, struct xlb_nat_val);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} XLB_MAP_NAT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_globals);
	__uint(max_entries, 1);
} XLB_MAP_GLOBALS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_cpu_state);
	__uint(max_entries, 1);
} XLB_MAP_CPU SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_EV_SLOTS);
} XLB_MAP_STATS_EVENT SEC(".maps");

/* Per-CPU next hop per backend id (sized as xlb_backends). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_nh);
	__uint(max_entries, 4096);
} XLB_MAP_NH_CACHE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_stats);
	__uint(max_entries, 512);
} XLB_MAP_STATS_VIP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_stats);
	__uint(max_entries, 4096);
} XLB_MAP_STATS_BACKEND SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_reason_stats);
	__uint(max_entries, XLB_R_SLOTS);
} XLB_MAP_STATS_REASON SEC(".maps");

/* Health checks through the data path: probe socket mark -> backend. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct xlb_hc_val);
	__uint(max_entries, 4096);
} XLB_MAP_HC_TARGETS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLB_HC_MAX);
} XLB_MAP_STATS_HC SEC(".maps");

/* BFD peers whose echo is reflected (bpf/lib/bfd.h), by address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlb_addr_key);
	__type(value, struct xlb_bfd_peer_val);
	__uint(max_entries, 256);
} XLB_MAP_BFD_PEERS SEC(".maps");

/* The last peer looked up, per CPU (bpf/lib/bfd.h bfd_peer_flags()). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_bfd_peer_cache);
	__uint(max_entries, 1);
} XLB_MAP_BFD_PEER_CACHE SEC(".maps");

/* Own-echo sessions by slot: the runtime polls the mmap'ed array for echoes
 * come back, no syscall and no wakeup per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlb_bfd_echo_slot);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_MMAPABLE);
} XLB_MAP_BFD_ECHO SEC(".maps");

/* BTF keeps enums, and structs no map holds, only when something refers to
 * them: anchor them. */
struct xlb_abi_enums {
	enum xlb_family family;
	enum xlb_mode mode;
	enum xlb_vip_flags vip_flags;
	enum xlb_backend_flags backend_flags;
	enum xlb_global_flags global_flags;
	enum xlb_reason reason;
	enum xlb_ring_consts ring_consts;
	enum xlb_event event;
	enum xlb_filter_consts filter_consts;
	enum xlb_hc_result hc_result;
	enum xlb_bfd_consts bfd_consts;
	enum xlb_bfd_peer_flags bfd_peer_flags;
};
const volatile struct xlb_abi_enums xlb_abi_enums_anchor = {};
const volatile struct xlb_bfd_echo_pkt xlb_abi_bfd_echo_anchor = {};

static __always_inline struct xlb_globals *globals_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&XLB_MAP_GLOBALS, &zero);
}

#endif /* XLB_MAPS_H */
