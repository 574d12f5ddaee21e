/**
 * The studies, listed once: each is a folder of its own (src/studies/<name>/) exporting one
 * descriptor (src/runner/command.ts Study). The command line's dispatch, help and options come
 * from this list; a new study is a folder and one line here.
 */
import type { Study } from '../runner/command';
import { complexityStudy } from '../studies/complexity';
import { findingsStudy } from '../studies/findings';
import { measuresStudy } from '../studies/measures';
import { paperStudy } from '../studies/paper';
import { redundancyStudy } from '../studies/redundancy';
import { stabilityStudy } from '../studies/stability';

export const STUDIES: readonly Study[] = [
  stabilityStudy,
  paperStudy,
  measuresStudy,
  complexityStudy,
  redundancyStudy,
  findingsStudy,
];
