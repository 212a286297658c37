/**
 * @module test/support/root-tier
 * What the root-tier socket and netlink tests (test/bpf/) share: a test()
 * that skips without root, a command runner, and a bounded wait for one
 * message from a polled socket (RawSocket, PacketSocket).
 */
import { execFileSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import type { PacketFrame, PacketSocket, RawMessage, RawSocket } from '../../src/native/socket.js';

/**
 * A test() for this file's root-only cases: skipped (not failed) without
 * root, with `why` as the reason.
 * @param why e.g. 'needs root (CAP_BPF)'
 */
export function rootTestFor(why: string): (name: string, fn: (t: TestContext) => void | Promise<void>) => void {
  const root = process.getuid?.() === 0;
  return (name, fn) =>
    test(name, async (t) => {
      if (!root) {
        t.skip(why);
        return;
      }
      await fn(t);
    });
}

/** Runs a command; its stdout. Throws (with stderr) when it fails. */
export function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** A socket that delivers `'message'` events between start() and stop(). */
interface MessageSource<M> {
  on(event: 'message', listener: (m: M) => void): unknown;
  off(event: 'message', listener: (m: M) => void): unknown;
  start(): void;
  stop(): void;
}

/**
 * The first message `match` accepts (others are skipped), or null after
 * `ms`. The socket is polled only meanwhile.
 */
export function waitMessage(sock: RawSocket, ms: number, match?: (m: RawMessage) => boolean): Promise<RawMessage | null>;
export function waitMessage(sock: PacketSocket, ms: number, match?: (f: PacketFrame) => boolean): Promise<PacketFrame | null>;
export function waitMessage<M>(sock: MessageSource<M>, ms: number, match: (m: M) => boolean = () => true): Promise<M | null> {
  return new Promise((resolve) => {
    const done = (m: M | null): void => {
      clearTimeout(timer);
      sock.off('message', onMessage);
      sock.stop();
      resolve(m);
    };
    const onMessage = (m: M): void => {
      if (match(m)) done(m);
    };
    const timer = setTimeout(() => done(null), ms);
    sock.on('message', onMessage);
    sock.start();
  });
}
