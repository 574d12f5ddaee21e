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
import { createExclusive, processAlive } from './files';

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

/** The holder a lock file names, or null when its content is not a valid holder (garbage, a hand edit, a cut-off file). */
function parseHolder(text: string | null): LockHolder | null {
  try {
    const h = JSON.parse(text ?? '');
    const valid =
      h &&
      typeof h === 'object' &&
      typeof h.host === 'string' &&
      h.host.length > 0 &&
      Number.isInteger(h.pid) &&
      h.pid > 0 &&
      typeof h.startedAt === 'string';
    return valid ? h : null;
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

/** A lock path that is not a plain file (a folder, say) cannot be used: an error naming it. */
function checkLockPath(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!st.isFile())
    throw new Error(
      `${file} is ${st.isDirectory() ? 'a folder' : 'not a plain file'}, where a run's lock file belongs: move it away`,
    );
}

/**
 * Why a lock may be taken over (null: it is live). The reader's own `staleMinutes` decides (what the
 * lock file says is not trusted): a holder on this host whose pid no longer runs is gone at once; any
 * other lock, a lock whose content is not a valid holder included, is stale after `staleMinutes`
 * without a heartbeat.
 */
export function staleReason(file: string, now = Date.now(), staleMinutes = DEFAULT_STALE_MINUTES): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return 'gone';
  }
  const staleMs = staleMinutes * 60_000;
  const h = readHolder(file);
  if (h && h.host === os.hostname() && !processAlive(h.pid))
    return `its holder (pid ${h.pid} on this host) no longer runs`;
  const age = now - st.mtimeMs;
  if (age > staleMs)
    return `${h ? 'no heartbeat' : 'an unreadable lock file, untouched'} for ${(age / 60_000).toFixed(1)} min (limit ${staleMinutes} min)`;
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
   * `staleMinutes`: after how long without a heartbeat this process takes another's lock over
   * (recorded in the lock for information; each reader applies its own).
   */
  static acquire(
    file: string,
    opts: { staleMinutes?: number; onTakeover?: (why: string) => void; heartbeatMs?: number } = {},
  ): RunLock {
    const holder: LockHolder = {
      host: os.hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      heartbeatMs: opts.heartbeatMs ?? HEARTBEAT_MS,
      staleMs: (opts.staleMinutes ?? DEFAULT_STALE_MINUTES) * 60_000,
    };
    checkLockPath(file);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createExclusive(file, JSON.stringify(holder))) {
        const lock = new RunLock(file, holder);
        lock.startHeartbeat();
        return lock;
      }
      const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
      const why = staleReason(file, Date.now(), opts.staleMinutes ?? DEFAULT_STALE_MINUTES);
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

/** Who holds a live lock on `file` (in words), or null when it is free or stale (by the reader's `staleMinutes`). */
export function liveHolder(file: string, staleMinutes = DEFAULT_STALE_MINUTES): string | null {
  if (!fs.existsSync(file)) return null;
  if (staleReason(file, Date.now(), staleMinutes)) return null;
  return describeHolder(readHolder(file));
}
