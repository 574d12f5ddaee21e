/**
 * The loop a study that measures a store's runs again goes through (the measures and redundancy
 * studies): for each source record, its run of the study is skipped when the study says so, left
 * to another process that holds its lock, or made under the lock and written whole; a failure is
 * recorded and the next run taken, an interruption stops the loop (the lock released either way).
 */
import { formatDuration } from '../base/progress';
import { InterruptedError } from '../base/stop';
import { writeFileAtomic } from '../io/files';
import { RunLock, RunLockedError } from '../io/lock';
import type { RunRecord } from '../records/format';
import { runPaths } from '../records/store';
import type { PresetName } from '../settings/config';

/** What became of each run (`name` = '<task> seed <seed>'). */
export interface StudyRunsSummary {
  done: string[];
  skipped: string[];
  elsewhere: string[];
  failed: { file: string; error: string }[];
}

export function studyRuns<S extends StudyRunsSummary, R>(o: {
  sources: readonly RunRecord[];
  /** Where the study's records go (the study's own options carry these). */
  store: { out: string; preset: PresetName; lockStaleMinutes?: number };
  log: (line: string) => void;
  summary: S;
  /** The summary's list a run goes to without being made (e.g. 'skipped': already done), or null to make it. */
  skip: (rec: RunRecord, file: string) => { [K in keyof S]: S[K] extends string[] ? K : never }[keyof S] | null;
  /** Said after the run's name when it starts (e.g. ': measuring'). */
  starting?: string;
  make: (rec: RunRecord) => R;
  /** What the 'wrote <file>' line says after the file's name. */
  wrote: (record: R) => string;
}): S {
  const { log, summary } = o;
  const t0 = Date.now();
  o.sources.forEach((rec, i) => {
    const name = `${rec.task} seed ${rec.seed}`;
    const paths = runPaths(o.store.out, o.store.preset, rec.task, rec.seed);
    const skip = o.skip(rec, paths.results);
    if (skip) {
      (summary[skip] as string[]).push(name);
      return;
    }
    let lock: RunLock;
    try {
      lock = RunLock.acquire(paths.lock, { staleMinutes: o.store.lockStaleMinutes, onTakeover: log });
    } catch (e) {
      if (!(e instanceof RunLockedError)) throw e;
      log(`${name}: another process is on it (${e.message})`);
      summary.elsewhere.push(name);
      return;
    }
    try {
      log(`[${formatDuration(Date.now() - t0)}] ${name} (${i + 1}/${o.sources.length})${o.starting ?? ''}`);
      const record = o.make(rec);
      if (!lock.held()) throw new Error(`${paths.results}: not written: another process took the lock over`);
      writeFileAtomic(paths.results, JSON.stringify(record, null, 1));
      log(`[${formatDuration(Date.now() - t0)}] ${name}: wrote ${paths.results} ${o.wrote(record)}`);
      summary.done.push(name);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      log(`${name}: FAILED: ${(e as Error).message}`);
      summary.failed.push({ file: paths.results, error: (e as Error).message });
    } finally {
      lock.release();
    }
  });
  return summary;
}
