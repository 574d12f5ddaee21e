/** What the redundancy study's records cost (REDUNDANCY.md's cost section), per preset: each phase's time and forward-pass steps. */
import type { PresetName } from '../../settings/config';
import { mean } from '../../report/stats';
import type { RedundancyRecord } from './record';

/** One preset's records: mean seconds per model of each phase, the forward-pass steps its sets took and the milliseconds a step (NaN: no record counted them). */
export interface PresetCost {
  preset: PresetName;
  /** The evaluation sets' sizes (sequences). */
  evalSamples: number[];
  phases: { phase: string; seconds: number; steps: number; msPerStep: number }[];
}

export function presetCost(preset: PresetName, recs: readonly RedundancyRecord[]): PresetCost {
  const phases = [...new Set(recs.flatMap((r) => Object.keys(r.result.timingsMs)))];
  return {
    preset,
    evalSamples: [...new Set(recs.map((r) => r.config.analysis.evalSamples))],
    phases: [
      ...phases.map((phase) => {
        // Steps only from the records that counted them (made since they are kept), timed over the same records.
        const counted = recs.filter((r) => r.result.steps?.[phase]);
        return {
          phase,
          seconds: mean(recs.map((r) => (r.result.timingsMs[phase] ?? NaN) / 1000)),
          steps: counted.length ? mean(counted.map((r) => r.result.steps![phase])) : NaN,
          msPerStep: counted.length
            ? mean(counted.map((r) => r.result.timingsMs[phase] / r.result.steps![phase]))
            : NaN,
        };
      }),
      { phase: 'all', seconds: mean(recs.map((r) => r.timingsMs.analysis / 1000)), steps: NaN, msPerStep: NaN },
    ],
  };
}
