/**
 * The manager's HTTP contract: TypeBox schemas that validate requests, shape responses and
 * generate /api/v1/openapi.json, with the types derived from them. The manager's routes and
 * services, the typed client (src/client), the CLI, the worker and the web dashboard all import
 * it from here; nothing redefines these shapes by hand.
 */
export * from './common.js';
export * from './jobs.js';
export * from './tasks.js';
export * from './workers.js';
export * from './worker-protocol.js';
export type * from './events.js';
export * from './shaman.js';
export * from './dashboard.js';
