/**
 * The time now, for logic that depends on it (timeouts, sleep schedules, garbage age). Injected
 * so tests set the time instead of sleeping for it.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** A clock that stands still until moved: `advance(ms)` or `set(date)`. For tests. */
export function manualClock(start = new Date()): Clock & { advance: (ms: number) => void; set: (at: Date) => void } {
  let now = start.getTime();
  const clock = () => new Date(now);
  return Object.assign(clock, {
    advance: (ms: number) => {
      now += ms;
    },
    set: (at: Date) => {
      now = at.getTime();
    },
  });
}
