/**
 * What the live event stream (`GET /api/v1/events`, Server-Sent Events) carries: each event's
 * name is its `type`, its data this object as JSON.
 */
export type FarmEvent =
  | { type: 'job'; jobId: string; status: string; change: string }
  | {
      type: 'task';
      jobId: string;
      taskId: string;
      status: string;
      workerId: string | null;
      progress?: number;
      activity?: string;
    }
  | { type: 'worker'; workerId: string; status: string; change: string }
  | { type: 'log'; jobId: string; taskId: string; lines: string[] };
