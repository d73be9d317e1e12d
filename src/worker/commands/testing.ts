/** For tests only: a command context that records what a command reports. */
import type { CommandContext } from './types.js';

export interface Recorded {
  logs: string[];
  progress: number[];
  activities: string[];
  previews: string[];
}

export function recordingContext(overrides: Partial<CommandContext> = {}): {
  context: CommandContext;
  record: Recorded;
  controller: AbortController;
} {
  const controller = new AbortController();
  const record: Recorded = { logs: [], progress: [], activities: [], previews: [] };
  const context: CommandContext = {
    signal: controller.signal,
    log: (line) => record.logs.push(line),
    progress: (fraction, activity) => {
      record.progress.push(fraction);
      if (activity !== undefined) record.activities.push(activity);
    },
    activity: (text) => record.activities.push(text),
    preview: (path) => record.previews.push(path),
    tools: {},
    killGraceMs: 500,
    // Nothing outlives a test's own clean-up, so nothing needs recording.
    processGroups: { track: () => () => undefined },
    io: { ready: async () => 0, pauseProcessGroup: () => () => undefined },
    ...overrides,
  };
  return { context, record, controller };
}
