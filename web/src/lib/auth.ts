import { reactive } from 'vue';

/**
 * The API token, when the manager is not `--open`. Kept in sessionStorage (this tab) or, when the
 * user asks, localStorage (this browser); sent only as an Authorization header, never in a URL,
 * and never logged.
 */
const KEY = 'kiln.token';

export const auth = reactive({
  /** Null until the manager said whether it is open. */
  open: null as boolean | null,
  authorized: false,
  /** The prompt is showing (the manager wants a token, or refused the one we sent). */
  prompting: false,
  /** Why the prompt shows, for its text. */
  reason: '',
});

function storedToken(): string {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? '';
}

export function saveToken(token: string, remember: boolean): void {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

/** Headers that carry the token, when there is one. */
export function authHeaders(): Record<string, string> {
  const token = storedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Asks for a token (a 401 answer, or a manager that is not open and has none from us). */
export function askForToken(reason: string): void {
  auth.reason = reason;
  auth.prompting = true;
}
