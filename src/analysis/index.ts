export * from './ranks';
export * from './importance';
export * from './measures';
export * from './ood';
export * from './prune';
export * from './pipeline';
