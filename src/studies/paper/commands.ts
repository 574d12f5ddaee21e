/** The paper study's commands' work: Tables 1-6, Figures 1-4 and REPRODUCTION.md from a results store. */
import * as path from 'node:path';
import { checkOutputDir, checkOutputFile, writeFileAtomic } from '../../io/files';
import { warnRejected } from '../../records/store';
import { exportFigures } from '../../report/export';
import { paperFigures } from '../../report/figures';
import { printTables } from '../../report/frames';
import { allTables } from '../../report/tables';
import { finishedRuns, Opts, resultsToRead } from '../../runner/command';
import { checkPreset, ConfigError, PRESETS } from '../../settings/config';
import { loadReproductionInput } from './load';
import { reproductionReport } from './report';

export async function runTables(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  if (opts.csv !== undefined) checkOutputDir('--csv', opts.csv);
  const records = finishedRuns(opts.results, preset);
  console.log(`${records.length} results for preset ${preset} in ${opts.results}`);
  const files = printTables(allTables(records), opts.csv);
  if (files.length) console.log(`\nwrote ${files.join(', ')}`);
  return 0;
}

export async function runFigures(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const dir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', preset));
  const records = finishedRuns(opts.results, preset);
  const r = await exportFigures(paperFigures(records), dir, { log: (l) => console.log(l) });
  console.log(
    `wrote ${r.written.length} files to ${dir}${r.imagesSkipped ? `\nSVG/PNG/PDF skipped: ${r.imagesSkipped}` : ''}`,
  );
  return 0;
}

export async function runReproduction(opts: Opts): Promise<number> {
  const file = checkOutputFile('--report', opts.report!);
  const input = loadReproductionInput(resultsToRead(opts.results), 'figures', path.dirname(file));
  warnRejected(input.rejected ?? []);
  const n = Object.values(input.presets).reduce((a, r) => a + (r?.length ?? 0), 0);
  if (!n)
    throw new ConfigError(
      `--results: ${JSON.stringify(opts.results)} holds no finished run of any preset (${PRESETS.join(', ')}); ${file} was not rewritten`,
    );
  writeFileAtomic(file, reproductionReport(input) + '\n');
  console.log(`wrote ${file} from ${n} results in ${opts.results} (${input.ablations?.length ?? 0} ablation sweeps)`);
  return 0;
}
