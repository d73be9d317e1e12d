import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { ManagerContext } from '../../context.js';
import type { FarmEvent } from '../../events/bus.js';

/**
 * Server-Sent Events of job, task, worker and log changes; `?job=ID` keeps only that job's.
 * A comment line every 15 s keeps proxies and idle timeouts from closing the stream.
 */
export function registerEventRoutes(api: App, ctx: ManagerContext): void {
  const open = new Set<() => void>();
  api.addHook('onClose', async () => {
    for (const close of open) close();
  });
  api.get(
    '/events',
    { schema: { tags: ['events'], querystring: Type.Object({ job: Type.Optional(Type.String({ format: 'uuid' })) }) } },
    (request, reply) => {
      const jobFilter = request.query.job;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(': kiln events\n\n');
      const send = (event: FarmEvent): void => {
        if (jobFilter && (event.type === 'worker' || event.jobId !== jobFilter)) return;
        raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      };
      const unsubscribe = ctx.bus.subscribe(send);
      const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
      const close = (): void => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(close);
        if (!raw.writableEnded) raw.end();
      };
      open.add(close);
      request.raw.on('close', close);
      raw.on('error', close);
    },
  );
}
