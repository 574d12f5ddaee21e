/** What notebooks and other programs import: `import * as gcg from 'gradient-causal-gap'`. */
export * from './config';
export * from './backend';
export * from './rng';
export * from './tasks';
export * from './model';
export * from './eval';
export * from './grads';
export * from './train';
export * from './progress';
export * from './checkpoint';
export * from './provenance';
export * from './analysis';
