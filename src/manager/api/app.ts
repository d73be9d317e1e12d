import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ManagerContext } from '../context.js';
import { ApiError, makeErrorHandler } from './errors.js';
import { checkQueryEscapes, checkRequestInput } from './input-guard.js';
import { buildValidator } from './validators.js';
import { clientErrorHandler, frameworkErrors } from './framework-errors.js';
import { tokenMatches } from '../auth/secrets.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerWorkerRoutes } from './routes/workers.js';
import { registerWorkerProtocolRoutes } from './routes/worker-protocol.js';
import { registerEventRoutes } from './routes/events.js';
import { registerStorageRoutes } from './routes/shaman.js';
import { MAX_PREVIEW_BYTES } from '../previews.js';

export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;

export async function buildApp(ctx: ManagerContext): Promise<App> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_PREVIEW_BYTES + 1024,
    // Long polls last up to a minute; keep connections open longer than that.
    keepAliveTimeout: 75_000,
    requestTimeout: 120_000,
    forceCloseConnections: true,
    // Bodies are validated without type coercion, query strings and parameters with it (validators.ts).
    schemaController: { compilersFactory: { buildValidator: buildValidator as never } },
    // Fastify's and Node's own refusals in Kiln's error shape too.
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(makeErrorHandler(ctx.log));
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: { code: 'no_such_endpoint', message: `no endpoint ${request.method} ${request.url.split('?')[0]}` },
    });
  });
  // Checked before schema validation, which recurses, and before anything reaches PostgreSQL.
  app.addHook('preValidation', async (request) => {
    checkQueryEscapes(request.url);
    checkRequestInput(request.params, '');
    checkRequestInput(request.query, '');
    checkRequestInput(request.body, '');
  });
  // Previews arrive as raw image bytes.
  app.addContentTypeParser(
    ['image/png', 'image/jpeg'],
    { parseAs: 'buffer', bodyLimit: MAX_PREVIEW_BYTES },
    (_request, body, done) => done(null, body),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kiln manager API',
        version: ctx.version,
        description: 'Jobs, tasks, workers and the worker protocol of a Kiln render farm.',
      },
      components: {
        securitySchemes: { apiToken: { type: 'http', scheme: 'bearer' }, worker: { type: 'http', scheme: 'basic' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });

  // Mutating user endpoints need an API token unless the farm runs on a trusted network.
  app.decorate('requireUser', async (request: FastifyRequest) => {
    if (ctx.config.open) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const hashes = await ctx.apiTokenHashes();
    if (!token || !hashes.some((hash) => tokenMatches(token, hash))) {
      throw new ApiError(
        401,
        'unauthorized',
        'this action needs an API token (`kiln manager token`), sent as "Authorization: Bearer <token>"',
      );
    }
  });

  await app.register(
    async (api) => {
      registerMetaRoutes(api as App, ctx);
      registerJobRoutes(api as App, ctx);
      registerTaskRoutes(api as App, ctx);
      registerWorkerRoutes(api as App, ctx);
      registerWorkerProtocolRoutes(api as App, ctx);
      registerEventRoutes(api as App, ctx);
      registerStorageRoutes(api as App, ctx);
    },
    { prefix: '/api/v1' },
  );
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    requireUser: (request: FastifyRequest) => Promise<void>;
  }
}
