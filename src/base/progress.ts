/**
 * A one-line progress bar with ETA on stderr. It draws only in an interactive terminal and never
 * under CI=true or in a notebook (whose stderr is not a TTY), so logs and notebook outputs stay
 * clean. No Node in it: in a browser (no process) it never draws.
 */

/** Where a bar draws: a terminal stream (Node's process.stderr). */
export interface BarStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Node's process, where there is one (none in a browser). */
const host = (globalThis as { process?: { stderr?: BarStream; env?: Record<string, string | undefined> } }).process;
const NO_STREAM: BarStream = { write: () => undefined };

export function progressWanted(stream: BarStream = host?.stderr ?? NO_STREAM): boolean {
  return Boolean(stream.isTTY) && !host?.env?.CI;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class ProgressBar {
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    readonly total: number,
    readonly label: string,
    enabled: boolean = progressWanted(),
    private readonly stream: BarStream = host?.stderr ?? NO_STREAM,
  ) {
    this.enabled = enabled;
  }

  /** Redraws at most 10 times a second. `done` counts finished units of `total`. */
  update(done: number, info = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const frac = Math.min(1, done / this.total);
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = now - this.start;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.stream.write(
      `\r${this.label} [${bar}] ${done}/${this.total} ${info} elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}\x1b[K`,
    );
  }

  /** Clears the bar's line, so that a log line printed next starts on a clean line (the next update redraws it). */
  clear(): void {
    if (!this.enabled || !this.lastDraw) return;
    this.stream.write('\r\x1b[K');
    this.lastDraw = 0;
  }

  finish(info = ''): void {
    if (!this.enabled) return;
    this.lastDraw = 0;
    this.stream.write(`\r${this.label} ${info} in ${formatDuration(Date.now() - this.start)}\x1b[K\n`);
  }
}
