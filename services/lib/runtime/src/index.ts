export * from './config.js';
export * from './config-docs.js';
export * from './log.js';
export * from './metrics.js';
