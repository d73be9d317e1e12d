/** The API fuzzer's public face: requests for every route, and what every answer must be. */
export { requestArbitraries, type FuzzRequest } from './fuzz/requests.js';
export { checkAnswer, send } from './fuzz/answers.js';
export { toJsonText, validValue, type KnownIds } from './fuzz/values.js';
