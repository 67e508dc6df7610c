export * from './config.js';
export * from './log.js';
export * from './metrics.js';
