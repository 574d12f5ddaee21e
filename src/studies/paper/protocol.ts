/**
 * The reproduction report's protocol sections: each analysis-side protocol difference's effect on
 * the same trained models, where Table 1 differs from the paper and what explains it, which
 * protocol the paper's numbers match, and the training-side ablation sweeps.
 */
import { configDiff, RunRecord } from '../../records/format';
import { getTask, PAPER_TASKS } from '../../tasks';
import { f2, f3, ivs, pct, table } from '../../report/markdown';
import { PAPER } from '../../report/paper';
import { PRESETS, ReproductionInput } from './numbers';
import { bootstrap, inside, mean, sum } from '../../report/stats';
import { stddev } from '../../report/tables';
import { analysed, countsOf, finite, rhoOf } from '../../report/records';
import { variantTable } from './gaps';
/**
 * Every combination of the analysis-side settings that change C (head ablation, pairing,
 * evaluation size): mean rho per task with its interval and whether the paper's Table 1 value
 * lies inside; then Hero / Bloat totals under every rank rule and threshold form for the
 * combination the authors ran. Measured on the same models, so it says which protocol choices
 * reproduce the paper's numbers.
 */
export function sectionWhichProtocol(input: ReproductionInput, B: number): string {
  const out = ["### Which analysis protocol reproduces the paper's Table 1", ''];
  for (const p of PRESETS) {
    const rs = input.presets[p] ?? [];
    const byTask = PAPER_TASKS.map((t) => analysed(rs, t)).filter(
      (x) => x.length && x.every((r) => r.analysis.variants),
    );
    if (!byTask.length) continue;
    const combos = byTask[0][0].analysis.variants!.map((v) => ({
      headAblation: v.headAblation,
      paired: v.paired,
      evalSamples: v.evalSamples,
    }));
    const find = (r: RunRecord, c: (typeof combos)[number]) =>
      r.analysis.variants!.find(
        (v) => v.headAblation === c.headAblation && v.paired === c.paired && v.evalSamples === c.evalSamples,
      );
    const rows: (string | number)[][] = combos.map((c) => {
      const row: (string | number)[] = [`${c.headAblation}, ${c.paired ? 'paired' : 'unpaired'}, ${c.evalSamples}`];
      for (const task of PAPER_TASKS) {
        const trs = analysed(rs, task);
        const rhos = finite(trs.map((r) => find(r, c)?.rho ?? NaN));
        if (!rhos.length) {
          row.push('–');
          continue;
        }
        const iv = bootstrap(rhos, mean, { resamples: B, seed: 15 });
        row.push(`${f3(iv.estimate)} ${ivs(iv)} ${inside(PAPER.table1[task].rhoMean, iv) ? '**agrees**' : ''}`);
      }
      return row;
    });
    out.push(
      `#### ${p} preset's models: mean rho (paper: Reversal ${f3(PAPER.table1.reverse.rhoMean)}, Sorting ${f3(PAPER.table1.sort.rhoMean)})`,
      '',
      table(['head ablation, scoring, sequences', 'Reversal', 'Sorting'], rows),
      '',
    );
    const authorsCombo = { headAblation: 'after-WO-slice' as const, paired: false, evalSamples: 100 };
    const crow: (string | number)[][] = [];
    for (const rankRule of ['average', 'ordinal-random', 'ordinal-order'] as const) {
      for (const inclusive of [false, true]) {
        const row: (string | number)[] = [`${rankRule}, ${inclusive ? 'inclusive (>= 6)' : 'strict (> 6)'}`];
        for (const task of PAPER_TASKS) {
          const cs = analysed(rs, task).map((r) =>
            find(r, authorsCombo)?.classifications.find((x) => x.rankRule === rankRule && x.inclusive === inclusive),
          );
          if (!cs.length || cs.some((x) => !x)) {
            row.push('–');
            continue;
          }
          row.push(`${sum(cs.map((x) => x!.heroes))} / ${sum(cs.map((x) => x!.bloats))}`);
        }
        crow.push(row);
      }
    }
    out.push(
      `Hero / Bloat totals on the ${p} preset's models under the authors' C (after-W_O slice, unpaired, 100 sequences), by rank rule (paper: Reversal 7 / 17, Sorting 33 / 36):`,
      '',
      table(['rank rule, threshold', 'Reversal', 'Sorting'], crow),
      '',
    );
  }
  return out.join('\n');
}

