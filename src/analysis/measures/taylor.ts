/**
 * Taylor importance (Molchanov et al. 2017, "Pruning Convolutional Neural Networks for Resource
 * Efficient Inference"; 2019, "Importance Estimation for Neural Network Pruning"): the first-order
 * estimate of the loss change when the component's weights are removed, |sum w . dL/dw| over all of
 * its weights; averaged over Eq. 1's batches.
 */
import { tf } from '../../kernels/tf';
import { registerBatchMeasure } from './gradient-pass';

export const taylor = registerBatchMeasure('taylor', {
  weights: (w, g) => tf.abs(tf.addN(w.map((x, i) => tf.sum(tf.mul(x, g[i]))))) as tf.Scalar,
});
