/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlb_abi.h - every struct and constant that crosses the kernel boundary.
 *
 * The single source of truth for the layouts shared by the XDP program
 * (bpf/xlb.bpf.c), the addon and the TypeScript control plane. The TS side
 * (src/dataplane/xdp/abi.gen.ts) is generated from the BTF of the compiled
 * object by `make abi`, and test/unit/abi.test.ts fails when the two drift.
 *
 * Rules: fixed-width types only; network-order fields are __be16/__be32;
 * explicit padding, no packed; a struct whose layout changes bumps
 * XLB_ABI_VERSION and the map it lives in gets a new _vN name.
 */
#ifndef XLB_ABI_H
#define XLB_ABI_H

#include <linux/types.h>

#ifdef __cplusplus
#define XLB_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define XLB_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Bumped on any layout change; mirrored in the object's .rodata (xlb_abi_version). */
#define XLB_ABI_VERSION 1

/* Map names (pins live at /sys/fs/bpf/xlb/<instance>/<map>). */
#define XLB_MAP_VIPS xlb_vips
#define XLB_MAP_VIP_TABLE xlb_vip_table
#define XLB_MAP_ADDR_FILTER xlb_addr_filter
#define XLB_MAP_VIP_ADDRS xlb_vip_addrs
#define XLB_MAP_BACKENDS xlb_backends
#define XLB_MAP_RINGS xlb_rings
#define XLB_MAP_CONNS4 xlb_conns4
#define XLB_MAP_CONNS6 xlb_conns6
#define XLB_MAP_NAT xlb_nat
#define XLB_MAP_GLOBALS xlb_globals
#define XLB_MAP_NH_CACHE xlb_nh_cache
#define XLB_MAP_CPU xlb_cpu
#define XLB_MAP_STATS_EVENT xlb_stats_event_v2
#define XLB_MAP_STATS_VIP xlb_stats_vip
#define XLB_MAP_STATS_BACKEND xlb_stats_backend
#define XLB_MAP_STATS_REASON xlb_stats_reason_v2
#define XLB_MAP_HC_TARGETS xlb_hc_targets
#define XLB_MAP_STATS_HC xlb_stats_hc
#define XLB_MAP_FLOW_CACHE xlb_flow_cache
#define XLB_MAP_BFD_PEERS xlb_bfd_peers
#define XLB_MAP_BFD_ECHO xlb_bfd_echo
#define XLB_MAP_BFD_PEER_CACHE xlb_bfd_peer_cache

/* Address families as stored in keys (values of AF_INET / AF_INET6). */
enum xlb_family {
	XLB_AF_INET = 2,
	XLB_AF_INET6 = 10,
};

/* Forwarding mode of a virtual service. */
enum xlb_mode {
	XLB_MODE_DR = 0,     /* L2 direct routing: destination MAC rewrite */
	XLB_MODE_TUNNEL = 1, /* IPIP (IPv4) / IP6IP6 (IPv6) encapsulation to the backend */
	XLB_MODE_NAT = 2,    /* destination rewrite, replies rewritten back through xlb_nat */
};

/* Ring layout: xlb_rings holds chunks of XLB_RING_CHUNK backend ids, because
 * an array map's elements are 8-byte aligned (a bare __u32 value would waste
 * half the memory, also in the mmap'ed view). A ring of M entries takes
 * ceil(M / XLB_RING_CHUNK) chunks; ring slot s starts at chunk s * that. */
enum xlb_ring_consts {
	XLB_RING_CHUNK = 16,
};

/* Things the data path counts besides the one reason per packet
 * (xlb_stats_event_v2, which has XLB_EV_SLOTS slots: new events fit without
 * changing the pinned map). */
