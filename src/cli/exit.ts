/**
 * @module cli/exit
 * Ending the `xlb` process without losing output. Writes to a pipe are
 * asynchronous in Node: what does not fit the pipe's buffer (64 KiB) waits in
 * the stream, and `process.exit()` drops it, so `xlb status --json | jq` read
 * a JSON cut at 65,536 bytes. Edge module (process, stdio).
 */

/**
 * Exit with `code` once stdout and stderr have handed everything written to
 * them to the kernel. A reader that goes away (EPIPE, as `| head` does) ends
 * the wait: what it did not read is not wanted.
 * @param code the process exit code
 * @param streams the streams to wait for (tests pass their own)
 * @param exit how to exit (tests pass their own)
 */
export function exitWhenFlushed(
  code: number,
  streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  process.exitCode = code;
  let left = streams.length;
  if (left === 0) return exit(code);
  for (const s of streams) {
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      if (--left === 0) exit(code);
    };
    // a write's callback runs once every earlier write to the stream is out
    s.once('error', settle);
    s.write('', settle);
  }
}
