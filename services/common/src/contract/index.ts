export * from './primitives.js';
export * from './auth.js';
export * from './tickets.js';
export * from './pam.js';
export * from './agents.js';
export * from './requests.js';
export * from './admin.js';
export * from './access.js';