export function sectionProtocol(input: ReproductionInput, B: number): string {
  const out = [
    '## Protocol differences, one at a time',
    '',
    '### Analysis side (same trained models)',
    '',
    "Every results file records C, rho and the classes of its model under every analysis-side difference between the paper's text and the authors' code (`analysis.variants`); the G scores are shared. Each row changes one setting from the preset's own; the rho change is paired by seed. With random tie-breaking the class counts are one seeded draw.",
    '',
  ];
  for (const p of PRESETS) {
    const rs = input.presets[p] ?? [];
    const t = variantTable(rs, B);
    if (t) out.push(`#### ${p} preset`, '', t);
  }
  out.push(sectionWhichProtocol(input, B));
  // Noise floor.
  out.push(
    '### The noise floor: the same models, evaluation sequences redrawn',
    '',
    'Each run recomputes G, the ablation means and C on freshly drawn sequences (`analysis.redraws`, default 2) with its own settings. The spread below is what sampling alone does; a protocol difference smaller than it is not measurable with these sample sizes.',
    '',
  );
  const nrows: (string | number)[][] = [];
  for (const p of PRESETS) {
    for (const task of PAPER_TASKS) {
      const trs = analysed(input.presets[p] ?? [], task).filter((r) => r.analysis.redraws?.length);
      if (!trs.length) continue;
      const dRho: number[] = [];
      let changed = 0;
      let compared = 0;
      const dH: number[] = [];
      const dB: number[] = [];
      for (const r of trs) {
        const own = r.analysis.classification!;
        for (const d of r.analysis.redraws!) {
          if (Number.isFinite(d.rho) && Number.isFinite(own.rho)) dRho.push(Math.abs(d.rho - own.rho));
          d.classes.forEach((c, i) => {
            compared++;
            if (c !== own.classes[i]) changed++;
          });
          dH.push(Math.abs(d.heroes - own.counts.heroes));
          dB.push(Math.abs(d.bloats - own.counts.bloats));
        }
      }
      const sdWithin = mean(
        trs.map((r) => stddev([rhoOf(r), ...r.analysis.redraws!.map((d) => d.rho)], 1)).filter(Number.isFinite),
      );
      nrows.push([
        p,
        getTask(task).label,
        trs.length,
        f3(mean(dRho)),
        f3(Math.max(...dRho)),
        f3(sdWithin),
        pct(changed / compared),
        f2(mean(dH)),
        f2(mean(dB)),
      ]);
    }
  }
  out.push(
    nrows.length
      ? table(
          [
            'preset',
            'task',
            'seeds',
            'mean abs change in rho',
            'largest',
            'within-model sd of rho',
            'components whose class changes',
            'mean abs change in Heroes',
            'in Bloats',
          ],
          nrows,
        )
      : 'No results with redraws yet.',
    '',
  );
  // Training side.
  out.push(
    '### Training side (retrained models)',
    '',
    "Training-side differences (initialisation, batch layout / padding, stopping rule, positional embedding) need retraining; each is a sweep of its own under `results/ablations/<name>/` (`bash scripts/ablations.sh [name ...]` runs them: 3 seeds per task, one setting changed from a preset). Compared with the preset's own runs on the same seeds:",
    '',
  );
  const abl = input.ablations ?? [];
  if (!abl.length) out.push('None run yet.', '');
  const arows: (string | number)[][] = [];
  for (const a of abl) {
    const baseRs = input.presets[a.preset] ?? [];
    const diff = (a.records.length && baseRs.length ? configDiff(baseRs[0].config, a.records[0].config) : []).filter(
      (k) => !k.startsWith('analysis.'),
    );
    const setting = diff
      .map(
        (k) =>
          `${k}=${JSON.stringify(k.split('.').reduce<unknown>((o, kk) => (o as Record<string, unknown>)[kk], a.records[0].config))}`,
      )
      .join(', ');
    for (const task of PAPER_TASKS) {
      const rs = a.records.filter((r) => r.task === task);
      if (!rs.length) continue;
      const ok = rs.filter((r) => r.analysis.status === 'analysed');
      const pairs = ok
        .map((r) => ({
          r,
          b: baseRs.find((x) => x.task === task && x.seed === r.seed && x.analysis.status === 'analysed'),
        }))
        .filter((x) => x.b);
      const dRho = pairs.map((x) => rhoOf(x.r) - rhoOf(x.b!)).filter(Number.isFinite);
      const iv = bootstrap(dRho, mean, { resamples: B, seed: 14 });
      // The preset's own runs on the same seeds, for the side-by-side columns.
      const same = baseRs.filter((x) => x.task === task && rs.some((r) => r.seed === x.seed));
      const sameOk = same.filter((x) => x.analysis.status === 'analysed');
      const classes = (xs: RunRecord[]) =>
        xs.length ? `${sum(xs.map((r) => countsOf(r).heroes))} / ${sum(xs.map((r) => countsOf(r).bloats))}` : '–';
      const meanRho = (xs: RunRecord[]) => (xs.length ? f3(mean(finite(xs.map(rhoOf)))) : '–');
      const sideBySide = (ours: string, theirs: string) => (same.length ? `${ours} (preset: ${theirs})` : ours);
      arows.push([
        a.name,
        `${a.preset} + ${setting || '(no difference found)'}`,
        getTask(task).label,
        `${rs.length} (${rs.map((r) => r.seed).join(', ')})`,
        sideBySide(`${ok.length}/${rs.length}`, `${sameOk.length}/${same.length}`),
        sideBySide(
          String(Math.round(mean(rs.map((r) => r.training.steps)))),
          same.length ? String(Math.round(mean(same.map((r) => r.training.steps)))) : '–',
        ),
        sideBySide(ok.length ? meanRho(ok) : '–', meanRho(sameOk)),
        pairs.length
          ? `${f3(iv.estimate)} ${ivs(iv)}; per seed ${dRho.map((d) => (d >= 0 ? '+' : '') + f3(d)).join(', ')}`
          : '–',
        sideBySide(ok.length ? classes(ok) : '–', classes(sameOk)),
      ]);
    }
  }
  // Runs without an OOD length say why: their exact match at each candidate length (the issue's
  // question for the positional scheme: how many learned-position runs find a valid OOD length).
  const noOod: string[] = [];
  for (const a of abl) {
    const skipped = a.records.filter((r) => r.analysis.status !== 'analysed' && r.analysis.ood?.length === null);
    if (!skipped.length) continue;
    const range = skipped[0].analysis.ood.range;
    const lengths = [...new Set(skipped.flatMap((r) => Object.keys(r.analysis.ood.accuracies).map(Number)))].sort(
      (x, y) => x - y,
    );
    const best = lengths
      .map(
        (n) =>
          `N=${n}: ${pct(Math.max(...skipped.map((r) => r.analysis.ood.accuracies[n] ?? NaN).filter(Number.isFinite)))}`,
      )
      .join(', ');
    const reached = skipped.filter((r) => r.training.reachedTarget).length;
    const steps = skipped.map((r) => r.training.steps);
    noOod.push(
      `- \`${a.name}\`: ${a.records.length - skipped.length} of ${a.records.length} runs have an OOD length (exact match in [${pct(range[0])}, ${pct(range[1])}] at some N). ` +
        `${skipped.length === a.records.length ? `All ${skipped.length}` : `The other ${skipped.length}`} reached the training target in ${reached} of ${skipped.length} cases (${Math.min(...steps) === Math.max(...steps) ? steps[0] : `${Math.min(...steps)}-${Math.max(...steps)}`} steps), ` +
        `yet their best exact match at each length (over those runs) is ${best}: no length to analyse, so they have no rho.`,
    );
  }
  if (arows.length) {
    out.push(
      table(
        [
          'sweep',
          'settings',
          'task',
          'seeds',
          'with an OOD length',
          'mean steps',
          'mean rho',
          'rho change vs preset (paired by seed) [CI]',
          'Heroes / Bloats',
        ],
        arows,
      ),
      '',
      "In brackets: the preset's own runs on the same seeds. A retrained model shares only its seed with the preset's run (any training change sends training down another path), so the paired change carries the seed-to-seed spread of rho (Table 1's sd) and, with 3 seeds, only a large effect shows: a bootstrap over 3 numbers cannot leave their range, so read its interval as the spread of the per-seed changes beside it, not as a 95% interval. Ablation runs record rho and classes without the protocol variants and redraws (`analysis.variants=false`, `analysis.redraws=0`); the primary analysis draws its sequences from its own named random streams, so its numbers do not depend on those settings.",
      '',
    );
  }
  if (noOod.length) out.push('Runs without an OOD length:', '', ...noOod, '');
  return out.join('\n');
}
