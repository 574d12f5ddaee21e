/**
 * One lock file per run (`<task>_seed<seed>.lock` beside its results), so that any number of
 * processes, on one machine or on several sharing the folder, split a sweep's runs and never run
 * one twice at the same time.
 *
 * The lock is created exclusively (O_EXCL) and names its holder: host, pid, start time. While held,
 * a background thread touches it every `heartbeatMs` (the training and analysis loops are
 * synchronous, so a timer on the main thread would not fire). Another process takes a lock over
 * only when its holder is provably gone (same host, pid no longer running) or its heartbeat is
 * older than `staleMs` (a holder on another machine that died, or a frozen process). The takeover
 * is a rename, so of two processes taking over the same stale lock only one succeeds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { processAlive, tempName } from './files';

export interface LockHolder {
  host: string;
  pid: number;
  startedAt: string;
  heartbeatMs: number;
  staleMs: number;
}

/** The exit status of `run` when another process holds the run's lock (sweeps leave the run to it). */
export const EXIT_LOCKED = 3;

/** Minutes without a heartbeat after which a lock held from another machine may be taken over. */
export const DEFAULT_STALE_MINUTES = 10;
const HEARTBEAT_MS = 30_000;

export class RunLockedError extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder | null,
  ) {
    super(`${file} is held by ${describeHolder(holder)}: that run is in progress elsewhere`);
    this.name = 'RunLockedError';
  }
}

export function describeHolder(h: LockHolder | null): string {
  return h ? `host ${h.host}, pid ${h.pid}, since ${h.startedAt}` : 'an unreadable lock file';
}

/**
 * Creates `file` with its whole content, or returns false if it exists. The content is written to
 * a temporary file first and hard-linked into place (atomic, and exclusive on local and network
 * file systems), so a process killed at any moment never leaves an empty or half-written lock.
 */
function createWhole(file: string, content: string): boolean {
  const tmp = tempName(file);
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function parseHolder(text: string | null): LockHolder | null {
  try {
    const h = JSON.parse(text ?? '');
    return typeof h.host === 'string' && typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    return parseHolder(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Why a lock may be taken over (null: it is live). */
export function staleReason(file: string, now = Date.now()): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return 'gone';
  }
  const h = readHolder(file);
  const staleMs = h?.staleMs ?? DEFAULT_STALE_MINUTES * 60_000;
  if (h && h.host === os.hostname() && !processAlive(h.pid)) return `its holder (pid ${h.pid} on this host) no longer runs`;
  if (now - st.mtimeMs > staleMs) return `no heartbeat for ${Math.round((now - st.mtimeMs) / 60_000)} min (limit ${Math.round(staleMs / 60_000)} min)`;
  return null;
}

export class RunLock {
  private heart: Worker | null = null;
  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {}

  /**
   * Takes the lock or throws RunLockedError. `onTakeover` hears why a stale lock was taken over.
   * `staleMinutes`: recorded in the lock, it is what other processes apply to it.
   */
  static acquire(file: string, opts: { staleMinutes?: number; onTakeover?: (why: string) => void; heartbeatMs?: number } = {}): RunLock {
    const holder: LockHolder = {
      host: os.hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      heartbeatMs: opts.heartbeatMs ?? HEARTBEAT_MS,
      staleMs: (opts.staleMinutes ?? DEFAULT_STALE_MINUTES) * 60_000,
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createWhole(file, JSON.stringify(holder))) {
        const lock = new RunLock(file, holder);
        lock.startHeartbeat();
        return lock;
      }
      const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
      const why = staleReason(file);
      if (!why) throw new RunLockedError(file, readHolder(file));
      if (why === 'gone') continue;
      // Rename the stale lock away; only one of several processes doing this gets it.
      const aside = `${file}.stale-${os.hostname()}-${process.pid}`;
      try {
        fs.renameSync(file, aside);
      } catch {
        continue; // someone else took it over first
      }
      const taken = fs.readFileSync(aside, 'utf8');
      if (taken !== before) {
        // A fresh lock was written between our check and the rename: put it back and give way.
        try {
          fs.linkSync(aside, file);
        } catch {
          /* a third process holds it now */
        }
        fs.rmSync(aside, { force: true });
        throw new RunLockedError(file, readHolder(file));
      }
      fs.rmSync(aside, { force: true });
      opts.onTakeover?.(`took over ${file} from ${describeHolder(parseHolder(before))}: ${why}`);
    }
    throw new RunLockedError(file, readHolder(file));
  }

  /** Whether the lock file still names this process (false after another took it over). */
  held(): boolean {
    const h = readHolder(this.file);
    return !!h && h.host === this.holder.host && h.pid === this.holder.pid && h.startedAt === this.holder.startedAt;
  }

  release(): void {
    this.heart?.terminate();
    this.heart = null;
    if (this.held()) fs.rmSync(this.file, { force: true });
  }

  private startHeartbeat(): void {
    const code = `
      const { workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      setInterval(() => { const t = new Date(); try { fs.utimesSync(workerData.file, t, t); } catch {} }, workerData.ms);`;
    this.heart = new Worker(code, { eval: true, workerData: { file: this.file, ms: this.holder.heartbeatMs } });
    this.heart.unref();
  }
}

/** The holder of a live lock on `file`, or null when it is free or stale. */
export function liveHolder(file: string): LockHolder | null {
  if (!fs.existsSync(file)) return null;
  return staleReason(file) ? null : readHolder(file);
}
