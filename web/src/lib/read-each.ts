import { ApiFailure } from './api.js';

/**
 * Reads the items the event stream named, each again, and puts the answers into `list`: a changed
 * item in its place, a new one at the start or the end, one that answers 404 out. An item whose
 * read failed otherwise stays as it was (the next event or resync reads it again).
 */
export async function readEachInto<T extends { id: string }>(
  list: () => readonly T[],
  ids: Iterable<string>,
  read: (id: string) => Promise<T>,
  newAt: 'start' | 'end',
): Promise<T[]> {
  const answers = await Promise.all(
    [...ids].map((id) =>
      read(id).catch((error: unknown) => (error instanceof ApiFailure && error.status === 404 ? id : undefined)),
    ),
  );
  // The list as it is once the answers are in (a reload may have replaced it meanwhile).
  const current = [...list()];
  const indexById = new Map(current.map((item, index) => [item.id, index]));
  const gone = new Set<string>();
  for (const answer of answers) {
    if (answer === undefined) continue;
    if (typeof answer === 'string') gone.add(answer);
    else {
      const index = indexById.get(answer.id);
      if (index !== undefined) current[index] = answer;
      else if (newAt === 'start') current.unshift(answer);
      else current.push(answer);
    }
  }
  return gone.size ? current.filter((item) => !gone.has(item.id)) : current;
}
