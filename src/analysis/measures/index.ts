/** The importance measures of the measures study (issue 18), one file each; importing this registers them. */
export * from './outputs';
export * from './weights';
export * from './weightGradNorm';
export * from './taylor';
export * from './maskGradient';
export * from './attributionPatching';
export * from './integratedGradients';
export * from './ablations';
