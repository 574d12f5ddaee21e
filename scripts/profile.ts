/**
 * `npm run profile`: where one training step of the default model (batch 64, 16 tokens) spends
 * its time, per kernel and input shapes (tf.profile), largest first. Kernel times under the
 * profiler add up to somewhat more than the step's wall time.
 */
import { describeBackend, initBackend } from '../src/kernels/backend';
import { tf } from '../src/kernels/tf';
import { getConfig } from '../src/settings/validate';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { makeOptimizer } from '../src/train/adam';
import { trainStep } from '../src/train/trainee';

async function main() {
  const top = process.argv.includes('--top') ? Number(process.argv[process.argv.indexOf('--top') + 1]) : 30;
  console.log(describeBackend(await initBackend()));
  const cfg = getConfig('paper');
  const model = Transformer.init(cfg.model, 0);
  const optimizer = makeOptimizer(cfg.train);
  const vars = Object.values(model.params);
  const batch = makeBatch(sampleExamples('sort', 64, new Rng(0), 7));
  for (let i = 0; i < 3; i++) trainStep(model, optimizer, batch, vars);
  const t0 = performance.now();
  trainStep(model, optimizer, batch, vars);
  const wall = performance.now() - t0;
  const prof = await tf.profile(() => {
    trainStep(model, optimizer, batch, vars);
  });
  const agg = new Map<string, { ms: number; n: number }>();
  for (const k of prof.kernels) {
    const key = `${k.name} ${k.inputShapes.map((s) => (s ?? []).join('x')).join(', ')}`;
    const a = agg.get(key) ?? { ms: 0, n: 0 };
    a.ms += k.kernelTimeMs as number;
    a.n++;
    agg.set(key, a);
  }
  const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, v]) => s + v.ms, 0);
  console.log(
    `step wall ${wall.toFixed(1)} ms; ${prof.kernels.length} kernels, ${total.toFixed(1)} ms kernel time under the profiler`,
  );
  console.log(
    "    ms  calls  kernel (input shapes)   ('forward' = a custom-gradient op such as linear(); its inner kernels are listed too)",
  );
  for (const [k, v] of rows.slice(0, top))
    console.log(`${v.ms.toFixed(1).padStart(6)} ${String(v.n).padStart(6)}  ${k}`);
  const byName = new Map<string, number>();
  for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log(
    `by kernel: ${[...byName.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([n, ms]) => `${n} ${ms.toFixed(0)}`)
      .join(', ')}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
