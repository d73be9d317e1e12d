import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { EventBus, FarmEvent } from '../../events/bus.js';
import { EventStream } from '../event-stream.js';

export interface EventRouteDeps {
  bus: Pick<EventBus, 'subscribe'>;
  /** Per client: how much may wait unread before the client is dropped (EventStream). */
  maxUnreadBytes?: number;
}

/**
 * Server-Sent Events of job, task, worker and log changes; `?job=ID` keeps only that job's.
 * A comment line every 15 s keeps proxies and idle timeouts from closing the stream. A client
 * that stops reading is dropped once its buffer is full, never buffered for without limit.
 */
export function registerEventRoutes(api: App, deps: EventRouteDeps): void {
  const open = new Set<EventStream>();
  api.addHook('onClose', async () => {
    for (const stream of open) stream.close();
  });
  api.get(
    '/events',
    { schema: { tags: ['events'], querystring: Type.Object({ job: Type.Optional(Type.String({ format: 'uuid' })) }) } },
    (request, reply) => {
      const jobFilter = request.query.job;
      reply.hijack();
      let unsubscribe = (): void => undefined;
      const keepAlive = setInterval(() => stream.keepAlive(), 15_000);
      const stream = new EventStream(
        reply.raw,
        () => {
          clearInterval(keepAlive);
          unsubscribe();
          open.delete(stream);
        },
        deps.maxUnreadBytes,
      );
      open.add(stream);
      unsubscribe = deps.bus.subscribe((event: FarmEvent) => {
        if (jobFilter && (event.type === 'worker' || event.jobId !== jobFilter)) return;
        stream.send(event.type, event);
      });
      request.raw.on('close', () => stream.close());
      reply.raw.on('error', () => stream.close());
    },
  );
}
