/** The complexity study's command's work: COMPLEXITY.md and its figures from the records of one or more stores. */
import * as path from 'node:path';
import { checkOutputDir, checkOutputFile } from '../../io/files';
import { initBackend } from '../../kernels/backend';
import { warnRejected } from '../../records/store';
import { writeReport } from '../../report/write';
import { Opts, resultsToRead } from '../../runner/command';
import { checkPreset, ConfigError } from '../../settings/config';
import { complexityFigures } from './figures';
import { loadStores } from './load';
import { complexityStudy } from './numbers';
import { complexityReport } from './report';

/** COMPLEXITY.md and its figures from the records of one or more stores. */
export async function runComplexityReport(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const file = checkOutputFile('--report', opts.report!);
  const figDir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'complexity'));
  const stores = opts.results
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of stores) resultsToRead(s);
  const { records, rejected, duplicates, folders } = loadStores(stores, preset);
  warnRejected(rejected);
  for (const d of duplicates) console.error(`note: ${d} is also in an earlier store: the earlier one is used`);
  if (!records.length)
    throw new ConfigError(
      `--results: ${stores.map((s) => JSON.stringify(s)).join(', ')} hold no finished run of preset ${preset} (in <store>/${preset}/ or <store>/<size>/${preset}/); ${file} was not rewritten`,
    );
  await initBackend(); // the measure registry names each measure's kind
  const study = complexityStudy(records);
  const r = await writeReport({
    file,
    figDir,
    figures: complexityFigures(study),
    // the folders as --results named them
    markdown: (figures) =>
      complexityReport(study, { figures, sources: folders.map((f) => f.split(path.sep).join('/')) }),
    log: (l) => console.log(l),
  });
  console.log(
    `wrote ${file} from ${records.length} records in ${folders.length} folders and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`,
  );
  return 0;
}
