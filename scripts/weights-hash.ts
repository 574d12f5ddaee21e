/**
 * `node dist/scripts/weights-hash.js [--steps N] [--task T] [--seed S] [--preset P]`: the SHA-256 of the
 * weights and every loss after N training steps of the paper's model (default 40, sort, seed 42)
 * on the backend and code in force (GCG_BACKEND, GCG_SIMD). Two commits that print the same
 * hash train bit for bit the same: how a change meant to be numerically neutral is proved
 * (run it at both commits; a worktree of the older one serves).
 */
import { createHash } from 'node:crypto';
import { describeBackend, initBackend } from '../src/kernels/backend';
import { getConfig } from '../src/settings/validate';
import { trainRun } from '../src/runner/training';
import { TaskName } from '../src/tasks';

async function main(): Promise<void> {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const steps = Number(arg('steps', '40'));
  const task = arg('task', 'sort') as TaskName;
  const seed = Number(arg('seed', '42'));
  const preset = arg('preset', 'paper');
  console.log(describeBackend(await initBackend()));
  const cfg = getConfig(preset, { train: { maxSteps: steps, evalEvery: 10 * steps } });
  const r = trainRun({ task, seed, cfg, progress: false });
  const h = createHash('sha256');
  for (const [name, a] of Object.entries(r.model.toArrays()))
    h.update(name).update(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  h.update(Float64Array.from(r.losses));
  console.log(
    `weights_losses_sha256=${h.digest('hex').slice(0, 16)} steps=${steps} preset=${preset} task=${task} seed=${seed} last_loss=${r.losses[r.losses.length - 1]}`,
  );
  r.model.dispose();
}

main().catch((e) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
