/** The reproduction report's sections on the paper's Tables 1, 2, 3 and 6 and the per-seed table, ours beside the paper's, with bootstrap intervals. */
import type { PresetName } from '../../settings/config';
import type { TaskName } from '../../tasks';
import { getTask, PAPER_TASKS } from '../../tasks';
import { agree, f2, f3, ivs, pct, pts, table } from '../../report/markdown';
import { PAPER, PAPER_DERIVED } from '../../report/paper';
import { PRESETS, ReproductionInput } from './numbers';
import { bootstrap, mean, sum } from '../../report/stats';
import { stddev, table1, table2, table6 } from '../../report/tables';
import { analysed, countsOf, finite, layerOf, rhoOf } from '../../report/records';

export function sectionTable1(input: ReproductionInput, B: number): string {
  const out = ['## Table 1: gradient-causal alignment', ''];
  for (const task of PAPER_TASKS) {
    const P = PAPER.table1[task];
    const rows: (string | number)[][] = [
      [`paper`, 10, f3(P.rhoMean), f3(P.rhoStd), `[${f2(P.rhoMin)}, ${f2(P.rhoMax)}]`, P.heroes, P.bloats],
    ];
    const verdicts: string[] = [];
    for (const p of PRESETS) {
      const rs = analysed(input.presets[p] ?? [], task);
      if (!rs.length) continue;
      const rhos = finite(rs.map(rhoOf));
      const t1 = table1(rs)[0];
      const mIv = bootstrap(rhos, mean, { resamples: B, seed: 1 });
      const sIv = bootstrap(rhos, (x) => stddev(x as number[], 0), { resamples: B, seed: 2 });
      const hIv = bootstrap(rs, (x) => sum(x.map((r) => countsOf(r).heroes)), { resamples: B, seed: 3 });
      const bIv = bootstrap(rs, (x) => sum(x.map((r) => countsOf(r).bloats)), { resamples: B, seed: 4 });
      // Totals over 10 seeds: scale to 10 when fewer seeds were analysed, so they compare with the paper's.
      const scale = 10 / rs.length;
      const exp = t1.expectedHeroes !== null ? ` (expected over tie draws ${f2(t1.expectedHeroes)})` : '';
      const expB = t1.expectedBloats !== null ? ` (expected ${f2(t1.expectedBloats)})` : '';
      rows.push([
        `ours, ${p} preset`,
        `${rs.length}${t1.skipped ? ` (+${t1.skipped} skipped)` : ''}`,
        `${f3(mIv.estimate)} ${ivs(mIv)}`,
        `${f3(sIv.estimate)} ${ivs(sIv)}`,
        `[${f2(t1.rhoMin)}, ${f2(t1.rhoMax)}]`,
        `${t1.heroes}${exp} ${ivs(hIv, (x) => x.toFixed(0))}`,
        `${t1.bloats}${expB} ${ivs(bIv, (x) => x.toFixed(0))}`,
      ]);
      const hScaled = { ...hIv, lo: hIv.lo * scale, hi: hIv.hi * scale };
      const bScaled = { ...bIv, lo: bIv.lo * scale, hi: bIv.hi * scale };
      verdicts.push(
        `- ${p} preset, ${getTask(task).label}: mean rho ${agree(P.rhoMean, mIv)} (paper ${f3(P.rhoMean)}, ours ${f3(mIv.estimate)} ${ivs(mIv)}); sd ${agree(P.rhoStd, sIv)}; Hero total ${agree(P.heroes, hScaled)}; Bloat total ${agree(P.bloats, bScaled)}${rs.length !== 10 ? ` (totals scaled to 10 seeds from ${rs.length})` : ''}.`,
      );
    }
    out.push(
      `### ${getTask(task).label}`,
      '',
      table(
        [
          '',
          'seeds',
          'rho mean [95% CI]',
          'rho sd (population) [CI]',
          'rho range',
          'Hero total [CI]',
          'Bloat total [CI]',
        ],
        rows,
      ),
      '',
      ...verdicts,
      '',
    );
  }
  return out.join('\n');
}

