/** A sweep's jobs in words, for --list: each job's index, size or replica, task, seed and state in the store. */
import * as fs from 'node:fs';
import { PresetName } from '../settings/config';
import { liveHolder } from '../io/lock';
import { inspectRecord, runPaths } from '../records/store';
import { configDiff } from '../records/format';
import { SweepJob } from './sweep';

/** Each job of the grid (each run of a batch, under its batch's number) with its state in the results folder (for --list): finished, partly done, in progress, or to do. */
export function describeJobs(units: readonly (readonly SweepJob[])[], preset: PresetName): string[] {
  return units
    .flatMap((b, index) => b.map((j) => ({ ...j, index })))
    .map((j) => {
      const p = runPaths(j.dir, preset, j.task, j.seed);
      const c = inspectRecord(p.results);
      const holder = liveHolder(p.lock);
      const state =
        c.status === 'ok'
          ? configDiff(c.record.config, j.cfg).length
            ? 'finished with other settings'
            : 'finished'
          : holder
            ? `in progress (${holder})`
            : fs.existsSync(p.partial) || fs.existsSync(p.checkpoint)
              ? 'partly done'
              : 'to do';
      return `${String(j.index).padStart(5)}  ${(j.size ?? j.group ?? '-').padEnd(8)} ${j.task.padEnd(10)} ${String(j.seed).padEnd(10)} ${state}`;
    });
}
