/**
 * Output files: every output path is checked before any work starts (the error names the flag),
 * folders are created one level at a time (Node's recursive mkdir never returns on some paths,
 * e.g. under /proc), files are written atomically, and temporary files a killed process left
 * behind are removed on the next start.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './config';

/** Creates `dir` and any missing parents, one level at a time (so a bad path fails at once). */
export function makeDir(dir: string): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let d = abs;
  while (!fs.existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  if (fs.existsSync(d) && !fs.statSync(d).isDirectory()) {
    const err = new Error(`${d} is a file, not a folder`) as NodeJS.ErrnoException;
    err.code = 'ENOTDIR';
    throw err;
  }
  for (const m of missing) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Why a folder cannot take output files (null if it can): it is created, and a probe file written and removed. */
function unwritableReason(dir: string): string | null {
  try {
    makeDir(dir);
    if (!fs.statSync(dir).isDirectory()) return 'it is a file, not a folder';
    const probe = path.join(dir, `.gcg-write-probe-${os.hostname()}-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why: Record<string, string> = {
      ENOTDIR: 'a part of the path is a file, not a folder',
      EACCES: 'permission denied',
      EPERM: 'permission denied',
      EROFS: 'the file system is read-only',
      ENOENT: 'the path cannot be created there',
      ENOSPC: 'the disk is full',
    };
    return why[err.code ?? ''] ?? err.message;
  }
}

/** Checks (and creates) an output folder before any work starts; the error names the flag. */
export function checkOutputDir(flag: string, dir: string): string {
  if (!dir) throw new ConfigError(`${flag}: got an empty path; allowed: a folder that can be created and written`);
  const why = unwritableReason(dir);
  if (why) throw new ConfigError(`${flag}: cannot write to ${JSON.stringify(dir)} (${why}); allowed: a folder that can be created and written`);
  return dir;
}

/** Checks an output file's path before any work starts: its folder is writable and the path is not a folder. */
export function checkOutputFile(flag: string, file: string): string {
  if (!file) throw new ConfigError(`${flag}: got an empty path; allowed: a file path in a writable folder`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new ConfigError(`${flag}: ${JSON.stringify(file)} is a folder; allowed: a file path in a writable folder`);
  }
  checkOutputDir(flag, path.dirname(path.resolve(file)));
  return file;
}

const TMP_MARK = '.tmp-';

/** A temporary name beside `file`, naming this host and process (so a later start can tell whether it is stale). */
export function tempName(file: string): string {
  return `${file}${TMP_MARK}${os.hostname()}-${process.pid}-${Date.now()}`;
}

/** Writes a file atomically: a temporary file in the same folder, fsync, then rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  makeDir(path.dirname(path.resolve(file)));
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Whether a process with this pid runs on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files in `dir` that a stopped writer left behind: those of a process of
 * this host that no longer runs, and any older than `maxAgeMs` (a writer on another machine
 * sharing the folder). Returns the names removed.
 */
export function cleanStaleTemps(dir: string, maxAgeMs = 24 * 3600 * 1000): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  const removed: string[] = [];
  const host = os.hostname();
  for (const f of fs.readdirSync(dir)) {
    const i = f.lastIndexOf(TMP_MARK);
    if (i < 0) continue;
    // `<host>-<pid>-<ms>`, or `<pid>-<ms>` from earlier versions (this host).
    const m = /^(?:(.+)-)?(\d+)-(\d+)$/.exec(f.slice(i + TMP_MARK.length));
    if (!m) continue;
    const file = path.join(dir, f);
    const ownHost = m[1] === undefined || m[1] === host;
    const stale = (ownHost && !processAlive(Number(m[2]))) || Date.now() - fs.statSync(file).mtimeMs > maxAgeMs;
    if (stale) {
      fs.rmSync(file, { force: true });
      removed.push(f);
    }
  }
  return removed;
}

/** Moves a file that must not be read again aside (`<file>.rejected-<time>`), keeping it; returns the new path. */
export function setAside(file: string, label = 'rejected'): string {
  const to = `${file}.${label}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(file, to);
  return to;
}
