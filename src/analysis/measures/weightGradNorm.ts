/**
 * The gradient norm over all of a component's weights: Eq. 1 widened from W_V (heads) or the second
 * MLP matrix to every weight the component owns (a head's W_Q, W_K, W_V columns and W_O rows; both
 * MLP matrices): the Frobenius norm of the loss gradient over all of them, averaged over Eq. 1's batches.
 */
import { tf } from '../../kernels/tf';
import { registerBatchMeasure } from './gradient-pass';

export const weightGradNorm = registerBatchMeasure('weightGradNorm', {
  weights: (_w, g) => tf.sqrt(tf.addN(g.map((x) => tf.sum(tf.square(x))))) as tf.Scalar,
});