enum xlb_event {
	XLB_EV_CONN_NEW = 0,	     /* flows recorded in the connection table */
	XLB_EV_CONN_FLOOD_SKIP = 1,  /* new flows not recorded: above conn_rate_limit on this CPU */
	XLB_EV_CONN_INSERT_FAIL = 2, /* connection-table insert failed */
	XLB_EV_NH_REFRESH = 3,	     /* next-hop cache refreshed from the kernel FIB */
	XLB_EV_NAT_INSERT_FAIL = 4,  /* NAT reverse entry insert failed */
	XLB_EV_FC_FILL = 5,	     /* flow cache entries (re)filled from the connection table */
	XLB_EV_MAX = 6,
	XLB_EV_SLOTS = 16,
};

/*
 * What xlb_hc_egress (the tc program that steers health checks through the
 * data path) did with a marked packet; xlb_stats_hc is indexed by it.
 */
enum xlb_hc_result {
	XLB_HC_STEERED = 0,   /* sent to the backend (encapsulated / to its MAC) */
	XLB_HC_NEIGH = 1,     /* sent through the kernel's neighbour resolution first */
	XLB_HC_NO_ROUTE = 2,  /* dropped: no route to the backend (or dr: not on-link) */
	XLB_HC_TOO_BIG = 3,   /* dropped: the encapsulated packet exceeds the path MTU */
	XLB_HC_BAD = 4,	      /* dropped: not IP of the target's family, or the room could not be made */
	XLB_HC_MAX = 5,
};

/*
 * The address filter (xlb_addr_filter): a 4096-bit set per plane, one bit per
 * address hash (see addr_filter_bit() in bpf/lib/vip.h and its TS twin). A
 * clear bit means "certainly not", so traffic that is not for xlb leaves after
 * one array read instead of hash-table lookups.
 */
enum xlb_filter_consts {
	XLB_FILTER_WORDS = 64,	 /* __u64 words per plane */
	XLB_FILTER_VIP = 0,	 /* plane 0: VIP addresses (destination) */
	XLB_FILTER_NAT_SRC = 1,	 /* plane 1: nat backends' addresses (source of replies) */
	XLB_FILTER_PLANES = 2,
};

/* Per-VIP flags (xlb_vip_val.flags). */
enum xlb_vip_flags {
	XLB_VIP_F_PERSIST = 1 << 0, /* hash the source address only ("sh"-like persistence) */
	XLB_VIP_F_ACTIVE = 1 << 1,  /* the slot holds a VIP (xlb_vip_table) */
};

/* Per-backend flags (xlb_backend_val.flags). */
enum xlb_backend_flags {
	XLB_BE_F_UP = 1 << 0, /* in service: existing flows keep it; cleared = removed or down */
};

/* Global flags (xlb_globals.flags). */
enum xlb_global_flags {
	XLB_G_TUN_SRC_ENTROPY = 1 << 0, /* mix the flow hash into the outer source's low bits */
};

/*
 * Why a packet left the program: every packet lands in exactly one of these
 * (xlb_stats_reason_v2 is indexed by it; it has XLB_R_SLOTS slots, so that a
 * new reason fits the map a running version pinned). Values are fixed and
 * never renumbered; a retired value becomes XLB_R_UNUSED_<n>.
 */
