/**
 * The reproduction report's protocol sections: each analysis-side protocol difference's effect on
 * the same trained models, where Table 1 differs from the paper and what explains it, which
 * protocol the paper's numbers match, and the training-side ablation sweeps.
 */
import { configDiff, RunRecord } from '../store';
import { getTask } from '../tasks';
import { f2, f3, ivs, pct, table } from './markdown';
import { PAPER, PAPER_TASKS } from './paper';
import { PRESETS, ReproductionInput } from './reproduction-input';
import { bootstrap, inside, mean, sum } from './stats';
import { stddev } from './tables';
import { analysed, countsOf, finite, rhoOf, singleChanges, statOf, VariantStat } from './records';

function variantTable(rs: readonly RunRecord[], B: number): string {
  const out: string[] = [];
  const base = rs[0]?.config.analysis;
  if (!base || !rs.every((r) => r.analysis.variants)) return '';
  const rows = singleChanges(base);
  const baseKey = rows[0].key;
  for (const task of PAPER_TASKS) {
    const trs = analysed(rs, task);
    if (!trs.length) continue;
    const table_: (string | number)[][] = [];
    const baseStats = trs.map((r) => statOf(r, baseKey));
    for (const row of rows) {
      const st = trs.map((r) => statOf(r, row.key));
      if (st.some((s) => !s) || baseStats.some((s) => !s)) continue;
      const rhos = st.map((s) => s!.rho);
      const diffs = st.map((s, i) => s!.rho - baseStats[i]!.rho).filter(Number.isFinite);
      const dIv = bootstrap(diffs, mean, { resamples: B, seed: 13 });
      const same = row.own;
      table_.push([row.name, f3(mean(finite(rhos))), same ? '–' : `${f3(dIv.estimate)} ${ivs(dIv)}`, sum(st.map((s) => s!.heroes)), sum(st.map((s) => s!.bloats))]);
    }
    out.push(`##### ${getTask(task).label} (${trs.length} seeds)`, '', table(['analysis setting (one change from the preset)', 'mean rho', 'change in rho vs the preset, paired over seeds [95% CI]', 'Heroes', 'Bloats'], table_), '');
  }
  return out.join('\n');
}

/**
 * Where Table 1 differs from the paper, and by how much each recorded protocol difference moves it:
 * for each number outside our interval (mean rho, Hero total, Bloat total), every single
 * analysis-side change on the same models (its value, the share of the gap it closes, whether the
 * paper's value then lies inside the interval), and every training-side ablation sweep departing
 * from the preset (its change paired by seed on the seeds it retrained). Measured, not assumed.
 */
