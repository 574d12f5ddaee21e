/** The measures study's commands' work: every measure on the trained models (measures), and MEASURES.md (measures-report). */
import * as path from 'node:path';
import { checkMeasures, listMeasures } from '../../analysis/registry';
import { checkOutputDir, checkOutputFile } from '../../io/files';
import { describeBackend, initBackend } from '../../kernels/backend';
import { checkOneSettings, scanRecords, warnRejected } from '../../records/store';
import { writeReport } from '../../report/write';
import { Opts } from '../../runner/command';
import { parseLockStale } from '../../settings/typed';
import { checkPreset, ConfigError } from '../../settings/config';
import { measuresFigures } from './figures';
import { measuresStudy } from './numbers';
import { measuresReport } from './report';
import { runStudy } from './run';

/** The measures study over a preset's analysed runs (src/studies/measures/run.ts). */
export async function runMeasures(opts: Opts): Promise<number> {
  if (opts.list) {
    await initBackend();
    for (const m of listMeasures()) console.log(`${m.name.padEnd(22)}${m.kind.padEnd(8)}${m.description}`);
    return 0;
  }
  const preset = checkPreset(opts.preset);
  const measures =
    opts.measures === undefined
      ? undefined
      : opts.measures
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
  if (measures) checkMeasures(measures, '--measures');
  const out = checkOutputDir('--out', opts.out);
  const lockStaleMinutes = parseLockStale(opts);
  console.log(describeBackend(await initBackend()));
  const s = runStudy({ results: opts.results, preset, out, measures, noRetrain: opts['no-retrain'], lockStaleMinutes });
  console.log(
    `measures study, preset ${preset}: ${s.done.length} measured, ${s.skipped.length} already done, ${s.elsewhere.length} in progress elsewhere, ${s.untrained.length} left untrained (--no-retrain), ${s.failed.length} failed`,
  );
  for (const f of s.failed) console.error(`FAILED: ${f.file}: ${f.error}`);
  return s.failed.length ? 1 : 0;
}

/** MEASURES.md and its figures from the study's records. */
export async function runMeasuresReport(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const file = checkOutputFile('--report', opts.report!);
  const figDir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'measures'));
  const { records, rejected } = scanRecords(opts.study!, preset);
  warnRejected(rejected);
  checkOneSettings(path.join(opts.study!, preset), records);
  if (!records.length)
    throw new ConfigError(
      `--study: ${JSON.stringify(path.join(opts.study!, preset))} holds no record of the measures study (run gcg measures first); ${file} was not rewritten`,
    );
  await initBackend();
  const study = measuresStudy(records);
  const r = await writeReport({
    file,
    figDir,
    figures: measuresFigures(records, study),
    markdown: (figures) => measuresReport(study, { figures, source: opts.study }),
    log: (l) => console.log(l),
  });
  console.log(
    `wrote ${file} from ${records.length} records in ${opts.study} and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`,
  );
  return 0;
}
