/** `gcg findings`: docs/findings.md from the records of every study (load, compute as each report does, write). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOutputFile, writeFileAtomic } from '../../io/files';
import { warnRejected } from '../../records/store';
import { Opts, resultsToRead } from '../../runner/command';
import { ConfigError } from '../../settings/config';
import { loadReproductionInput } from '../paper/load';
import { loadRedundancyInput } from '../redundancy/load';
import { redundancyNumbers } from '../redundancy/numbers';
import { loadStability } from '../stability/load';
import { stabilityStudy } from '../stability/numbers';
import { findingsReport, FindingsInput } from './report';

export async function runFindings(opts: Opts): Promise<number> {
  const file = checkOutputFile('--report', opts.report!);
  const results = resultsToRead(opts.results);
  const repro = loadReproductionInput(results);
  warnRejected(repro.rejected ?? []);
  const stores = (['paper', 'authors'] as const)
    .map((p) => ({ label: `${p} preset`, preset: p, records: repro.presets[p] ?? [] }))
    .filter((s) => s.records.length);
  if (!stores.length)
    throw new ConfigError(
      `--results: ${JSON.stringify(opts.results)} holds no finished run of the paper or authors preset; ${file} was not rewritten`,
    );
  const red = loadRedundancyInput(results, opts.study!);
  for (const r of red.rejected) console.error(`not read: ${r}`);
  const stabDir = path.join(results, 'stability');
  let stability: FindingsInput['stability'] = null;
  if (fs.existsSync(stabDir)) {
    const st = loadStability(stabDir, 'paper', null);
    warnRejected(st.rejected);
    if (st.input.runs.length) stability = stabilityStudy(st.input);
  }
  const input: FindingsInput = {
    stores,
    stability,
    redundancy: red.records.length ? redundancyNumbers(red.records, red.stores, red.replicas) : null,
    redundancyStores: red.stores,
  };
  const up = path
    .relative(path.resolve(path.dirname(file)), path.resolve('.'))
    .split(path.sep)
    .join('/');
  writeFileAtomic(file, findingsReport(input, up) + '\n');
  console.log(
    `wrote ${file} from ${stores.map((s) => `${s.records.length} ${s.label} runs`).join(', ')}, ${stability ? 'the stability study' : 'no stability study'} and ${red.records.length} redundancy records`,
  );
  return 0;
}
