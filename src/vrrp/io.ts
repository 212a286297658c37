/**
 * @module vrrp/io
 * The real {@link VrrpIo} of the VRRP worker: raw IP sockets of protocol 112
 * (src/native/socket.ts RawSocket), rtnetlink for links and addresses
 * (src/io/netlink-client.ts), packet sockets for gratuitous ARP and
 * unsolicited neighbour advertisements (src/vrrp/garp.ts), child processes
 * for scripts and notify commands, and the notify FIFO.
 *
 * Sockets (keepalived.md §1.1): one per (family, interface, multicast or
 * unicast source); bound to the device; TTL / hop limit 255 sent; TTL and
 * destination received (IP_RECVTTL / IPV6_RECVHOPLIMIT, IP_PKTINFO /
 * IPV6_RECVPKTINFO); IPv4 TOS 0xc0 (internetwork control, as keepalived);
 * IPv6 checksum filled and verified by the kernel (IPV6_CHECKSUM at offset 6);
 * multicast: the group joined on the interface, sent from it, not looped.
 *
 * Layer: I/O edge of the worker. Links and addresses are cached from one dump
 * at start and kept current by netlink notifications, so {@link VrrpIo.link}
 * is synchronous.
 */
import { execFileSync, spawn } from 'node:child_process';
import { spawnDetached } from '../spawn-detached.js';
import { spawnArgs } from '../security/command.js';
import { constants as fsConstants, promises as fsp, readFileSync, unwatchFile, watchFile, writeFileSync, existsSync } from 'node:fs';
import { RawSocket, SOCKOPT, IPPROTO } from '../native/socket.js';
import { NetlinkClient, type AddressInfo, type LinkInfo } from '../io/netlink-client.js';
import { VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_TTL } from './codec.js';
import type { VrrpIo, VrrpLink, VrrpRx, VrrpSocket, VrrpVip } from './runner.js';

/** IP_TOS (linux/in.h). */
const IP_TOS = 1;
/** DSCP CS6 "internetwork control", keepalived's TOS for adverts. */
const VRRP_TOS = 0xc0;
/** Offset of the checksum in a VRRP message (RFC 5798 §5.1). */
const VRRP_CHECKSUM_OFFSET = 6;

/** Sends gratuitous ARP / unsolicited NA (src/vrrp/garp.ts). */
export interface GarpSender {
  send(ifindex: number, mac: string, family: 4 | 6, address: string, count: number): void;
  close(): void;
}

/** Options of {@link createVrrpIo}. */
export interface VrrpIoOptions {
  log: VrrpIo['log'];
  /** GARP sender; default none (logged once). */
  garp?: GarpSender;
}

/** The worker's io, and how to close it. */
export interface WorkerIo extends VrrpIo {
  close(): void;
}

/**
 * Start netlink, load the links and addresses, and return the io.
 * @throws when netlink cannot be opened
 */
