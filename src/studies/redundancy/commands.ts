/** The redundancy study's commands' work: the records (redundancy) and REDUNDANCY.md (redundancy-report). */
import * as path from 'node:path';
import { checkOutputDir, checkOutputFile } from '../../io/files';
import { writeReport } from '../../report/write';
import { ConfigError } from '../../settings/config';
import { redundancyFigures } from './figures';
import { redundancyNumbers } from './numbers';
import { redundancyReport } from './report';
import { loadRedundancyInput } from './load';
import { describeBackend, initBackend } from '../../kernels/backend';
import { Opts, parseTasks, resultsToRead } from '../../runner/command';
import { parseInt1, parseIntList, parseLockStale } from '../../settings/typed';
import { checkPreset } from '../../settings/config';
import { runRedundancy } from './run';

/** The redundancy study over a preset's analysed runs (run.ts). */
export async function runRedundancyStudy(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const tasks = parseTasks(opts.tasks);
  const seeds = opts.seeds ? parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1) : undefined;
  const settings = {
    nullDraws: parseInt1('--draws', String(opts.draws), 1, 100_000),
    permutations: parseInt1('--permutations', String(opts.permutations), 1, 100_000),
  };
  const results = resultsToRead(opts.results);
  const out = checkOutputDir('--out', opts.out);
  const lockStaleMinutes = parseLockStale(opts);
  console.log(describeBackend(await initBackend()));
  const s = runRedundancy({ results, preset, tasks, seeds, out, settings, lockStaleMinutes });
  console.log(
    `redundancy study, preset ${preset}: ${s.done.length} done, ${s.skipped.length} already done, ${s.elsewhere.length} in progress elsewhere, ${s.failed.length} failed`,
  );
  for (const f of s.failed) console.error(`FAILED: ${f.file}: ${f.error}`);
  return s.failed.length ? 1 : 0;
}

/** REDUNDANCY.md and figures/redundancy/ (the redundancy-report command). */
export async function runRedundancyReport(opts: Opts): Promise<number> {
  const o = {
    results: opts.results,
    study: opts.study!,
    file: checkOutputFile('--report', opts.report!),
    figDir: checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'redundancy')),
  };
  const { records, rejected, stores, replicas } = loadRedundancyInput(o.results, o.study);
  for (const r of rejected) console.error(`not read: ${r}`);
  if (!records.length && !stores.length)
    throw new ConfigError(
      `--study: ${JSON.stringify(o.study)} holds no redundancy record and --results ${JSON.stringify(o.results)} no results store; ${o.file} was not rewritten`,
    );
  await initBackend();
  const s = redundancyNumbers(records, stores, replicas);
  const r = await writeReport({
    file: o.file,
    figDir: o.figDir,
    figures: redundancyFigures(s),
    markdown: (figures) => redundancyReport(s, stores, figures, o.study),
    log: (l) => console.log(l),
  });
  console.log(
    `wrote ${o.file} from ${records.length} records in ${o.study} and ${r.written.length} figure files to ${o.figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`,
  );
  return 0;
}
