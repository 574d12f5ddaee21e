/** The stability study's commands' work: its grid of replicas run as a sweep (stability), and STABILITY.md (stability-report). */
import * as path from 'node:path';
import { checkOutputDir, checkOutputFile, checkReadableDir } from '../../io/files';
import { initBackend } from '../../kernels/backend';
import { warnRejected } from '../../records/store';
import { writeReport } from '../../report/write';
import { Opts } from '../../runner/command';
import { parseInt1 } from '../../settings/typed';
import { runSweep } from '../../runner/sweep-command';
import { checkPreset, ConfigError } from '../../settings/config';
import { stabilityFigures } from './figures';
import { loadStability } from './load';
import { stabilityStudy } from './numbers';
import { stabilityReport } from './report';
import { checkStudyKernels, stabilityJobs } from './run';

/** `stability`: for each task and seed, the replicas beside the seed's own run, as a sweep (src/studies/stability/run.ts). */
export function runStability(opts: Opts): Promise<number> {
  return runSweep(opts, {
    command: 'stability',
    unit: 'replica',
    gridName: 'replicas x tasks x seeds',
    jobs: (grid, o) => stabilityJobs({ ...grid, replicas: parseInt1('--replicas', o.replicas ?? '', 1, 1000) }),
    checkKernels: checkStudyKernels,
  });
}

/** STABILITY.md and its figures from the stability study's records (and the kernels store's, part a). */
export async function runStabilityReport(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const file = checkOutputFile('--report', opts.report!);
  const figDir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'stability'));
  const study = opts.study!;
  checkReadableDir('--study', study);
  const kernels = opts.kernels === '' || opts.kernels === undefined ? null : opts.kernels;
  if (kernels) checkReadableDir('--kernels', kernels);
  const { input, rejected, notes } = loadStability(study, preset, kernels);
  warnRejected(rejected);
  for (const n of notes) console.error(`note: ${n}`);
  if (!input.runs.length)
    throw new ConfigError(
      `--study: ${JSON.stringify(study)} holds no record of the stability study (in <study>/<replica>/${preset}/; run gcg stability first); ${file} was not rewritten`,
    );
  await initBackend();
  const s = stabilityStudy(input);
  const r = await writeReport({
    file,
    figDir,
    figures: stabilityFigures(s),
    markdown: (figures) =>
      stabilityReport(s, {
        figures,
        source: study.split(path.sep).join('/'),
        kernelsSource: kernels && input.kernelRuns.length ? kernels.split(path.sep).join('/') : null,
      }),
    log: (l) => console.log(l),
  });
  console.log(
    `wrote ${file} from ${input.runs.length} records in ${study}${input.kernelRuns.length ? ` and ${input.kernelRuns.length} in ${kernels}` : ''}, and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`,
  );
  return 0;
}
