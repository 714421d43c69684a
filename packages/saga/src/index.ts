export * from './types.js';
export * from './state-machine.js';
export * from './plan.js';
export * from './row-writes.js';
