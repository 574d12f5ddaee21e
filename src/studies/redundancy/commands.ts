/** The redundancy study's commands' work: the records (redundancy) and REDUNDANCY.md (redundancy-report). */
import { checkOutputDir } from '../../io/files';
import { describeBackend, initBackend } from '../../kernels/backend';
import { Opts, resultsToRead } from '../../runner/command';
import { parseInt1, parseLockStale } from '../../settings/typed';
import { checkPreset } from '../../settings/config';
import { runRedundancy } from './run';

/** The redundancy study over a preset's analysed runs (run.ts). */
export async function runRedundancyStudy(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const settings = {
    nullDraws: parseInt1('--draws', String(opts.draws), 1, 100_000),
    permutations: parseInt1('--permutations', String(opts.permutations), 1, 100_000),
  };
  const results = resultsToRead(opts.results);
  const out = checkOutputDir('--out', opts.out);
  const lockStaleMinutes = parseLockStale(opts);
  console.log(describeBackend(await initBackend()));
  const s = runRedundancy({ results, preset, out, settings, lockStaleMinutes });
  console.log(
    `redundancy study, preset ${preset}: ${s.done.length} done, ${s.skipped.length} already done, ${s.elsewhere.length} in progress elsewhere, ${s.failed.length} failed`,
  );
  for (const f of s.failed) console.error(`FAILED: ${f.file}: ${f.error}`);
  return s.failed.length ? 1 : 0;
}
