/**
 * PostgreSQL array literals built directly for the hot statements. node-postgres escapes every
 * element of an array parameter on its own (a few microseconds per task on the dispatch path);
 * uuids and integers need no escaping, so a join does the same work. Anything else is refused
 * rather than escaped: a malformed element must never split into two.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `{id,id,...}` for a `::uuid[]` parameter. */
export function uuidArrayLiteral(ids: readonly string[]): string {
  for (const id of ids) if (!UUID.test(id)) throw new TypeError(`not a uuid: ${JSON.stringify(id)}`);
  return `{${ids.join(',')}}`;
}

/** `{1,NULL,...}` for a `::bigint[]` parameter (null: NULL). */
export function integerArrayLiteral(values: ReadonlyArray<number | null>): string {
  const parts = values.map((value) => {
    if (value === null) return 'NULL';
    if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
    return String(value);
  });
  return `{${parts.join(',')}}`;
}
