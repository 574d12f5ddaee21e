/** The importance measures, one file each (G first, then the measures study's, issue 18); importing this registers them. */
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
