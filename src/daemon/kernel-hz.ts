/**
 * CONFIG_HZ of the running kernel. The data path counts time in jiffies (the
 * next-hop and flow cache lifetimes), so the daemon converts its durations
 * with this. Sources, in order: /boot/config-<release>, /proc/config.gz, then
 * the jiffies counter against the monotonic clock in /proc/timer_list; 250
 * (Debian's) if none answers.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { release } from 'node:os';

/** The values CONFIG_HZ can take (kernel/Kconfig.hz). */
const HZ_CHOICES = [100, 250, 300, 1000] as const;

/** CONFIG_HZ from a kernel config's text, or null. */
export function hzFromConfig(text: string): number | null {
  const m = /^CONFIG_HZ=(\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * CONFIG_HZ from /proc/timer_list's text, or null: jiffies start at
 * INITIAL_JIFFIES = 2^32 - 300 * HZ at boot (include/linux/jiffies.h) and
 * then count HZ a second, so "jiffies:" against "now at ... nsecs" (the
 * monotonic clock) fits one HZ, within 2 s of ticks (ticks lost to idle
 * are caught up when read). No fit, or more than one, is no answer.
 */
export function hzFromTimerList(text: string): number | null {
  const now = /^now at (\d+) nsecs$/m.exec(text);
  const jiffies = /^jiffies: (\d+)$/m.exec(text);
  if (!now || !jiffies) return null;
  const nowNs = BigInt(now[1]!);
  const j = BigInt(jiffies[1]!);
  const fits = HZ_CHOICES.filter((hz) => {
    const h = BigInt(hz);
    const expected = 2n ** 32n - 300n * h + (nowNs * h) / 1_000_000_000n;
    return (j > expected ? j - expected : expected - j) <= 2n * h;
  });
  // about 300 s after boot every HZ gives the same count: no answer then
  return fits.length === 1 ? fits[0]! : null;
}

/** CONFIG_HZ of the running kernel (see the module comment). */
export function kernelHz(): number {
  const sources: (() => number | null)[] = [
    () => hzFromConfig(readFileSync(`/boot/config-${release()}`, 'utf8')),
    () => hzFromConfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8')),
    () => hzFromTimerList(readFileSync('/proc/timer_list', 'utf8')),
  ];
  for (const source of sources) {
    try {
      const hz = source();
      if (hz) return hz;
    } catch {
      /* not there, or not readable */
    }
  }
  return 250;
}
