/** Helpers over results records shared by tables, figures and reports. */
import { TASKS, TaskName } from '../config';
import type { RunRecord } from '../results';

/** The analysed runs of `task`, by seed. */
export const analysed = (records: readonly RunRecord[], task: TaskName): RunRecord[] =>
  records.filter((r) => r.task === task && r.analysis.status === 'analysed').sort((a, b) => a.seed - b.seed);

/** The registered tasks that have at least one record, in registry order. */
export const tasksIn = (records: readonly RunRecord[]): TaskName[] => TASKS.filter((t) => records.some((r) => r.task === t));

/** Spearman's rho between G and C of an analysed run. */
export const rhoOf = (r: RunRecord): number => r.analysis.classification!.rho;
