/**
 * The page (web/) in a real browser: Debian's Chromium driven by playwright-core. It loads, a bad
 * setting shows its error beside the field, a small run trains and is analysed, its numbers equal
 * `gcg run` of the same configuration bit for bit (losses at every step, the checks, G, C, rho),
 * Stop and Resume continue the run exactly, and a click on a component ablates it. Screenshots of
 * each state go to dist/web-shots/ for review. `npm run test:web` runs this file alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunRecord } from '../src/records/format';
import type { RunSpec } from '../web/protocol';

const ROOT = path.resolve(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'dist', 'web-shots');
const CHROMIUM = '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const web = require(path.join(ROOT, 'scripts', 'web.js')) as {
  buildSite(out: string): Promise<Record<string, number>>;
  serve(dir: string, port: number): Promise<import('node:http').Server>;
};

let browser: Browser;
let server: import('node:http').Server;
let url: string;
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-web-'));

interface PageState {
  phase: string;
  spec: RunSpec | null;
  losses: number[];
  evals: { step: number; acc: number }[];
  record: RunRecord | null;
  lengths: { base: number[]; ablated: { id: string; acc: number[] } | null } | null;
  errors: Record<string, string>;
}
const stateOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { gcg: PageState }).gcg);
const waitPhase = (page: Page, phases: string[], timeout = 240_000) =>
  page.waitForFunction((ps) => ps.includes((globalThis as unknown as { gcg: PageState }).gcg.phase), phases, {
    timeout,
  });

before(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  await web.buildSite(site);
  server = await web.serve(site, 0);
  url = `http://localhost:${(server.address() as import('node:net').AddressInfo).port}/`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.close();
  fs.rmSync(site, { recursive: true, force: true });
});

async function open(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => 'gcg' in globalThis);
  assert.deepEqual(errors, []);
  return page;
}

/** `gcg run` of the page's configuration (its preset, task, seed and every setting it passed), on this machine's stock kernels. */
function cliRun(spec: RunSpec): RunRecord {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-web-cli-'));
  const sets = Object.entries(spec.overrides).flatMap(([s, fields]) =>
    Object.entries(fields as Record<string, unknown>).flatMap(([k, v]) => ['--set', `${s}.${k}=${v}`]),
  );
  const args = ['run', '--preset', spec.preset, '--task', spec.task, '--seed', String(spec.seed), ...sets];
  args.push('--ood-lengths', spec.oodLengths.join(','), '--results', dir);
  if (spec.allowIdLengths) args.push('--allow-id-lengths');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rec = JSON.parse(fs.readFileSync(path.join(dir, spec.preset, `${spec.task}_seed${spec.seed}.json`), 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  return rec;
}

test('the page: a bad setting shows its error beside the field and keeps Train off', async () => {
  const page = await open();
  await page.screenshot({ path: path.join(SHOTS, '0-loaded.png') });
  await page.fill('#f-model-nLayers', '0');
  await page.waitForSelector('#e-model-nLayers:not(:empty)');
  assert.equal(
    await page.textContent('#e-model-nLayers'),
    'config model.nLayers: got 0; allowed: an integer in [1, 64]',
  );
  assert.equal(await page.isDisabled('#train'), true);
  await page.fill('#f-model-dModel', '30');
  await page.fill('#f-model-nLayers', '2');
  assert.match((await page.textContent('#e-model-dModel'))!, /30 is not divisible by model\.nHeads=4/);
  await page.screenshot({ path: path.join(SHOTS, '1-bad-setting.png') });
  await page.fill('#f-model-dModel', '128');
  assert.equal(await page.isDisabled('#train'), false);
  assert.deepEqual((await stateOf(page)).errors, {});
  await page.close();
});

test("the page: a small run, stopped and resumed, trains and is analysed to the CLI's numbers bit for bit; a click ablates", async () => {
  const page = await open();
  await page.click('#small');
  await page.click('#train');
  // Stop once training is under way, then resume: the run continues exactly.
  await page.waitForFunction(() => (globalThis as unknown as { gcg: PageState }).gcg.losses.length > 0);
  await page.click('#stop');
  await waitPhase(page, ['paused', 'analysed']);
  const paused = await stateOf(page);
  if (paused.phase === 'paused') {
    await page.screenshot({ path: path.join(SHOTS, '2-paused.png') });
    await page.click('#resume');
  }
  await waitPhase(page, ['analysed', 'error']);
  const s = await stateOf(page);
  assert.equal(s.phase, 'analysed', (await page.textContent('#error')) ?? '');
  await page.screenshot({ path: path.join(SHOTS, '3-analysed.png'), fullPage: true });
  const rec = s.record!;
  assert.equal(rec.analysis.status, 'analysed');
  const cli = cliRun(s.spec!);
  assert.deepEqual(rec.config, cli.config);
  assert.deepEqual(rec.training.losses, cli.training.losses);
  assert.deepEqual(rec.training.evals, cli.training.evals);
  assert.deepEqual(s.losses, cli.training.losses);
  assert.equal(rec.analysis.ood.length, cli.analysis.ood.length);
  assert.deepEqual(rec.analysis.scores.G, cli.analysis.scores.G);
  assert.deepEqual(rec.analysis.scores.C, cli.analysis.scores.C);
  assert.equal(rec.analysis.classification!.rho, cli.analysis.classification!.rho);
  assert.deepEqual(rec.analysis.classification!.classes, cli.analysis.classification!.classes);
  // A click on the component with the largest C ablates it: accuracy by length changes on the same sequences.
  const top = rec.analysis.components.reduce((a, b) => (rec.analysis.scores.C[b] > rec.analysis.scores.C[a] ? b : a));
  await page.click(`tr[data-id="${top}"]`);
  await page.waitForFunction(
    (id) => (globalThis as unknown as { gcg: PageState }).gcg.lengths?.ablated?.id === id,
    top,
  );
  const l = (await stateOf(page)).lengths!;
  assert.notDeepEqual(l.ablated!.acc, l.base, `ablating ${top} (C ${rec.analysis.scores.C[top]}) changed nothing`);
  assert.equal(await page.locator('#fig-lengths .trace.bars').count(), 2);
  await page.screenshot({ path: path.join(SHOTS, '4-ablated.png'), fullPage: true });
  await page.close();
});
