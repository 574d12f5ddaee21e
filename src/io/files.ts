/**
 * Output files: every output path is checked before any work starts (the error names the flag),
 * folders are created one level at a time (Node's recursive mkdir never returns on some paths,
 * e.g. under /proc), files are written atomically, and temporary files a killed process left
 * behind are removed on the next start.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../settings/config';

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
    return FS_ERRORS[err.code ?? ''] ?? err.message;
  }
}

/** What a file system error means, in words (for messages that name a file or flag). */
const FS_ERRORS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOENT: 'the path cannot be created there',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ELOOP: 'a symbolic link in the path loops',
};

/** Checks (and creates) an output folder before any work starts; the error names the flag. */
export function checkOutputDir(flag: string, dir: string): string {
  if (!dir) throw new ConfigError(`${flag}: got an empty path; allowed: a folder that can be created and written`);
  const why = unwritableReason(dir);
  if (why)
    throw new ConfigError(
      `${flag}: cannot write to ${JSON.stringify(dir)} (${why}); allowed: a folder that can be created and written`,
    );
  return dir;
}

/**
 * A folder to read from that exists but cannot be read (a symbolic link that loops, a file where a
 * folder belongs, no permission): an error naming the flag. A missing folder passes (the caller
 * says what it expected).
 */
export function checkReadableDir(flag: string, dir: string): void {
  let isLink = false;
  try {
    isLink = fs.lstatSync(dir).isSymbolicLink();
  } catch {
    return; // missing
  }
  try {
    if (!fs.statSync(dir).isDirectory())
      throw new ConfigError(`${flag}: ${JSON.stringify(dir)} is a file, not a folder; allowed: a results folder`);
    fs.readdirSync(dir);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP'
        ? 'a symbolic link that loops'
        : code === 'ENOENT' && isLink
          ? 'a symbolic link to nothing'
          : code === 'EACCES' || code === 'EPERM'
            ? 'not readable (permission denied)'
            : (e as Error).message;
    throw new ConfigError(
      `${flag}: ${JSON.stringify(dir)} cannot be read (${why}); allowed: a readable results folder`,
    );
  }
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
let tempCount = 0;

/** A temporary name beside `file`, naming this host and process (so a later start can tell whether it is stale). */
export function tempName(file: string): string {
  return `${file}${TMP_MARK}${os.hostname()}-${process.pid}-${Date.now()}.${tempCount++}`;
}

/**
 * The system calls the writers use, in one place, so that a test can make a write come up short or
 * fail (a full disk) for every writer of the project.
 */
export const io = {
  writeSync: (fd: number, buf: Uint8Array, offset: number, length: number): number =>
    fs.writeSync(fd, buf, offset, length),
  fsyncSync: (fd: number): void => fs.fsyncSync(fd),
};

/** A file that could not be written whole: the old file (if any) is unchanged and no temporary file is left. */
export class WriteError extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(
      `could not write ${file}: ${detail}; ${fs.existsSync(file) ? 'the file there before is unchanged' : 'nothing was written there'}`,
    );
    this.name = 'WriteError';
  }
}