export async function createVrrpIo(opts: VrrpIoOptions): Promise<WorkerIo> {
  const nl = new NetlinkClient();
  nl.start();
  const links = new Map<string, LinkInfo>();
  const byIndex = new Map<number, string>();
  const addrs = new Map<number, AddressInfo[]>();
  const watchers = new Set<(ifname: string) => void>();
  const addrWatchers = new Set<(ifname: string, address: string) => void>();
  const setLink = (l: LinkInfo): void => {
    const old = byIndex.get(l.ifindex);
    if (old !== undefined && old !== l.name) links.delete(old);
    links.set(l.name, l);
    byIndex.set(l.ifindex, l.name);
  };
  for (const l of await nl.links()) setLink(l);
  for (const a of await nl.addresses()) addrs.set(a.ifindex, [...(addrs.get(a.ifindex) ?? []), a]);
  nl.on('link', (ev) => {
    if (ev.action === 'del') {
      links.delete(ev.link.name);
      byIndex.delete(ev.link.ifindex);
    } else {
      setLink(ev.link);
    }
    for (const w of watchers) w(ev.link.name);
  });
  nl.on('address', (ev) => {
    const list = (addrs.get(ev.address.ifindex) ?? []).filter((a) => a.address !== ev.address.address || a.prefixLength !== ev.address.prefixLength);
    if (ev.action === 'new') list.push(ev.address);
    addrs.set(ev.address.ifindex, list);
    const ifname = byIndex.get(ev.address.ifindex);
    if (ev.action === 'del' && ifname !== undefined) for (const w of addrWatchers) w(ifname, ev.address.address);
  });
  nl.on('error', (err) => {
    opts.log('warn', { err }, 'vrrp: netlink event socket trouble; reloading links');
    void nl.links().then((ls) => {
      for (const l of ls) setLink(l);
      for (const w of watchers) for (const l of ls) w(l.name);
    });
  });
  let garpWarned = false;

  const ifindexOf = (ifname: string): number => {
    const l = links.get(ifname);
    if (!l) throw Object.assign(new Error(`no interface ${ifname}`), { code: 'ENODEV' });
    return l.ifindex;
  };

  const io: WorkerIo = {
    now: () => performance.now(),

    openSocket(family, ifname, { multicast, source }, onRx): VrrpSocket {
      const ifindex = ifindexOf(ifname);
      const s = new RawSocket({ family, type: 'raw', protocol: IPPROTO.VRRP });
      try {
        s.bindToDevice(ifname);
        s.setTtl(VRRP_TTL);
        s.enableRecvTtl();
        s.enableRecvPktInfo();
        if (family === 4) s.setOption(SOCKOPT.SOL_IP, IP_TOS, VRRP_TOS);
        else s.setOption(SOCKOPT.SOL_IPV6, SOCKOPT.IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET);
        if (source !== undefined) s.bind(source);
        if (multicast) {
          s.joinMulticast(family === 6 ? VRRP_GROUP_V6 : VRRP_GROUP_V4, ifindex);
          s.setMulticastInterface(ifindex);
          s.setMulticastLoop(false);
        }
      } catch (err) {
        s.close();
        throw err;
      }
      s.on('message', (m) => {
        const rx: VrrpRx =
          family === 4
            ? { data: m.data, meta: { family: 4 } }
            : { data: m.data, meta: { family: 6, src: m.address, dst: m.destination ?? '::', hopLimit: m.ttl ?? 0 } };
        onRx(rx);
      });
      s.on('error', (err) => opts.log('warn', { err, ifname }, 'vrrp: socket error'));
      s.start();
      return {
        send: (data, destination) => {
          // link-local destinations (IPv6 multicast) need the interface as scope
          s.send(data, family === 6 && /^f[ef]/i.test(destination) ? `${destination}%${ifindex}` : destination);
        },
        close: () => s.close(),
      };
    },

    link(ifname): VrrpLink | undefined {
      const l = links.get(ifname);
      if (!l) return undefined;
      const list = addrs.get(l.ifindex) ?? [];
      // primary first: the kernel lists an interface's addresses oldest first
      return { ifindex: l.ifindex, up: l.up, addresses: list.map((a) => ({ family: a.family, address: a.address })) };
    },

    ensureVmac(name, parent, mac) {
      // once per instance start, in the worker: `ip` (iproute2) is simpler
      // than building IFLA_LINKINFO here, and a few ms there are harmless
      const ip = (args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (!links.has(name)) {
        try {
          ip(['link', 'add', 'link', parent, 'name', name, 'address', mac, 'type', 'macvlan', 'mode', 'private']);
        } catch (err) {
          if (!/File exists/.test(String((err as { stderr?: string }).stderr))) throw err;
        }
      }
      // keepalived's VMAC sysctls: answer ARP only for the VMAC's own
      // addresses, accept packets from local addresses, no reverse-path filter
      for (const [k, v] of [['ipv4/conf/' + name + '/arp_ignore', '1'], ['ipv4/conf/' + name + '/accept_local', '1'], ['ipv4/conf/' + name + '/rp_filter', '0'], ['ipv4/conf/' + parent + '/arp_ignore', '1'], ['ipv4/conf/' + parent + '/arp_filter', '1']] as const) {
        try {
          writeFileSync(`/proc/sys/net/${k}`, v);
        } catch (err) {
          opts.log('warn', { err, sysctl: k }, 'vrrp: VMAC sysctl not set');
        }
      }
      ip(['link', 'set', name, 'up']);
      const shown = JSON.parse(ip(['-j', 'link', 'show', 'dev', name])) as { ifindex: number; flags: string[]; address?: string }[];
      const l = shown[0];
      if (l) {
        const up = l.flags.includes('UP') && l.flags.includes('LOWER_UP');
        setLink({ ifindex: l.ifindex, name, flags: 0, adminUp: up, running: up, lowerUp: up, up, type: 1, mac: l.address ?? mac });
      }
    },

    removeVmac(name) {
      try {
        execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
      } catch {
        /* gone already */
      }
    },

    watchLinks(cb) {
      watchers.add(cb);
      return () => watchers.delete(cb);
    },

    watchAddressRemovals(cb) {
      addrWatchers.add(cb);
      return () => addrWatchers.delete(cb);
    },

    async addAddress(ifname, family, vip: VrrpVip) {
      const spec: Parameters<NetlinkClient['addAddress']>[0] = { ifindex: ifindexOf(ifname), address: vip.address, prefixLength: vip.prefixLength };
      if (family === 4 && vip.label !== undefined) spec.label = vip.label;
      if (family === 6) spec.nodad = true; // usable at once, as keepalived adds VIPs
      await nl.addAddress(spec);
    },

    async removeAddress(ifname, _family, vip: VrrpVip) {
      await nl.deleteAddress({ ifindex: ifindexOf(ifname), address: vip.address, prefixLength: vip.prefixLength });
    },

    garp(ifname, family, address, count, intervalMs) {
      const l = links.get(ifname);
      if (!opts.garp) {
        if (!garpWarned) opts.log('warn', {}, 'vrrp: no gratuitous ARP sender; neighbours learn the new master from traffic');
        garpWarned = true;
        return;
      }
      if (!l?.mac) return;
      const sender = opts.garp;
      const mac = l.mac;
      const send = (n: number): void => {
        try {
          sender.send(l.ifindex, mac, family, address, n);
        } catch (err) {
          opts.log('warn', { err, ifname, address }, 'vrrp: gratuitous ARP / NA not sent');
        }
      };
      if (intervalMs <= 0) {
        send(count);
        return;
      }
      // paced (garp_interval / gna_interval): one now, the others apart
      send(1);
      for (let i = 1; i < count; i++) setTimeout(() => send(1), i * intervalMs).unref();
    },

    run(cmd, timeoutMs) {
      return new Promise<boolean>((resolve) => {
        let child;
        try {
          const { file, args, options } = spawnArgs(cmd);
          child = spawn(file, args, { ...options, stdio: 'ignore' });
        } catch {
          resolve(false);
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', () => {
          clearTimeout(timer);
          resolve(false);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code === 0);
        });
      });
    },

    watchFile(path, init, cb) {
      if (init && (init.overwrite || !existsSync(path))) {
        try {
          writeFileSync(path, `${init.value}\n`);
        } catch (err) {
          opts.log('warn', { err, path }, 'vrrp: tracked file not initialised');
        }
      }
      const read = (): number => {
        try {
          const v = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
          return Number.isFinite(v) ? v : 0;
        } catch {
          return 0;
        }
      };
      // stat polling (the worker's loop carries it), as often as a fast advert
      const listener = (): void => cb(read());
      watchFile(path, { interval: 200, persistent: false }, listener);
      cb(read());
      return () => unwatchFile(path, listener);
    },

    notify(cmd) {
      spawnDetached(cmd, {}, opts.log, 'vrrp: notify command');
    },

    fifo(path, line) {
      // O_NONBLOCK: opening a FIFO nobody reads fails (ENXIO) instead of blocking
      fsp.open(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).then(
        (fh) =>
          fh
            .write(line)
            .catch((err: unknown) => opts.log('warn', { err, path }, 'vrrp: notify FIFO write failed'))
            .finally(() => void fh.close()),
        (err: unknown) => opts.log('warn', { err, path }, 'vrrp: notify FIFO not open for reading; line dropped'),
      );
    },

    log: opts.log,

    close() {
      nl.stop();
      opts.garp?.close();
    },
  };
  return io;
}
