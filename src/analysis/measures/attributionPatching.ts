/**
 * Attribution patching towards the ablation value (Nanda 2022, "Attribution Patching"; Kramar et
 * al. 2024, "AtP*"): the first-order estimate of the loss change when the component's output a is
 * replaced by its mean mu, sum over sequences and positions of (mu - a) . dL/da; averaged over
 * Eq. 1's batches. Positive: ablating the component raises the loss.
 */
import { tf } from '../../kernels/tf';
import { registerBatchMeasure } from './gradient-pass';

export const attributionPatching = registerBatchMeasure('attributionPatching', {
  outputs: (_c, a, g, mu) => tf.sum(tf.mul(tf.sub(mu, a), g)),
});