/** Free space on the file system holding `file`, for an error message ('unknown' if it cannot be read). */
export function freeSpace(file: string): string {
  try {
    const st = fs.statfsSync(path.dirname(path.resolve(file)));
    const bytes = Number(st.bavail) * Number(st.bsize);
    const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = bytes;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${u ? v.toFixed(1) : v} ${units[u]} free there`;
  } catch {
    return 'free space unknown';
  }
}

function writeError(file: string, e: unknown, wrote?: { done: number; total: number }): WriteError {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  const what =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `${FS_ERRORS[code]} (${code}; ${freeSpace(file)})`
      : ((code && FS_ERRORS[code]) ?? err?.message ?? String(e));
  return new WriteError(file, code, wrote ? `${what}, after ${wrote.done} of ${wrote.total} bytes` : what);
}

/** Writes all of `bytes` to `fd` (a write may come up short on a nearly full disk: it goes on, and an error stops it), then fsyncs. */
function writeWhole(file: string, fd: number, bytes: Uint8Array): void {
  let done = 0;
  try {
    while (done < bytes.length) {
      const n = io.writeSync(fd, bytes, done, bytes.length - done);
      if (!(n > 0)) throw Object.assign(new Error('the write made no progress'), { code: 'ENOSPC' });
      done += n;
    }
    io.fsyncSync(fd);
  } catch (e) {
    throw writeError(file, e, { done, total: bytes.length });
  }
}

/**
 * Files written as one: each is written whole to a temporary file beside it and fsynced
 * (`add`), and only `commit` renames them all into place, one after the other with nothing in
 * between. Any failure before the commit removes every temporary file and leaves every old file as
 * it was; so does `abort` (an interrupted command). A temporary file a killed process left is
 * removed by the next command that writes there (cleanStaleTemps).
 */
export class WriteBatch {
  private staged: { file: string; tmp: string }[] = [];
  private closed = false;

  /** Writes `data` whole to a temporary file beside `file` (a WriteError, after aborting the batch, if it cannot). */
  add(file: string, data: string | Uint8Array): this {
    if (this.closed) throw new Error(`WriteBatch: add(${file}) after commit or abort`);
    try {
      makeDir(path.dirname(path.resolve(file)));
    } catch (e) {
      this.abort();
      throw writeError(file, e);
    }
    const tmp = tempName(file);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx');
    } catch (e) {
      this.abort();
      throw writeError(file, e);
    }
    this.staged.push({ file, tmp });
    try {
      writeWhole(file, fd, bytes);
    } catch (e) {
      this.abort();
      throw e;
    } finally {
      fs.closeSync(fd);
    }
    return this;
  }

  /** Renames every staged file into place; returns the files. */
  commit(): string[] {
    if (this.closed) throw new Error('WriteBatch: commit after commit or abort');
    this.closed = true;
    const files: string[] = [];
    for (let i = 0; i < this.staged.length; i++) {
      const { file, tmp } = this.staged[i];
      try {
        fs.renameSync(tmp, file);
      } catch (e) {
        for (const s of this.staged.slice(i)) fs.rmSync(s.tmp, { force: true });
        throw writeError(file, e);
      }
      files.push(file);
    }
    for (const dir of new Set(files.map((f) => path.dirname(path.resolve(f))))) syncDir(dir);
    return files;
  }

  /** Removes every staged temporary file; the old files stay as they were. */
  abort(): void {
    this.closed = true;
    for (const { tmp } of this.staged) fs.rmSync(tmp, { force: true });
    this.staged = [];
  }

  get size(): number {
    return this.staged.length;
  }
}

/** fsync on a folder, so that a rename into it survives a crash (not every system allows it: best effort). */
function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Writes a file atomically: the whole content to a temporary file in the same folder, fsync, then
 * rename. If anything fails (a full disk), the old file is untouched, the temporary file removed,
 * and a WriteError names the file and the free space.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  new WriteBatch().add(file, data).commit();
}

/**
 * Creates `file` with its whole content, or returns false if it exists: the content is written
 * whole to a temporary file and hard-linked into place (atomic and exclusive on local and network
 * file systems), so a process killed at any moment, or a full disk, never leaves a partial file.
 */
export function createExclusive(file: string, data: string): boolean {
  const tmp = tempName(file);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx');
  } catch (e) {
    throw writeError(file, e);
  }
  try {
    try {
      writeWhole(file, fd, Buffer.from(data, 'utf8'));
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw writeError(file, e);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
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
    // `<host>-<pid>-<ms>.<n>`, or `<host>-<pid>-<ms>` / `<pid>-<ms>` from earlier versions (this host).
    const m = /^(?:(.+)-)?(\d+)-(\d+)(?:\.\d+)?$/.exec(f.slice(i + TMP_MARK.length));
    if (!m) continue;
    const file = path.join(dir, f);
    const ownHost = m[1] === undefined || m[1] === host;
    let stale: boolean;
    try {
      stale = (ownHost && !processAlive(Number(m[2]))) || Date.now() - fs.statSync(file).mtimeMs > maxAgeMs;
    } catch {
      continue; // renamed into place or removed by its writer meanwhile
    }
    if (stale) {
      fs.rmSync(file, { force: true, recursive: true });
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
