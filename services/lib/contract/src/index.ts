export * from './errors.js';
export * from './headers.js';
export * as contract from './schemas/index.js';
export * from './api-client.js';
export * from './ssh-key.js';
