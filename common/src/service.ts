import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GraphQLSchema } from 'graphql';
import { REQUEST_ID_HEADER, type RequestContext } from './context';
import { maskInternalErrors } from './errors';
import { logger } from './log';
import { SIGNATURE_HEADER, verify } from './signing';

// Apollo's anonymous usage telemetry stays off everywhere.
process.env.APOLLO_TELEMETRY_DISABLED ??= '1';

/** How to build one GraphQL HTTP service (a subgraph or the gateway). */
export interface ServiceOptions<C extends RequestContext> {
  name: string;
  schema?: GraphQLSchema;
  gateway?: GatewayInterface;
  /** Builds the per-request context: loaders and anything else that must not outlive the request. */
  context: (req: Request) => Promise<C>;
  /** HTML served at GET / to browsers; without it there is no landing page. */
  landingPage?: string;
  plugins?: ApolloServerPlugin<C>[];
  /**
   * Extra routes (exports...) mounted after `GET /health` and before the GraphQL handler. `graphql` gives
   * this service's own Apollo server and context builder, so a route that runs operations (with
   * `apollo.executeOperation`) goes through the same plugins, limits and error masking as `/graphql`.
   */
  routes?: (app: express.Express, graphql: ServiceGraphQL<C>) => void;
  /** Called when the service stops, after the HTTP server has drained (close pools here). */
  onStop?: () => Promise<void>;
  /**
   * A subgraph's signing secret (SUBGRAPH_SECRET_<NAME>). When set, every GraphQL request must carry a
   * valid `x-civic-signature` over its raw body (common/src/signing.ts), or gets 401 saying what was wrong;
   * `GET /health` stays open. The gateway signs all its calls, so only direct callers are refused.
   */
  signatureSecret?: string | null;
}

/** What {@link ServiceOptions.routes} gets to run GraphQL operations the way `/graphql` does. */
export interface ServiceGraphQL<C extends RequestContext> {
  apollo: ApolloServer<C>;
  /** The service's per-request context builder (the `context` option). */
  context: (req: Request) => Promise<C>;
}

/** A built service: not yet listening. */
export interface Service {
  name: string;
  /** Binds the port (0: any free one) and resolves with the URL of the GraphQL endpoint. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

/**
 * Builds a GraphQL service on Express and Apollo Server, the one bootstrap shared by the gateway and the
 * subgraphs: GraphQL at `/` and `/graphql`, `GET /health`, internal errors masked, a clean drain on stop.
 */
export async function createService<C extends RequestContext>(opts: ServiceOptions<C>): Promise<Service> {
  const app = express();
  const http: Server = createServer(app);
  const log = logger.child({ service: opts.name });
  const landing = opts.landingPage;
  const apollo = new ApolloServer<C>({
    ...(opts.gateway ? { gateway: opts.gateway } : { schema: opts.schema! }),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: maskInternalErrors((err) => log.error({ err: String(err) }, 'internal error')),
    plugins: [
      // Every response names its request, so a client's report can be matched with the logs of each service.
      {
        async requestDidStart({ contextValue }) {
          return {
            async willSendResponse({ response }) {
              response.http.headers.set(REQUEST_ID_HEADER, contextValue.requestId);
            },
          };
        },
      },
      ApolloServerPluginDrainHttpServer({ httpServer: http }),
      landing
        ? {
            async serverWillStart() {
              return {
                async renderLandingPage() {
                  return { html: landing };
                },
              };
            },
          }
        : ApolloServerPluginLandingPageDisabled(),
      // Federated traces are only useful with Apollo's hosted reporting, which this project does not use.
      ...(opts.gateway ? [] : [ApolloServerPluginInlineTraceDisabled()]),
      ...(opts.plugins ?? []),
    ],
  });
  await apollo.start();
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: opts.name });
  });
  opts.routes?.(app, { apollo, context: opts.context });
  const handler = expressMiddleware(apollo, { context: async ({ req }) => opts.context(req) });
  const secret = opts.signatureSecret;
  if (secret) {
    const guard = signatureGuard(secret);
    // The raw bytes are kept for the signature check: it covers what was sent, not a re-serialization.
    const json = express.json({
      limit: '1mb',
      verify: (req, _res, buf) => void ((req as SignedRequest).rawBody = buf),
    });
    app.use(['/graphql', '/'], guard.present, json, guard.valid, handler);
  } else app.use(['/graphql', '/'], express.json({ limit: '1mb' }), handler);
  let stopped = false;
  return {
    name: opts.name,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          const { port: bound } = http.address() as AddressInfo;
          const shown = !host || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve({ url: `http://${shown}:${bound}/graphql`, port: bound });
        });
      }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await apollo.stop();
      if (http.listening) await new Promise<void>((r) => http.close(() => r()));
      await opts.onStop?.();
    },
  };
}

/** A request whose raw body express.json kept. */
type SignedRequest = Request & { rawBody?: Buffer };

const refuse = (res: Response, status: number, message: string, extensions: Record<string, string>) =>
  void res.status(status).json({ errors: [{ message, extensions }] });

/**
 * The two halves of a subgraph's signature check, around body parsing: a request without the header is
 * refused before its body is read; the others are checked over the raw bytes once read. A GET is refused
 * even when validly signed: its operation is in the query string, which the signature (over the empty body)
 * does not cover, so a captured header could carry any other operation; the gateway always POSTs.
 */
function signatureGuard(secret: string) {
  const check = (req: Request, res: Response, body: Buffer | undefined): boolean => {
    const verdict = verify(secret, req.get(SIGNATURE_HEADER), body ?? '');
    if (verdict.ok) return true;
    refuse(res, 401, verdict.message, { code: 'UNAUTHENTICATED', reason: verdict.reason });
    return false;
  };
  return {
    present: (req: Request, res: Response, next: NextFunction) => {
      if (req.get(SIGNATURE_HEADER) || check(req, res, undefined)) next();
    },
    valid: (req: Request, res: Response, next: NextFunction) => {
      if (!check(req, res, (req as SignedRequest).rawBody)) return;
      if (req.method === 'POST') return next();
      res.setHeader('allow', 'POST');
      refuse(res, 405, 'This subgraph takes signed operations by POST only', { code: 'BAD_REQUEST' });
    },
  };
}
