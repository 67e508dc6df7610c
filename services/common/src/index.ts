export * from './config.js';
export * from './log.js';
export * from './metrics.js';
export * from './errors.js';
export * as contract from './contract/index.js';
export * from './api-client.js';
export * from './ssh-key.js';
