#!/usr/bin/env node
/**
 * @module cli/main
 * The `xlb` executable: parse the command line, run the action, exit with its
 * code. Errors print their message (the stack with XLB_VERBOSE=1).
 */
import { CommanderError } from 'commander';
import { buildProgram, exitCodeOf } from './program.js';
import { realActions } from './actions.js';
import { exitWhenFlushed } from './exit.js';

function fail(err: unknown): void {
  // commander has printed its own message (usage errors, --help, --version)
  if (err instanceof CommanderError) return exitWhenFlushed(exitCodeOf(err));
  process.stderr.write(`xlb: ${(err as Error)?.message ?? String(err)}\n`);
  if (process.env.XLB_VERBOSE === '1' && (err as Error)?.stack) process.stderr.write(`${(err as Error).stack}\n`);
  exitWhenFlushed(exitCodeOf(err));
}

const program = buildProgram(realActions, (p) => {
  p.then(exitWhenFlushed, fail);
});
program.parseAsync(process.argv).catch(fail);
