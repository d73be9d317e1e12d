/** Kiln's default ports that more than one part needs (the manager's, for the worker and the CLI too). */

/** The manager's HTTP API, dashboard, events and Shaman. */
export const DEFAULT_MANAGER_PORT = 7780;
