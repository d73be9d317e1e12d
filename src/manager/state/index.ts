export * from './statuses.js';
export * from './transitions.js';
export * from './actions.js';
export * from './job-status.js';
