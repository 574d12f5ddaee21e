#!/usr/bin/env node
/**
 * Command-line entry point: `gcg <command> [options]` (or `node dist/src/cli.js ...`).
 * Every command prints the backend it runs on; every file it writes records it.
 *
 * What was typed is parsed and checked here (src/faces/cli-args.ts, no TensorFlow: help and argument
 * errors answer at once); a command's work (its descriptor's load(): src/faces/commands.ts, a study's
 * commands.ts; these load TensorFlow) is loaded only for a command line that parsed.
 */
import { closest, commandHelp, COMMAND_OPTIONS, COMMANDS, helpText, parse, preflight } from './faces/cli-args';
import { ConfigError } from './settings/config';
import { runCleanups, watchSignals } from './io/interrupt';
import { exitCodeOf, InterruptedError } from './base/stop';
import { EXIT_LOCKED, RunLockedError } from './io/lock';
import { RunConflictError } from './records/store';

/**
 * Exit statuses: 0 done, 1 failed, 2 bad input or a refused overwrite (nothing was done), 3 the run
 * is locked by another process, 130 / 143 stopped by SIGINT / SIGTERM.
 */
export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    if (command === 'help' || command === '--help' || command === '-h') {
      console.log(helpText());
      return 0;
    }
    if (!(command in COMMAND_OPTIONS)) {
      const near = closest(command, Object.keys(COMMAND_OPTIONS));
      console.error(
        `error: unknown command ${JSON.stringify(command)}${near ? ` (did you mean ${near}?)` : ''}; allowed: ${Object.keys(COMMAND_OPTIONS).join(', ')}`,
      );
      return 2;
    }
    const parsed = parse(command, rest);
    if (parsed.help) {
      console.log(commandHelp(command));
      return 0;
    }
    preflight(command, parsed.opts);
    const work = await COMMANDS.find((c) => c.name === command)!.load();
    return await work(parsed.opts);
  } catch (e) {
    if (e instanceof InterruptedError) {
      runCleanups();
      console.error(
        `stopped (${e.message}); locks released, nothing half-written kept: run the same command again to resume`,
      );
      return exitCodeOf(e.signal);
    }
    // Refused before any work: bad input, or work in the folder that the run would replace.
    if (e instanceof ConfigError || e instanceof RunConflictError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof RunLockedError) {
      console.error(`error: ${e.message}`);
      return EXIT_LOCKED;
    }
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  // SIGINT/SIGTERM stop a command cleanly (src/io/interrupt.ts): only here, not when main() is called from a test.
  try {
    watchSignals();
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  }
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
