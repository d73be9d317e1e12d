import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { ApiError, makeErrorHandler } from './errors.js';
import { checkQueryEscapes, checkRequestInput } from './input-guard.js';
import { buildValidator } from './validators.js';
import { clientErrorHandler, frameworkErrors } from './framework-errors.js';
import { registerMetaRoutes, type MetaRouteDeps } from './routes/meta.js';
import { registerJobRoutes, type JobRouteDeps } from './routes/jobs.js';
import { registerTaskRoutes, type TaskRouteDeps } from './routes/tasks.js';
import { registerWorkerRoutes, type WorkerRouteDeps } from './routes/workers.js';
import { registerWorkerProtocolRoutes, type WorkerProtocolRouteDeps } from './routes/worker-protocol.js';
import { registerEventRoutes, type EventRouteDeps } from './routes/events.js';
import { registerStorageRoutes, type StorageRouteDeps } from './routes/shaman.js';
import { registerDashboardRoutes, type DashboardRouteDeps } from './routes/dashboard.js';
import { makeStaticHandler } from './static-files.js';
import { MAX_PREVIEW_BYTES } from '../previews.js';

/** The manager's Fastify instance: Node's HTTP server, route types from the TypeBox schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Who may use the mutating user endpoints. */
interface UserAuth {
  /** Trusted network (--open): no API token needed. */
  open: boolean;
  acceptsToken: (token: string) => Promise<boolean>;
}

/** What the HTTP layer needs, route module by route module; main.ts wires it. */
export interface AppDeps {
  log: Logger;
  version: string;
  userAuth: UserAuth;
  meta: MetaRouteDeps;
  jobs: JobRouteDeps;
  tasks: TaskRouteDeps;
  workers: WorkerRouteDeps;
  workerProtocol: WorkerProtocolRouteDeps;
  events: EventRouteDeps;
  storage: StorageRouteDeps;
  dashboard: Omit<DashboardRouteDeps, 'auth'>;
  /** Where the web dashboard's built files are (tests point elsewhere); default: dist/dashboard. */
  dashboardDir?: string;
}

export async function buildApp(deps: AppDeps): Promise<App> {
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
  app.setErrorHandler(makeErrorHandler(deps.log));
  // The web dashboard at `/` (its own paths and deep links); the API keeps its JSON 404.
  const serveDashboard = makeStaticHandler(deps.dashboardDir);
  app.setNotFoundHandler(async (request, reply) => {
    if (await serveDashboard(request, reply)) return reply;
    return reply.status(404).send({
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
        version: deps.version,
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
    if (deps.userAuth.open) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!(await deps.userAuth.acceptsToken(token))) {
      throw new ApiError(
        401,
        'unauthorized',
        'this action needs an API token (`kiln manager token`), sent as "Authorization: Bearer <token>"',
      );
    }
  });

  await app.register(
    async (api) => {
      registerMetaRoutes(api, deps.meta);
      registerJobRoutes(api, deps.jobs);
      registerTaskRoutes(api, deps.tasks);
      registerWorkerRoutes(api, deps.workers);
      registerWorkerProtocolRoutes(api, deps.workerProtocol);
      registerEventRoutes(api, deps.events);
      registerStorageRoutes(api, deps.storage);
      registerDashboardRoutes(api, { ...deps.dashboard, auth: deps.userAuth });
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
