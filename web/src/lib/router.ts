import { reactive } from 'vue';

/**
 * The page's address is its state: which page, which job or task, and the filters in the query
 * string, so any view can be linked and reloaded. Plain paths with history.pushState; the manager
 * answers every non-API path with the page (deep links work).
 */
type Page = 'jobs' | 'job' | 'task' | 'workers' | 'farm' | 'network';

export interface Route {
  page: Page;
  /** The job's or task's id on the detail pages. */
  id: string;
  query: Record<string, string>;
}

function parseRoute(path: string, search: string): Route {
  const query = Object.fromEntries(new URLSearchParams(search));
  const [first = '', second = ''] = path.split('/').filter(Boolean);
  if (first === 'jobs' && second) return { page: 'job', id: second, query };
  if (first === 'tasks' && second) return { page: 'task', id: second, query };
  if (first === 'workers' || first === 'farm' || first === 'network') return { page: first, id: '', query };
  return { page: 'jobs', id: '', query };
}

export const route = reactive<Route>(parseRoute(location.pathname, location.search));

function apply(next: Route): void {
  route.page = next.page;
  route.id = next.id;
  route.query = next.query;
}

/** Goes to `href` (a path with an optional query) as a new history entry. */
export function navigate(href: string): void {
  const url = new URL(href, location.origin);
  history.pushState(null, '', url.pathname + url.search);
  apply(parseRoute(url.pathname, url.search));
  window.scrollTo(0, 0);
}

/** Changes the query in place (filters as the user types), without a new history entry. */
export function setQuery(changes: Record<string, string | undefined>): void {
  const query = { ...route.query };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') delete query[key];
    else query[key] = value;
  }
  const search = new URLSearchParams(query).toString();
  history.replaceState(null, '', location.pathname + (search ? `?${search}` : ''));
  route.query = query;
}

/** Follows clicks on same-origin links inside the page without reloading it. */
export function startRouter(): void {
  window.addEventListener('popstate', () => apply(parseRoute(location.pathname, location.search)));
  document.addEventListener('click', (event) => {
    const link = (event.target as Element | null)?.closest?.('a[href]');
    if (!(link instanceof HTMLAnchorElement) || link.target || link.hasAttribute('download')) return;
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
