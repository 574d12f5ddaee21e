/** The importance measures, one file each (G first, then the measures study's, issue 18); importing this registers them. */
import { setMeasureNameCheck } from '../../settings/validate';
import { checkMeasures } from '../registry';
export * from './gradient';
export * from './outputs';
export * from './weights';
export * from './gradient-pass';
export * from './weightGradNorm';
export * from './taylor';
export * from './maskGradient';
export * from './attributionPatching';
export * from './integratedGradients';
export * from './ablations';

// Once every measure is registered, a configuration's analysis.measures is checked against them
// (settings/validate.ts validateConfig): a registry loaded without its measures would refuse every name.
setMeasureNameCheck((names) => checkMeasures(names));