export function sectionGaps(input: ReproductionInput, B: number): string {
  const out = [
    '### Where Table 1 differs, and what explains it',
    '',
    'For each Table 1 number where the paper\'s value lies outside our interval: the gap, and what each protocol difference recorded here does to it, one at a time. Analysis-side changes are measured on the same models (every seed); "closes" is the share of the gap the change removes (over 100%: it overshoots; negative: it moves away from the paper), and "→ agrees" marks a change after which the paper\'s value lies inside our interval (a change that moves away can still agree when it widens the interval). Training-side changes come from the ablation sweeps below (3 seeds, paired by seed with the preset\'s own runs; class totals scaled to 10 seeds), so only large effects show. The last analysis-side entry applies every analysis-side difference at once (the other preset\'s analysis settings on the same models). Verdict: **explained** by a change (named) when it alone lands our number inside the interval, closing 50% to 150% of the gap; **partly** when changes move it toward the paper but none does that (too little, or overshooting); **not explained** when no recorded difference moves it toward the paper.',
    '',
  ];
  const rows: (string | number)[][] = [];
  type Metric = 'rho' | 'heroes' | 'bloats';
  const metricName: Record<Metric, string> = { rho: 'mean rho', heroes: 'Hero total', bloats: 'Bloat total' };
  const fmt = (m: Metric, x: number) => (m === 'rho' ? f3(x) : x.toFixed(1));
  const signed = (m: Metric, x: number) => (x >= 0 ? '+' : '') + fmt(m, x);
  for (const p of PRESETS) {
    const all = input.presets[p] ?? [];
    for (const task of PAPER_TASKS) {
      const rs = analysed(all, task).filter((r) => r.analysis.variants);
      if (rs.length < 2) continue;
      const base = rs[0].config.analysis;
      const changes = singleChanges(base);
      const scale = 10 / rs.length;
      // The statistic of one metric over seeds under one setting combination (totals scaled to 10 seeds).
      const statFn = (m: Metric) => (xs: readonly VariantStat[]) => (m === 'rho' ? mean(finite(xs.map((x) => x.rho))) : (sum(xs.map((x) => x[m])) * 10) / xs.length);
      const P = PAPER.table1[task];
      const paperValue: Record<Metric, number> = { rho: P.rhoMean, heroes: P.heroes, bloats: P.bloats };
      for (const m of ['rho', 'heroes', 'bloats'] as Metric[]) {
        const own = rs.map((r) => statOf(r, changes[0].key));
        if (own.some((x) => !x)) continue;
        // The same seeds as Table 1's intervals, so the two tables show the same interval.
        const ownIv = bootstrap(own as VariantStat[], statFn(m), { resamples: B, seed: { rho: 1, heroes: 3, bloats: 4 }[m] });
        const target = paperValue[m];
        if (inside(target, ownIv)) continue;
        const gap = target - ownIv.estimate; // what the change would have to add to reach the paper
        const effects: { text: string; share: number; agrees: boolean }[] = [];
        for (const c of changes.slice(1)) {
          const st = rs.map((r) => statOf(r, c.key));
          if (st.some((x) => !x)) continue;
          const iv = bootstrap(st as VariantStat[], statFn(m), { resamples: B, seed: 22 });
          const share = (iv.estimate - ownIv.estimate) / gap;
          if (Math.abs(iv.estimate - ownIv.estimate) < 1e-12) continue; // rank rule and threshold leave rho alone
          const agrees = inside(target, iv);
          effects.push({ text: `${c.name.replace(/ \(.*\)$/, '')}: ${fmt(m, iv.estimate)}, closes ${(100 * share).toFixed(0)}%${agrees ? ' → **agrees**' : ''}`, share, agrees });
        }
        effects.sort((a, b) => b.share - a.share);
        // Every analysis-side difference at once: the other preset's analysis settings on these models.
        const other = PRESETS.find((q) => q !== p)!;
        const oa = (input.presets[other] ?? [])[0]?.config.analysis;
        let together: { text: string; share: number; agrees: boolean } | null = null;
        if (oa) {
          const st = rs.map((r) => statOf(r, { headAblation: oa.headAblation, paired: oa.paired, evalSamples: oa.evalSamples, rankRule: oa.rankRule, inclusive: oa.inclusive }));
          if (st.every((x) => x)) {
            const iv = bootstrap(st as VariantStat[], statFn(m), { resamples: B, seed: 23 });
            const share = (iv.estimate - ownIv.estimate) / gap;
            together = { text: `all at once (the ${other} preset's analysis): ${fmt(m, iv.estimate)}, closes ${(100 * share).toFixed(0)}%${inside(target, iv) ? ' → **agrees**' : ''}`, share, agrees: inside(target, iv) };
          }
        }
        const training: { text: string; share: number }[] = [];
        for (const a of (input.ablations ?? []).filter((x) => x.preset === p)) {
          const pairs = a.records
            .filter((r) => r.task === task && r.analysis.status === 'analysed')
            .map((r) => ({ r, b: all.find((x) => x.task === task && x.seed === r.seed && x.analysis.status === 'analysed') }))
            .filter((x) => x.b);
          if (!pairs.length) continue;
          const d =
            m === 'rho'
              ? mean(finite(pairs.map((x) => rhoOf(x.r) - rhoOf(x.b!))))
              : (sum(pairs.map((x) => countsOf(x.r)[m] - countsOf(x.b!)[m])) * 10) / pairs.length;
          if (!Number.isFinite(d)) continue;
          training.push({ text: `${a.name} (${pairs.length} seed${pairs.length === 1 ? '' : 's'}): ${signed(m, d)}, closes ${((100 * d) / gap).toFixed(0)}%`, share: d / gap });
        }
        training.sort((a, b) => b.share - a.share);
        const anyToward = [...effects, ...training].some((e) => e.share > 0);
        // A change explains the gap when it lands our number inside the interval without overshooting
        // the paper's value by more than half the gap (a 3-seed interval can hold almost anything).
        const explains = (e: { share: number; agrees: boolean }) => e.agrees && e.share >= 0.5 && e.share <= 1.5;
        const by = [...effects, ...(together ? [together] : [])].filter(explains).map((e) => e.text.split(':')[0]);
        const verdict = by.length ? `**explained** by ${by.join('; or ')}` : anyToward || (together && together.share > 0) ? '**partly**' : '**not explained**';
        rows.push([
          p,
          getTask(task).label,
          metricName[m],
          fmt(m, target),
          `${fmt(m, ownIv.estimate)} ${ivs(ownIv, (x) => fmt(m, x))}${scale !== 1 && m !== 'rho' ? ` (scaled from ${rs.length} seeds)` : ''}`,
          signed(m, -gap),
          [...effects, ...(together ? [together] : [])].map((e) => e.text).join('; ') || '–',
          training.length ? training.map((e) => e.text).join('; ') : '–',
          verdict,
        ]);
      }
    }
  }
  if (!rows.length) out.push('Every Table 1 number of ours agrees with the paper\'s (or too few seeds to tell).', '');
  else out.push(table(['preset', 'task', 'number', 'paper', 'ours [CI]', 'ours − paper', 'analysis-side change (same models): value, share of the gap closed', 'training-side change (ablation sweeps): paired change, share closed', 'verdict'], rows), '');
  return out.join('\n');
}

