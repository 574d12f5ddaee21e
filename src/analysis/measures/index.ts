/** The activation-based importance measures (measures study, issue 18); importing this registers them. */
export * from './outputs';
export * from './maskGradient';
export * from './attributionPatching';
export * from './integratedGradients';
