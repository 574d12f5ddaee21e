/** The redundancy study for code and notebooks (the package entry's `redundancy`): its records, inputs, numbers, report and figures. */
export { runRedundancy as run } from './run';
export { loadRedundancyInput as load } from './load';
export { redundancyNumbers as numbers } from './numbers';
export { redundancyReport as report } from './report';
export { redundancyFigures as figures } from './figures';
export { REDUNDANCY_DEFAULTS as defaults } from '.';
export { redundancyAnalysis as analyse, shapleyValues } from '../../analysis/redundancy';
