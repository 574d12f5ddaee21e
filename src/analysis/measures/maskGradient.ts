/**
 * Mask gradient (Michel, Levy and Neubig 2019, "Are Sixteen Heads Really Better than One?"): a
 * multiplier m on the component's output, importance |dL/dm| at m = 1, which is
 * |sum over sequences and positions of a . dL/da|; averaged over Eq. 1's batches.
 */
import { tf } from '../../kernels/tf';
import { registerBatchMeasure } from './gradient-pass';

export const maskGradient = registerBatchMeasure('maskGradient', {
  outputs: (_c, a, g) => tf.abs(tf.sum(tf.mul(a, g))) as tf.Scalar,
});
