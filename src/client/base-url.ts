/** Where the manager's API lives under the URL a user gives. */

export const API_PREFIX = '/api/v1';

/** Base URL with `/api/v1`, without a trailing slash. */
export function apiBaseUrl(managerUrl: string): string {
  let url: URL;
  try {
    url = new URL(managerUrl.includes('://') ? managerUrl : `http://${managerUrl}`);
  } catch {
    throw new TypeError(`not a manager URL: "${managerUrl}"`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(API_PREFIX) ? path : `${path}${API_PREFIX}`;
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
