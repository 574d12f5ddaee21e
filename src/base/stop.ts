/**
 * Stopping a long computation cleanly, with no Node in it: training and analysis call
 * `checkInterrupted` between units of work, and a set signal becomes an InterruptedError that
 * unwinds through their `finally` blocks. Where the signal comes from is installed by the Node side
 * (src/io/interrupt.ts: the native addon turns SIGINT and SIGTERM into a flag); in a browser, or
 * before any is installed, there is none and nothing stops.
 */

export type SignalName = 'SIGINT' | 'SIGTERM';

/** The exit status of a command stopped by a signal: 128 + the signal's number (130 SIGINT, 143 SIGTERM). */
export function exitCodeOf(signal: SignalName): number {
  return signal === 'SIGINT' ? 130 : 143;
}

export class InterruptedError extends Error {
  constructor(
    readonly signal: SignalName,
    /** What was kept (e.g. the training state at the step where it stopped). */
    readonly kept?: string,
  ) {
    super(`interrupted by ${signal}${kept ? `: ${kept}` : ''}`);
    this.name = 'InterruptedError';
  }
}

let source: () => SignalName | null = () => null;

/** Installs where signals come from (src/io/interrupt.ts watchSignals). */
export function setSignalSource(fn: () => SignalName | null): void {
  source = fn;
}

/** The signal received since signals were watched (null: none, or signals are not watched). */
export function pendingSignal(): SignalName | null {
  return source();
}

let held = 0;

/**
 * Throws InterruptedError if SIGINT or SIGTERM arrived, except inside holdInterrupts. Called
 * between units of work (training steps; the analysis's batches, ablations and lengths; runs),
 * never inside the model.
 */
export function checkInterrupted(): void {
  if (held) return;
  const sig = source();
  if (sig) throw new InterruptedError(sig);
}

/**
 * Until the returned function is called, checkInterrupted does not throw: a training step (and its
 * stopping check) runs whole, so that the state at the next step boundary can be saved exactly.
 */
export function holdInterrupts(): () => void {
  held++;
  let done = false;
  return () => {
    if (!done) held--;
    done = true;
  };
}