export function sectionSeeds(input: ReproductionInput): string {
  const out = [
    '## Tables 4 and 5 (and Figure 4): seed by seed',
    '',
    'OOD length N, exact match at N, rho, Heroes / Bloats, and training steps to 90% (the paper gives no steps). "–": no OOD length with accuracy in [20%, 75%] (the run is skipped, as the paper skips sorting seed 3030 in Table 6).',
    '',
  ];
  for (const task of ['sort', 'reverse'] as TaskName[]) {
    const rows: (string | number)[][] = [];
    for (const seed of PAPER.seedList) {
      const P = PAPER.seeds[task].find((s) => s.seed === seed)!;
      const row: (string | number)[] = [
        seed,
        `${P.oodLength} / ${pct(P.oodAcc)} / ${f3(P.rho)} / ${P.heroes}-${P.bloats}`,
      ];
      for (const p of PRESETS) {
        const r = (input.presets[p] ?? []).find((x) => x.task === task && x.seed === seed);
        if (!r) row.push('not run yet');
        else if (r.analysis.status !== 'analysed')
          row.push(
            `– (N=8..11: ${Object.values(r.analysis.ood.accuracies)
              .map((a) => pct(a))
              .join(', ')}) / ${r.training.steps} steps`,
          );
        else {
          const n = r.analysis.ood.length!;
          row.push(
            `${n} / ${pct(r.analysis.ood.accuracies[n])} / ${f3(rhoOf(r))} / ${countsOf(r).heroes}-${countsOf(r).bloats} / ${r.training.steps}`,
          );
        }
      }
      rows.push(row);
    }
    out.push(
      `### ${PAPER.seedTableTitles[task] ?? `Seed by seed: ${getTask(task).label}`}`,
      '',
      table(
        [
          'seed',
          'paper: N / acc / rho / H-B',
          'ours, paper preset: N / acc / rho / H-B / steps',
          'ours, authors preset: N / acc / rho / H-B / steps',
        ],
        rows,
      ),
      '',
    );
  }
  return out.join('\n');
}

