/**
 * A call that changes something and got no answer after it reached the manager (the connection
 * broke, or the manager hung) may or may not have been done. The CLI does not send it again behind
 * the user's back; it says so, and which command shows whether it was done.
 */
import { API_PREFIX } from '../client/index.js';

/** Path patterns (after /api/v1) and the command that shows their outcome; `$1` is the id in the path. */
const CHECKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/jobs\/?$/, 'kiln jobs ls'],
  [/^\/jobs\/([^/]+)/, 'kiln jobs show $1'],
  [/^\/tasks\/([^/]+)/, 'kiln tasks show $1'],
  [/^\/workers\b/, 'kiln workers ls'],
];

/** The command that shows whether `method url` was done, if one does. */
function checkCommandFor(url: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  const at = path.indexOf(API_PREFIX);
  const route = at === -1 ? path : path.slice(at + API_PREFIX.length);
  for (const [pattern, command] of CHECKS) {
    const match = pattern.exec(route);
    if (match) return command.replace('$1', match[1] ?? '');
  }
  return undefined;
}

/** One line: what got no answer, from whom, why, that its outcome is unknown, and how to check. */
export function unknownOutcomeMessage(method: string, url: string, reason: string): string {
  let where = url;
  let route = url;
  try {
    const parsed = new URL(url);
    where = parsed.origin;
    route = parsed.pathname;
  } catch {
    // As given.
  }
  const check = checkCommandFor(url);
  return (
    `${method} ${route} got no answer from the manager at ${where} (${reason}); it may or may not have been done, ` +
    `and it was not sent again: ${check ? `check with \`${check}\`` : 'check the farm'} before running the command again`
  );
}
