/** The API fuzzer's public face: requests for every route, and what every answer must be. */
export { requestArbitraries, type FuzzRequest } from './fuzz/requests.js';
export { send } from './fuzz/answers.js';
export type { KnownIds } from './fuzz/values.js';
