/** The model's settings (the paper's: 4 blocks of 4 heads, d_model 128, d_ff 512; no positional embedding, as the authors' code). */
import { DIGIT_VOCAB_SIZE } from '../tasks';
import { choice, int, num } from './setting';

export const MODEL_SETTINGS = {
  nLayers: int({ min: 1, max: 64, default: 4, doc: 'transformer blocks L (paper: 4)' }),
  nHeads: int({ min: 1, max: 64, default: 4, doc: 'attention heads per block H (paper: 4)' }),
  dModel: int({
    min: 1,
    max: 4096,
    default: 128,
    doc: 'residual stream width; a multiple of model.nHeads (paper: 128)',
  }),
  dFF: int({ min: 1, max: 16_384, default: 512, doc: 'MLP hidden width (paper: 512)' }),
  /** With learned positions (the paper's text) an independent reimplementation reached 0% OOD accuracy on every reversal seed, so no OOD length in [20%, 75%] exists: both presets use none. */
  positions: choice({
    values: ['none', 'learned'],
    default: 'none',
    doc: "positional embedding: none (the authors' code) or learned (the paper's text)",
  }),
  maxPositions: int({
    min: 1,
    max: 4096,
    default: 24,
    doc: "rows of the learned position table (the longest sequence: 2 * longest N + 2 for the paper's tasks)",
  }),
  /** `pytorch`: PyTorch's default init (the authors'); `normal`: N(0, 0.02) weights, zero biases. */
  init: choice({
    values: ['pytorch', 'normal'],
    default: 'pytorch',
    doc: "weight initialisation: PyTorch's defaults or N(0, 0.02)",
  }),
  lnEps: num({ min: 0, max: 1, exclusiveMin: true, default: 1e-5, doc: 'LayerNorm epsilon' }),
  vocabSize: int({
    min: 1,
    max: 65_536,
    default: DIGIT_VOCAB_SIZE,
    doc: "tokens of the embedding and unembedding; at least the task's vocabulary (digit tasks: 104)",
  }),
};