/**
 * Every combination of the analysis-side settings that change C (head ablation, pairing,
 * evaluation size): mean rho per task with its interval and whether the paper's Table 1 value
 * lies inside; then Hero / Bloat totals under every rank rule and threshold form for the
 * combination the authors ran. Measured on the same models, so it says which protocol choices
 * reproduce the paper's numbers.
 */
export function sectionWhichProtocol(input: ReproductionInput, B: number): string {
  const out = ['### Which analysis protocol reproduces the paper\'s Table 1', ''];
  for (const p of PRESETS) {
    const rs = input.presets[p] ?? [];
    const byTask = PAPER_TASKS.map((t) => analysed(rs, t)).filter((x) => x.length && x.every((r) => r.analysis.variants));
    if (!byTask.length) continue;
    const combos = byTask[0][0].analysis.variants!.map((v) => ({ headAblation: v.headAblation, paired: v.paired, evalSamples: v.evalSamples }));
    const find = (r: RunRecord, c: (typeof combos)[number]) => r.analysis.variants!.find((v) => v.headAblation === c.headAblation && v.paired === c.paired && v.evalSamples === c.evalSamples);
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
    out.push(`#### ${p} preset's models: mean rho (paper: Reversal ${f3(PAPER.table1.reverse.rhoMean)}, Sorting ${f3(PAPER.table1.sort.rhoMean)})`, '', table(['head ablation, scoring, sequences', 'Reversal', 'Sorting'], rows), '');
    const authorsCombo = { headAblation: 'after-WO-slice' as const, paired: false, evalSamples: 100 };
    const crow: (string | number)[][] = [];
    for (const rankRule of ['average', 'ordinal-random', 'ordinal-order'] as const) {
      for (const inclusive of [false, true]) {
        const row: (string | number)[] = [`${rankRule}, ${inclusive ? 'inclusive (>= 6)' : 'strict (> 6)'}`];
        for (const task of PAPER_TASKS) {
          const cs = analysed(rs, task).map((r) => find(r, authorsCombo)?.classifications.find((x) => x.rankRule === rankRule && x.inclusive === inclusive));
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
    'Every results file records C, rho and the classes of its model under every analysis-side difference between the paper\'s text and the authors\' code (`analysis.variants`); the G scores are shared. Each row changes one setting from the preset\'s own; the rho change is paired by seed. With random tie-breaking the class counts are one seeded draw.',
    '',
  ];
  for (const p of PRESETS) {
    const rs = input.presets[p] ?? [];
    const t = variantTable(rs, B);
    if (t) out.push(`#### ${p} preset`, '', t);
  }
  out.push(sectionWhichProtocol(input, B));
  // Noise floor.
  out.push('### The noise floor: the same models, evaluation sequences redrawn', '', 'Each run recomputes G, the ablation means and C on freshly drawn sequences (`analysis.redraws`, default 2) with its own settings. The spread below is what sampling alone does; a protocol difference smaller than it is not measurable with these sample sizes.', '');
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
      const sdWithin = mean(trs.map((r) => stddev([rhoOf(r), ...r.analysis.redraws!.map((d) => d.rho)], 1)).filter(Number.isFinite));
      nrows.push([p, getTask(task).label, trs.length, f3(mean(dRho)), f3(Math.max(...dRho)), f3(sdWithin), pct(changed / compared), f2(mean(dH)), f2(mean(dB))]);
    }
  }
  out.push(nrows.length ? table(['preset', 'task', 'seeds', 'mean abs change in rho', 'largest', 'within-model sd of rho', 'components whose class changes', 'mean abs change in Heroes', 'in Bloats'], nrows) : 'No results with redraws yet.', '');
  // Training side.
  out.push(
    '### Training side (retrained models)',
    '',
    'Training-side differences (initialisation, batch layout / padding, stopping rule, positional embedding) need retraining; each is a sweep of its own under `results/ablations/<name>/` (`bash scripts/ablations.sh [name ...]` runs them: 3 seeds per task, one setting changed from a preset). Compared with the preset\'s own runs on the same seeds:',
    '',
  );
  const abl = input.ablations ?? [];
  if (!abl.length) out.push('None run yet.', '');
  const arows: (string | number)[][] = [];
  for (const a of abl) {
    const baseRs = input.presets[a.preset] ?? [];
    const diff = (a.records.length && baseRs.length ? configDiff(baseRs[0].config, a.records[0].config) : []).filter((k) => !k.startsWith('analysis.'));
    const setting = diff.map((k) => `${k}=${JSON.stringify(k.split('.').reduce<unknown>((o, kk) => (o as Record<string, unknown>)[kk], a.records[0].config))}`).join(', ');
    for (const task of PAPER_TASKS) {
      const rs = a.records.filter((r) => r.task === task);
      if (!rs.length) continue;
      const ok = rs.filter((r) => r.analysis.status === 'analysed');
      const pairs = ok.map((r) => ({ r, b: baseRs.find((x) => x.task === task && x.seed === r.seed && x.analysis.status === 'analysed') })).filter((x) => x.b);
      const dRho = pairs.map((x) => rhoOf(x.r) - rhoOf(x.b!)).filter(Number.isFinite);
      const iv = bootstrap(dRho, mean, { resamples: B, seed: 14 });
      // The preset's own runs on the same seeds, for the side-by-side columns.
      const same = baseRs.filter((x) => x.task === task && rs.some((r) => r.seed === x.seed));
      const sameOk = same.filter((x) => x.analysis.status === 'analysed');
      const classes = (xs: RunRecord[]) => (xs.length ? `${sum(xs.map((r) => countsOf(r).heroes))} / ${sum(xs.map((r) => countsOf(r).bloats))}` : '–');
      const meanRho = (xs: RunRecord[]) => (xs.length ? f3(mean(finite(xs.map(rhoOf)))) : '–');
      const sideBySide = (ours: string, theirs: string) => (same.length ? `${ours} (preset: ${theirs})` : ours);
      arows.push([
        a.name,
        `${a.preset} + ${setting || '(no difference found)'}`,
        getTask(task).label,
        `${rs.length} (${rs.map((r) => r.seed).join(', ')})`,
        sideBySide(`${ok.length}/${rs.length}`, `${sameOk.length}/${same.length}`),
        sideBySide(String(Math.round(mean(rs.map((r) => r.training.steps)))), same.length ? String(Math.round(mean(same.map((r) => r.training.steps)))) : '–'),
        sideBySide(ok.length ? meanRho(ok) : '–', meanRho(sameOk)),
        pairs.length ? `${f3(iv.estimate)} ${ivs(iv)}; per seed ${dRho.map((d) => (d >= 0 ? '+' : '') + f3(d)).join(', ')}` : '–',
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
    const lengths = [...new Set(skipped.flatMap((r) => Object.keys(r.analysis.ood.accuracies).map(Number)))].sort((x, y) => x - y);
    const best = lengths.map((n) => `N=${n}: ${pct(Math.max(...skipped.map((r) => r.analysis.ood.accuracies[n] ?? NaN).filter(Number.isFinite)))}`).join(', ');
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
      table(['sweep', 'settings', 'task', 'seeds', 'with an OOD length', 'mean steps', 'mean rho', 'rho change vs preset (paired by seed) [CI]', 'Heroes / Bloats'], arows),
      '',
      'In brackets: the preset\'s own runs on the same seeds. A retrained model shares only its seed with the preset\'s run (any training change sends training down another path), so the paired change carries the seed-to-seed spread of rho (Table 1\'s sd) and, with 3 seeds, only a large effect shows: a bootstrap over 3 numbers cannot leave their range, so read its interval as the spread of the per-seed changes beside it, not as a 95% interval. Ablation runs record rho and classes without the protocol variants and redraws (`analysis.variants=false`, `analysis.redraws=0`); the primary analysis draws its sequences from its own named random streams, so its numbers do not depend on those settings.',
      '',
    );
  }
  if (noOod.length) out.push('Runs without an OOD length:', '', ...noOod, '');
  return out.join('\n');
}
