/**
 * Which rows of a long list to put in the page: those in view plus a margin either side, so 1,000
 * jobs or 500 workers cost a few dozen rows in the DOM whatever the list's length. The window
 * moves in steps of `block` rows: scrolling within a step changes nothing in the page, so most
 * scroll events cost no rendering at all.
 */
export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  block = 8,
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const inView = Math.ceil(viewportHeight / rowHeight) + 1;
  const start = Math.max(0, Math.floor(first / block) * block - block);
  const end = Math.min(count, start + inView + 3 * block);
  return { start, end };
}