enum xlb_reason {
	XLB_R_NONE = 0,		     /* never counted: a bug if nonzero */
	XLB_R_PASS_NOT_IP = 1,	     /* ARP, LLDP, anything not IPv4/IPv6 */
	XLB_R_PASS_NO_VIP = 2,	     /* IP packet not for a virtual service */
	XLB_R_PASS_FRAGMENT = 3,     /* IPv4 fragment or IPv6 fragment header */
	XLB_R_PASS_NO_NEIGH = 4,     /* rewritten, next hop has no neighbour entry yet */
	XLB_R_PASS_FIB = 5,	     /* rewritten, route lookup failed (no route, blackhole...) */
	XLB_R_PASS_ICMP = 6,	     /* ICMP to a VIP that xlb does not handle (passed) */
	XLB_R_PASS_L4 = 7,	     /* VIP address, protocol other than TCP/UDP/ICMP */
	XLB_R_TX_ICMP_ECHO = 8,	     /* echo request to a VIP answered in XDP */
	XLB_R_FWD_DR = 9,	     /* forwarded, dr mode */
	XLB_R_FWD_TUNNEL = 10,	     /* forwarded, tunnel mode */
	XLB_R_FWD_NAT = 11,	     /* forwarded, nat mode (client -> backend) */
	XLB_R_FWD_NAT_REPLY = 12,    /* forwarded, nat reply (backend -> client) */
	XLB_R_FWD_ICMP_PTB = 13,     /* frag-needed / packet-too-big sent to the flow's backend */
	XLB_R_DROP_TRUNC_ETH = 14,   /* shorter than an Ethernet (+VLAN) header */
	XLB_R_DROP_TRUNC_IP = 15,    /* IP header cut short */
	XLB_R_DROP_BAD_IP = 16,	     /* bad version, IHL < 5, lengths beyond the frame */
	XLB_R_DROP_TRUNC_L4 = 17,    /* TCP/UDP/ICMP header cut short */
	XLB_R_DROP_NO_BACKEND = 18,  /* VIP with an empty ring */
	XLB_R_DROP_TOO_BIG = 19,     /* encapsulated packet would exceed the egress MTU */
	XLB_R_DROP_DR_NO_NEIGH = 20, /* dr mode, backend MAC unknown (packet not rewritten) */
	XLB_R_DROP_DR_FIB = 21,	     /* dr mode, backend not routable */
	XLB_R_DROP_ADJUST = 22,	     /* bpf_xdp_adjust_head failed */
	XLB_R_DROP_BAD_BACKEND = 23, /* ring points at a backend of another family / invalid */
	XLB_R_DROP_IPV6_EXT = 24,    /* IPv6 extension header cut short or overrunning */
	XLB_R_PASS_VLAN_FWD = 25,    /* VLAN-tagged and the next hop is on another device */
	XLB_R_PASS_IPV6_EXT = 26,    /* IPv6 extension chain too long or too deep to walk */
	XLB_R_DROP_BAD_L4 = 27,	     /* UDP length outside 8 .. IP payload */
	XLB_R_PASS_IPV6_ROUTING = 28, /* IPv6 routing header with segments left: not the final destination */
	/* BFD echo (UDP 3785, bpf/lib/bfd.h). A datagram cut short never gets
	 * this far: it is XLB_R_DROP_TRUNC_L4 / _BAD_L4 / _BAD_IP as any other. */
	XLB_R_TX_BFD_ECHO = 29,	      /* a reflect peer's echo, sent back (XDP_TX) */
	XLB_R_PASS_BFD_ECHO = 30,     /* echo port, not from a reflect peer nor our own: the kernel's */
	XLB_R_DROP_BFD_ECHO_TTL = 31, /* a reflect peer's echo with TTL / hop limit not 255: not from on-link */
	XLB_R_DROP_BFD_ECHO_OWN = 32, /* our own echo come back: timestamped in xlb_bfd_echo */
	XLB_R_MAX = 33,
	XLB_R_SLOTS = 64,	     /* slots of xlb_stats_reason_v2: new reasons fit the pinned map */
};

