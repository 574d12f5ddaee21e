/**
 * Stopping a command cleanly on SIGINT (Ctrl-C) or SIGTERM (`kill`, Slurm's `scancel`).
 *
 * Training and analysis are long synchronous loops, and Node runs a JavaScript signal handler
 * only when its event loop is free, so a handler installed with `process.on('SIGINT')` would
 * never run during them (and would stop Ctrl-C from working at all). Instead the native addon
 * (native/gcg_native.c) turns SIGINT and SIGTERM into a flag; training polls it between steps and
 * the analysis between its batches, ablations and lengths (`checkInterrupted`; never the model
 * itself), and a set flag becomes an InterruptedError that unwinds the computation through its
 * `finally` blocks: locks are released, temporary files removed, nothing half-written is renamed
 * into place. While the event loop is free (figure export, a sweep waiting for its
 * workers) a timer polls the same flag and runs the registered cleanups (`onInterrupt`) before
 * exiting, unless a command takes the signal over (`takeOverInterrupt`: a sweep forwards it to its
 * workers and waits for them).
 *
 * Only commands call `watchSignals` (the CLI); a notebook or a test that imports the package keeps
 * Node's own signal behaviour. Where the addon is not built, signals keep Node's default (the
 * process ends at once): nothing is lost then either (every file is written atomically, a killed
 * process's locks and temporary files are recognised and cleared by the next command), only less
 * tidily.
 */
import * as fs from 'node:fs';
import { addonPath, requireAddon } from './addon';
import { exitCodeOf, pendingSignal, SignalName, setSignalSource } from '../base/stop';

interface SignalAddon {
  watchSignals(): void;
  pendingSignal(): number;
}

let addon: SignalAddon | null = null;
let timer: NodeJS.Timeout | null = null;
let takeOver: ((signal: SignalName) => void) | null = null;
const cleanups = new Set<() => void>();

function signalName(n: number): SignalName | null {
  if (!n) return null;
  return n === 2 ? 'SIGINT' : 'SIGTERM';
}

/**
 * From now on SIGINT and SIGTERM stop this process cleanly (see above). Returns how: 'flag' (the
 * native addon), or 'default' with the reason (Node's default: the process ends at once).
 */
export function watchSignals(): { how: 'flag' } | { how: 'default'; reason: string } {
  if (addon) return { how: 'flag' };
  const file = addonPath();
  if (!fs.existsSync(file)) return { how: 'default', reason: `${file} is not built` };
  try {
    const loaded = requireAddon() as Partial<SignalAddon>;
    if (typeof loaded.watchSignals !== 'function' || typeof loaded.pendingSignal !== 'function') {
      return {
        how: 'default',
        reason: `${file} was built from older sources (node scripts/build-native.js rebuilds it)`,
      };
    }
    loaded.watchSignals();
    addon = loaded as SignalAddon;
    const watched = addon;
    setSignalSource(() => signalName(watched.pendingSignal()));
  } catch (e) {
    return { how: 'default', reason: (e as Error).message.split('\n')[0] };
  }
  timer = setInterval(() => {
    const sig = pendingSignal();
    if (!sig) return;
    clearInterval(timer!);
    timer = null;
    if (takeOver) {
      takeOver(sig);
      return;
    }
    runCleanups();
    console.error(
      `interrupted by ${sig}: stopped; nothing half-written was kept (run the same command again to resume)`,
    );
    process.exit(exitCodeOf(sig));
  }, 100);
  timer.unref();
  return { how: 'flag' };
}

/** Registers a cleanup to run when the command is stopped by a signal; returns its removal. */
export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs (once) every registered cleanup. */
export function runCleanups(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      /* a cleanup that fails must not stop the others */
    }
  }
}

/**
 * While `fn` runs, a signal that arrives while the event loop is free goes to `handler` instead of
 * ending the process (a sweep forwards it to its workers and waits for them to stop).
 */
export async function takeOverInterrupt<T>(handler: (signal: SignalName) => void, fn: () => Promise<T>): Promise<T> {
  const before = takeOver;
  takeOver = handler;
  // Without the addon, Node's own handlers do (the event loop is free while fn waits).
  const js = addon ? null : (sig: NodeJS.Signals) => handler(sig as SignalName);
  if (js) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, js);
  try {
    return await fn();
  } finally {
    takeOver = before;
    if (js) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, js);
  }
}
