/**
 * The analysis' decision rules as pure functions, on hand-made inputs: the OOD rule (Section 2.2)
 * at its edges, and Table 2's pruning targets under both selections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseOodLength } from '../src/analysis/ood';
import { pruningTargets } from '../src/analysis/prune';

test('OOD rule: the first length in order whose accuracy is in [20%, 75%], both ends included', () => {
  const lengths = [8, 9, 10, 11];
  assert.equal(chooseOodLength(lengths, { 8: 0.2, 9: 0.5, 10: 0.3, 11: 0.1 }, 0.2, 0.75), 8); // exactly 20%
  assert.equal(chooseOodLength(lengths, { 8: 0.9, 9: 0.75, 10: 0.5, 11: 0.1 }, 0.2, 0.75), 9); // exactly 75%
  assert.equal(chooseOodLength(lengths, { 8: 0.7501, 9: 0.1999, 10: 0.5, 11: 0.3 }, 0.2, 0.75), 10); // just outside both ends, then the first valid of two
  assert.equal(chooseOodLength(lengths, { 8: 0.9, 9: 0.8, 10: 0.19, 11: 0 }, 0.2, 0.75), null); // none: the run is skipped
  assert.equal(chooseOodLength([11, 10, 9, 8], { 8: 0.5, 9: 0.5, 10: 0.5, 11: 0.5 }, 0.2, 0.75), 11); // the order tried, not the smallest
});

test("pruning targets: the two most extreme of a class, or the first two in component order (the authors')", () => {
  const ids = ['L0.H0', 'L0.H1', 'L1.H0', 'L1.H1', 'L2.MLP'];
  const delta = [-6, 9, -12, -8, 7];
  const classes = ['HiddenHero', 'GradientBloat', 'HiddenHero', 'HiddenHero', 'GradientBloat'] as const;
  assert.deepEqual(pruningTargets({ ids, delta, classes, cls: 'HiddenHero', select: 'extreme' }), ['L1.H0', 'L1.H1']);
  assert.deepEqual(pruningTargets({ ids, delta, classes, cls: 'HiddenHero', select: 'name-order' }), [
    'L0.H0',
    'L1.H0',
  ]);
  assert.deepEqual(pruningTargets({ ids, delta, classes, cls: 'GradientBloat', select: 'extreme' }), [
    'L0.H1',
    'L2.MLP',
  ]);
  assert.deepEqual(pruningTargets({ ids, delta, classes, cls: 'GradientBloat', select: 'name-order', k: 1 }), [
    'L0.H1',
  ]);
  assert.deepEqual(
    pruningTargets({
      ids,
      delta,
      classes: ['Aligned', 'Aligned', 'Aligned', 'Aligned', 'Aligned'],
      cls: 'HiddenHero',
      select: 'name-order',
    }),
    [],
  );
});