/* Key of xlb_vips: one virtual service. */
struct xlb_vip_key {
	__u8 addr[16]; /* IPv4 in addr[0..3] (rest zero), or IPv6; network order */
	__be16 port;   /* L4 port, network order; 0 = all ports */
	__u8 proto;    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;   /* enum xlb_family */
};
XLB_ABI_ASSERT(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key layout changed");

/* Value of xlb_vips: which slot of xlb_vip_table describes the VIP. */
struct xlb_vip_ref {
	__u32 vip_id; /* index into xlb_vip_table and xlb_stats_vip, < max VIPs (<= 65535) */
};
XLB_ABI_ASSERT(sizeof(struct xlb_vip_ref) == 4, "xlb_vip_ref layout changed");

/*
 * Value of xlb_vip_table (an array indexed by VIP id). Eight bytes, so that
 * a ring flip (a new `ring`, the rest unchanged) is seen whole by readers.
 */
struct xlb_vip_val {
	__u32 ring;   /* ring slot: its chunks start at ring * ceil(ring_size / XLB_RING_CHUNK) */
	__u16 gen;    /* generation of the id: changes when the id is given to another VIP */
	__u8 mode;    /* enum xlb_mode */
	__u8 flags;   /* enum xlb_vip_flags; no XLB_VIP_F_ACTIVE = free slot */
};
XLB_ABI_ASSERT(sizeof(struct xlb_vip_val) == 8, "xlb_vip_val layout changed");

/* Key of xlb_vip_addrs: an address that carries at least one VIP (ICMP echo, PTB). */
struct xlb_addr_key {
	__u8 addr[16]; /* as in xlb_vip_key */
	__u8 family;   /* enum xlb_family */
	__u8 pad[3];
};
XLB_ABI_ASSERT(sizeof(struct xlb_addr_key) == 20, "xlb_addr_key layout changed");

/* Value of xlb_vip_addrs. */
struct xlb_addr_val {
	__u32 vips; /* number of VIPs on this address; informational */
};
XLB_ABI_ASSERT(sizeof(struct xlb_addr_val) == 4, "xlb_addr_val layout changed");

/* Value of xlb_backends (an array indexed by backend id; id 0 is never used). */
struct xlb_backend_val {
	__u8 addr[16]; /* backend address, network order (IPv4 in addr[0..3]) */
	__be16 port;   /* nat mode: destination port; 0 = keep the VIP's port */
	__u8 family;   /* enum xlb_family; 0 = slot unused */
	__u8 flags;    /* enum xlb_backend_flags */
	__u32 vip_id;  /* the VIP this backend belongs to */
};
XLB_ABI_ASSERT(sizeof(struct xlb_backend_val) == 24, "xlb_backend_val layout changed");

/* Value of xlb_rings: XLB_RING_CHUNK consecutive ring entries. */
struct xlb_ring_chunk {
	__u32 ids[XLB_RING_CHUNK]; /* backend ids, 0 = empty ring */
};
XLB_ABI_ASSERT(sizeof(struct xlb_ring_chunk) == 64, "xlb_ring_chunk layout changed");

/* A flow in the client -> VIP direction: the input of the hash, and the key of xlb_conns6. */
struct xlb_flow {
	__u8 src[16];  /* client address */
	__u8 dst[16];  /* VIP address */
	__be16 sport;  /* client port (ICMP: 0) */
	__be16 dport;  /* VIP port */
	__u8 proto;    /* IPPROTO_* */
	__u8 family;   /* enum xlb_family */
	__u8 pad[2];
};
XLB_ABI_ASSERT(sizeof(struct xlb_flow) == 40, "xlb_flow layout changed");

/* Key of xlb_conns4: an IPv4 flow, compact (a smaller key makes inserts cheaper). */
struct xlb_flow4 {
	__be32 src;    /* client address */
	__be32 dst;    /* VIP address */
	__be16 sport;  /* client port */
	__be16 dport;  /* VIP port */
	__u8 proto;    /* IPPROTO_* */
	__u8 pad[3];
};
XLB_ABI_ASSERT(sizeof(struct xlb_flow4) == 16, "xlb_flow4 layout changed");

/*
 * Value of xlb_conns4 / xlb_conns6. A hit is trusted without looking the VIP
 * up by address: its id and generation must still match xlb_vip_table.
 */
struct xlb_conn_val {
	__u32 backend_id; /* chosen backend */
	__u16 vip_id;	  /* VIP of the flow */
	__u16 vip_gen;	  /* xlb_vip_val.gen at the time of the choice */
};
XLB_ABI_ASSERT(sizeof(struct xlb_conn_val) == 8, "xlb_conn_val layout changed");

/* Per-CPU state of the data path (xlb_cpu, one entry). */
struct xlb_cpu_state {
	__u64 window_ns;   /* coarse monotonic ns when the current new-flow window began */
	__u64 new_flows;   /* new flows seen in that window */
};
XLB_ABI_ASSERT(sizeof(struct xlb_cpu_state) == 16, "xlb_cpu_state layout changed");

/* Key of xlb_nat: a backend's reply as it arrives (backend -> client). */
struct xlb_nat_key {
	__u8 backend[16]; /* reply source: backend address */
	__u8 client[16];  /* reply destination: client address */
	__be16 bport;	  /* backend port */
	__be16 cport;	  /* client port */
	__u8 proto;	  /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;	  /* enum xlb_family */
	__u8 pad[2];
};
XLB_ABI_ASSERT(sizeof(struct xlb_nat_key) == 40, "xlb_nat_key layout changed");

/* Value of xlb_nat: what the reply's source is rewritten to. */
struct xlb_nat_val {
	__u8 vip[16];  /* VIP address */
	__be16 vport;  /* VIP port */
	__u8 pad[2];
	__u32 vip_id;  /* for the VIP's counters */
};
XLB_ABI_ASSERT(sizeof(struct xlb_nat_val) == 24, "xlb_nat_val layout changed");

/* The single entry of xlb_globals, written by the control plane at run time. */
struct xlb_globals {
	__u8 tun_src6[16]; /* tunnel mode outer source, IPv6 */
	__be32 tun_src4;   /* tunnel mode outer source, IPv4 */
	__u32 flags;	   /* enum xlb_global_flags */
	__u32 wildcard_vips; /* number of all-ports VIPs: 0 skips the second lookup */
	__u32 ring_size;   /* M the rings were built for (control plane's record, checked on restart) */
	__u32 abi_version; /* XLB_ABI_VERSION of the control plane that wrote the maps */
	__u8 pad[4];
};
XLB_ABI_ASSERT(sizeof(struct xlb_globals) == 40, "xlb_globals layout changed");

/*
 * Value of xlb_nh_cache (per-CPU, indexed by backend id): the next hop towards
 * a backend as bpf_fib_lookup() last gave it, so that the route and neighbour
 * lookups run once per refresh interval, not per packet. The kernel's tables
 * stay the truth: an entry expires after nh_cache_jiffies; zeroing it forces
 * a refresh.
 */
struct xlb_nh {
	__u64 expires;	  /* jiffies; 0 = empty */
	__u32 ifindex;	  /* egress device */
	__u32 in_ifindex; /* ingress device it was resolved for */
	__u8 dmac[6];	  /* next hop MAC */
	__u8 smac[6];	  /* egress device MAC */
	__u16 ok_len;	  /* largest IP length (after encapsulation) known to fit the path MTU */
	__u8 onlink;	  /* 1: the backend itself is the next hop (no gateway) */
	__u8 pad;
	__u8 src[16];	  /* the source address the kernel would use towards the backend */
};
XLB_ABI_ASSERT(sizeof(struct xlb_nh) == 48, "xlb_nh layout changed");

/*
 * Entry of xlb_flow_cache (direct-mapped by a hash of the flow, a slice of
 * entries per CPU): a copy of a connection-table record, so that a flow's
 * packets skip the hash-table lookup. Checked on use as a record is (VIP id
 * and generation, backend up and the VIP's); it expires after the next-hop
 * cache lifetime, and the table is looked up again. Never pinned: refilled
 * from the table after a restart.
 * A dr flow's entry also holds what its frames are sent with (the backend's
 * next hop, ifindex != 0). That part is used without the record check while
 * the entry's epoch is the program's fc_epoch, which the control plane bumps
 * after every write the check or the next hop depends on.
 */
struct xlb_fc_entry {
	__u8 flow[40];	      /* the flow, a struct xlb_flow (zero = empty) */
	__u64 expires;	      /* jiffies */
	__u32 backend_id;     /* as xlb_conn_val */
	__u16 vip_id;
	__u16 vip_gen;
	__u32 epoch;	      /* fc_epoch when the next hop below was checked */
	__u32 ifindex;	      /* dr: egress device of the next hop; 0 = none */
	/* second cache line: the rest of the dr next hop (struct xlb_nh) */
	__u32 in_ifindex;     /* ingress device it holds for */
	__u16 ok_len;	      /* largest IP length known to fit */
	__u8 dmac[6];
	__u8 smac[6];
	__u8 pad[46];	      /* two cache lines */
};
XLB_ABI_ASSERT(sizeof(struct xlb_fc_entry) == 128, "xlb_fc_entry layout changed");
XLB_ABI_ASSERT(__builtin_offsetof(struct xlb_fc_entry, in_ifindex) == 64, "xlb_fc_entry: the record and its checks in the first cache line");
XLB_ABI_ASSERT(sizeof(struct xlb_flow) == sizeof(((struct xlb_fc_entry *)0)->flow), "xlb_fc_entry.flow size");

/* Per-CPU counters of a VIP or backend (xlb_stats_vip / xlb_stats_backend). */
struct xlb_stats {
	__u64 packets;	 /* packets forwarded */
	__u64 bytes;	 /* bytes as received (before encapsulation) */
	__u64 new_flows; /* connection-table misses that chose this VIP / backend */
};
XLB_ABI_ASSERT(sizeof(struct xlb_stats) == 24, "xlb_stats layout changed");

/* Per-CPU counters of a reason (xlb_stats_reason_v2). */
struct xlb_reason_stats {
	__u64 packets; /* packets */
	__u64 bytes;   /* bytes as received */
};
XLB_ABI_ASSERT(sizeof(struct xlb_reason_stats) == 16, "xlb_reason_stats layout changed");

/*
 * Value of xlb_hc_targets (key: the probe socket's SO_MARK, __u32): where a
 * health check of `target: vip` goes. The probe connects to the VIP with this
 * mark; xlb_hc_egress sends its packets to the backend the way xlb_xdp sends
 * the VIP's traffic (tunnel: encapsulated to addr; dr: to addr's MAC),
 * routed as if they had come in on in_ifindex.
 */
struct xlb_hc_val {
	__u8 family;	  /* XLB_AF_INET / XLB_AF_INET6 (the VIP's and the backend's) */
	__u8 mode;	  /* XLB_MODE_DR or XLB_MODE_TUNNEL */
	__u8 pad[2];
	__u32 in_ifindex; /* a device xlb_xdp is attached to: the route lookup's input */
	__u8 addr[16];	  /* the backend's address (IPv4 in the first 4 bytes) */
};
XLB_ABI_ASSERT(sizeof(struct xlb_hc_val) == 24, "xlb_hc_val layout changed");

/*
 * BFD echo (RFC 5880 §6.4, RFC 5881 §4) in xlb_xdp; see bpf/lib/bfd.h.
 *
 * Reflect: a UDP datagram to port 3785 whose source is in xlb_bfd_peers
 * (XLB_BFD_PEER_F_REFLECT set) and whose TTL / hop limit is 255 goes back
 * out of the port it came in (XDP_TX): Ethernet addresses swapped, IP
 * addresses swapped (nothing changes for the usual echo, sent to its
 * sender's own address; FRR's IPv6 echo is addressed to us and its own
 * reflector answers it so), TTL / hop limit 254 (FRR 8.4 takes its IPv4
 * echo back at exactly 254, and takes an IPv6 one at 255 for a peer's
 * echo to reflect), the IPv4 header checksum updated; ports, UDP checksum
 * and payload as they came. 255 is required as RFC 5881 §5 requires it of
 * control packets (RFC 5082): an echo forwarded by any router on the way is
 * not the neighbour's, and a reflected echo (254) is never reflected again.
 *
 * Own echo: the runtime sends echoes from and to this node's own address
 * with the payload below. One that comes back (any TTL: the peer forwarded
 * it) whose magic, slot and discriminator match a slot of xlb_bfd_echo has
 * its sequence number and bpf_ktime_get_ns() written there, and is dropped.
 */
enum xlb_bfd_consts {
	XLB_BFD_PORT_ECHO = 3785,	  /* RFC 5881 §4 */
	XLB_BFD_ECHO_TTL = 255,		  /* the TTL / hop limit a reflected echo must arrive with */
	XLB_BFD_ECHO_MAGIC = 0x786c6245,  /* "xlbE", xlb_bfd_echo_pkt.magic */
};

/* Flags of a BFD peer (xlb_bfd_peer_val.flags). */
enum xlb_bfd_peer_flags {
	XLB_BFD_PEER_F_REFLECT = 1 << 0, /* reflect its echo packets; clear = the kernel's */
};

/* Value of xlb_bfd_peers (key: struct xlb_addr_key, the peer's address). */
struct xlb_bfd_peer_val {
	__u32 flags; /* enum xlb_bfd_peer_flags */
};
XLB_ABI_ASSERT(sizeof(struct xlb_bfd_peer_val) == 4, "xlb_bfd_peer_val layout changed");

/*
 * Entry of xlb_bfd_peer_cache (per CPU, one entry): the last address looked
 * up in xlb_bfd_peers on this CPU and what the lookup found. Valid while
 * epoch is the program's fc_epoch, which the control plane bumps after every
 * change to xlb_bfd_peers. Never pinned: it fills again from the peers map.
 */
struct xlb_bfd_peer_cache {
	__u8 addr[16];
	__u8 family; /* enum xlb_family; 0 = empty */
	__u8 pad[3];
	__u32 flags; /* xlb_bfd_peer_val.flags; 0 = not a peer */
	__u32 epoch; /* fc_epoch when the peers map was read */
};
XLB_ABI_ASSERT(sizeof(struct xlb_bfd_peer_cache) == 28, "xlb_bfd_peer_cache layout changed");

/*
 * Payload of xlb's own echo packets (the UDP payload, network order). The
 * payload of an echo is a local matter (RFC 5880 §6.4). 24 bytes: FRR's
 * bfdd reflects IPv6 echo in user space and discards anything shorter than
 * its own echo payload (24 bytes, bfd_packet.c bp_bfd_echo_in()).
 */
struct xlb_bfd_echo_pkt {
	__be32 magic;	/* XLB_BFD_ECHO_MAGIC */
	__be32 discr;	/* the session's My Discriminator */
	__be32 slot;	/* the session's slot in xlb_bfd_echo */
	__be32 seq;	/* sequence number, the sender's */
	__u8 stamp[8];	/* the sender's (e.g. its send time); not read by XDP */
};
XLB_ABI_ASSERT(sizeof(struct xlb_bfd_echo_pkt) == 24, "xlb_bfd_echo_pkt layout changed");

/*
 * Value of xlb_bfd_echo (an mmapable array indexed by slot): one own-echo
 * session. The control plane writes discr and family (non-zero discr = slot
 * in use); XDP writes the rest when an echo comes back. Each field is one
 * aligned store, so a reader polling the mmap sees every field whole, but
 * not necessarily all three of one packet: count says how many came back,
 * last_seq and last_ns the latest (two CPUs racing may pair one's seq with
 * the other's time). One cache line per slot: sessions do not share lines.
 */
struct xlb_bfd_echo_slot {
	__u64 last_ns;	/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the last echo back; 0 = none */
	__u64 count;	/* echoes back since the slot was registered */
	__u32 last_seq;	/* its sequence number (host order) */
	__u32 discr;	/* the session's My Discriminator (host order); 0 = free slot */
	__u8 family;	/* enum xlb_family of the session's echo */
	__u8 pad[39];
};
XLB_ABI_ASSERT(sizeof(struct xlb_bfd_echo_slot) == 64, "xlb_bfd_echo_slot layout changed");

#endif /* XLB_ABI_H */