export function sectionTable2(input: ReproductionInput, B: number): string {
  const out = [
    '## Table 2 and Figure 3: pruning the top two Heroes / Bloats (OOD exact match)',
    '',
    'The paper reports one seed per task (the authors\' rule: the seed with the most Heroes + Bloats, retrained). We show that seed, the seed our own data picks by the same rule, and the mean over every seed with Heroes (Bloats) of the accuracy lost, which is what the paper\'s sentence "pruning Hidden Heroes consistently devastates generalization (OOD accuracy drops by 32%)" generalises to.',
    '',
  ];
  for (const task of ['sort', 'reverse'] as TaskName[]) {
    const P = PAPER.table2[task];
    const rows: (string | number)[][] = [
      [
        `paper, seed ${P.seed}`,
        '–',
        pct(P.baseline),
        `${pct(P.heroesPruned)} (−${pts(P.baseline - P.heroesPruned)})`,
        `${pct(P.bloatsPruned)} (${P.bloatsPruned >= P.baseline ? '+' : '−'}${pts(Math.abs(P.bloatsPruned - P.baseline))})`,
      ],
    ];
    const notes: string[] = [];
    for (const p of PRESETS) {
      const t2 = table2(analysed(input.presets[p] ?? [], task));
      const show = (label: string, r: (typeof t2)[number] | undefined) => {
        if (!r) return;
        const dh = r.heroesPruned === null ? '' : ` (−${pts(r.baseline - r.heroesPruned)})`;
        const db =
          r.bloatsPruned === null
            ? ''
            : ` (${r.bloatsPruned >= r.baseline ? '+' : '−'}${pts(Math.abs(r.bloatsPruned - r.baseline))})`;
        rows.push([
          `ours, ${p} preset, ${label} ${r.seed}`,
          `${r.heroes || '–'} / ${r.bloats || '–'}`,
          pct(r.baseline),
          `${pct(r.heroesPruned)}${dh}`,
          `${pct(r.bloatsPruned)}${db}`,
        ]);
      };
      show(
        "paper's seed",
        t2.find((r) => r.seed === P.seed),
      );
      const chosen = t2.find((r) => r.chosen);
      if (chosen && chosen.seed !== P.seed) show('most H+B: seed', chosen);
      const hDrops = t2.filter((r) => r.heroesPruned !== null).map((r) => r.baseline - r.heroesPruned!);
      const bDrops = t2.filter((r) => r.bloatsPruned !== null).map((r) => r.baseline - r.bloatsPruned!);
      if (hDrops.length) {
        const iv = bootstrap(hDrops, mean, { resamples: B, seed: 5 });
        const bv = bootstrap(bDrops, mean, { resamples: B, seed: 6 });
        notes.push(
          `- ${p} preset, ${getTask(task).label}: pruning the top two Heroes loses ${pts(iv.estimate)} points on average ${ivs(iv, pts)} over ${hDrops.length} seeds with Heroes; the top two Bloats lose ${pts(bv.estimate)} ${ivs(bv, pts)} over ${bDrops.length} seeds with Bloats.${task === PAPER.figureTask ? ` Paper's ${Math.round(100 * PAPER.heroPruneDrop)}-point Hero cost: ${agree(PAPER.heroPruneDrop, iv)}.` : ''}`,
        );
      }
    }
    out.push(
      `### ${getTask(task).label}`,
      '',
      table(['', 'pruned Heroes / Bloats', 'baseline', 'Heroes pruned', 'Bloats pruned'], rows),
      '',
      ...notes,
      '',
    );
  }
  return out.join('\n');
}

export function sectionTable3(input: ReproductionInput): string {
  const out = ['## Table 3 and Figure 2: where Heroes and Bloats sit (Sorting)', ''];
  const listed = [
    ...Object.keys(PAPER.table3.heroes).map((c) => ['Hidden Hero', c, PAPER.table3.heroes[c]] as const),
    ...Object.keys(PAPER.table3.bloats).map((c) => ['Gradient Bloat', c, PAPER.table3.bloats[c]] as const),
  ];
  const rows: (string | number)[][] = listed.map(([cls, c, n]) => {
    const row: (string | number)[] = [cls, c, `${n}/10`];
    for (const p of PRESETS) {
      const rs = analysed(input.presets[p] ?? [], 'sort');
      const key = cls === 'Hidden Hero' ? 'HiddenHero' : 'GradientBloat';
      row.push(
        rs.length
          ? `${rs.filter((r) => r.analysis.classification!.classes[r.analysis.components.indexOf(c)] === key).length}/${rs.length}`
          : '–',
      );
    }
    return row;
  });
  out.push(
    "The paper's most frequent components, and how often they are in the same class in our runs:",
    '',
    table(['class', 'component', 'paper', 'ours, paper preset', 'ours, authors preset'], rows),
    '',
  );
  // Figure 2: per-layer counts.
  const layerRows: (string | number)[][] = [];
  for (const p of PRESETS) {
    const rs = analysed(input.presets[p] ?? [], 'sort');
    if (!rs.length) continue;
    for (const [key, label] of [
      ['HiddenHero', 'Heroes'],
      ['GradientBloat', 'Bloats'],
    ] as const) {
      const perLayer = [0, 1, 2, 3].map((l) =>
        sum(
          rs.map(
            (r) =>
              r.analysis.components.filter(
                (id, i) => layerOf(id) === l && r.analysis.classification!.classes[i] === key,
              ).length,
          ),
        ),
      );
      const top = new Map<string, number>();
      for (const r of rs)
        r.analysis.components.forEach(
          (id, i) => r.analysis.classification!.classes[i] === key && top.set(id, (top.get(id) ?? 0) + 1),
        );
      const most = [...top.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([c, n]) => `${c} ${n}/${rs.length}`)
        .join(', ');
      layerRows.push([p, label, ...perLayer, most || '–']);
    }
  }
  out.push(
    'Figure 2 as numbers: occurrences per layer over the analysed sorting seeds, and our five most frequent components.',
    '',
    table(['preset', 'class', 'L0', 'L1', 'L2', 'L3', 'most frequent'], layerRows),
    '',
  );
  return out.join('\n');
}

