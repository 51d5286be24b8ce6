import type { FastifyInstance } from 'fastify';
import type { ErrorSelection, RetryRequest } from '../../backend/contract/index.js';
import { ROUTES } from '../../backend/wire/routes.js';
import { DEFAULT_BACKOFF } from '../../domain/backoff.js';
import * as S from '../schemas.js';
import { noContent, on, type RouteContext } from './define.js';

// Retry as the spec has it: the queued job (200), or 204 when no snapshot matched. The server's
// worker runs the job; clients follow it with GET …/jobs/{jobId}.

type StepParams = { _id: string; _stepId: string };

/** The spec's back-off route names no policy: the one `errors retry --backoff exponential` uses by default. */
const SPEC_BACKOFF = { ...DEFAULT_BACKOFF, maxAttempts: 5 };

export function retryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  on<{ Params: StepParams; Body: { retryDataKeys: string[] } }>(app, ROUTES.retry, { body: S.retryBody }, async (request, reply) => {
    const job = await ctx.backendOf(request).retries.retry(request.params._id, request.params._stepId, { retryDataKeys: request.body.retryDataKeys });
    return job ?? noContent(reply);
  });

  on<{ Params: StepParams; Body: { retryDataKeys: string[] } }>(app, ROUTES.retryWithBackoff, { body: S.retryBody }, async (request, reply) => {
    const job = await ctx.backendOf(request).retries.retry(request.params._id, request.params._stepId, { retryDataKeys: request.body.retryDataKeys }, { backoff: SPEC_BACKOFF });
    return job ?? noContent(reply);
  });

  on<{ Params: StepParams; Body: { selection: ErrorSelection; backoff?: RetryRequest['backoff']; ratePerSecond?: number } }>(
    app,
    ROUTES.retrySelection,
    { body: S.retrySelectionBody },
    async (request, reply) => {
      const { selection, backoff, ratePerSecond } = request.body;
      const job = await ctx
        .backendOf(request)
        .retries.retry(request.params._id, request.params._stepId, selection, { ...(backoff ? { backoff } : {}), ...(ratePerSecond !== undefined ? { ratePerSecond } : {}) });
      return job ?? noContent(reply);
    },
  );

  on<{ Params: StepParams; Body: { selection: ErrorSelection } }>(app, ROUTES.retryPreview, { body: S.retryPreviewBody }, async (request) =>
    ctx.backendOf(request).retries.preview(request.params._id, request.params._stepId, request.body.selection),
  );
}