export function sectionTable6(input: ReproductionInput, B: number): string {
  const out = [
    '## Table 6: pruning every Bloat, in-distribution accuracy (Sorting, length 5)',
    '',
    "Drop = accuracy before − after (positive: pruning hurt), as in the paper. The authors' preset follows their last section (heads only, whole-layer W_V gradient, baseline on 100 sequences and the pruned model on 50, but without their retraining under another stopping rule).",
    '',
  ];
  const rows: (string | number)[][] = [];
  const per: Partial<Record<PresetName, ReturnType<typeof table6>>> = {};
  for (const p of PRESETS) per[p] = table6(analysed(input.presets[p] ?? [], 'sort'));
  for (const seed of PAPER.seedList) {
    const P = PAPER.table6.rows.find((r) => r.seed === seed);
    const row: (string | number)[] = [
      seed,
      P ? `${P.bloats} / ${pct(P.before)} → ${pct(P.after)} / ${pts(P.before - P.after)}` : 'excluded',
    ];
    for (const p of PRESETS) {
      const r = per[p]!.find((x) => x.seed === seed);
      row.push(
        r
          ? `${r.bloats === '-' ? 0 : r.bloats.split(' ').length} / ${pct(r.idBefore)} → ${pct(r.idAfter)} / ${pts(r.drop)}`
          : '–',
      );
    }
    rows.push(row);
  }
  const verdicts: string[] = [];
  const summary: (string | number)[] = ['mean ± sd', `${pts(PAPER.table6.meanDrop)} ± ${pts(PAPER.table6.sdDrop)}`];
  for (const p of PRESETS) {
    const drops = per[p]!.filter((r) => typeof r.seed === 'number' && r.drop !== null).map((r) => r.drop!);
    if (!drops.length) {
      summary.push('–');
      continue;
    }
    const iv = bootstrap(drops, mean, { resamples: B, seed: 7 });
    summary.push(`${pts(iv.estimate)} ± ${pts(stddev(drops, 1))} ${ivs(iv, pts)}`);
    const harmless = drops.filter((d) => d < PAPER.harmlessBound).length;
    const severe = drops.filter((d) => d >= 0.2).length;
    verdicts.push(
      `- ${p} preset: mean drop ${pts(iv.estimate)} points ${ivs(iv, pts)} over ${drops.length} seeds with Bloats: the paper's ${pts(PAPER.table6.meanDrop)} ${agree(PAPER.table6.meanDrop, iv)}. Harmless (drop < ${Math.round(100 * PAPER.harmlessBound)} points) in ${harmless}/${drops.length} seeds; a drop of 20 points or more in ${severe}/${drops.length} (paper: ${PAPER_DERIVED.harmlessSeeds}/${PAPER_DERIVED.table6Seeds} and ${PAPER_DERIVED.severeSeeds}/${PAPER_DERIVED.table6Seeds}); largest drop ${pts(Math.max(...drops))} (paper ${pts(PAPER.worstBloatDrop)}).`,
    );
  }
  rows.push(summary);
  out.push(
    table(['seed', 'paper: Bloats / before → after / drop', 'ours, paper preset', 'ours, authors preset'], rows),
    '',
    ...verdicts,
    '',
  );
  return out.join('\n');
}
