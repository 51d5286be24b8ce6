import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Backend, CsvExportOptions } from '../../backend/contract/index.js';
import { ROUTES, pathOf } from '../../backend/wire/routes.js';
import { InvalidInputError } from '../../domain/errors.js';
import { decodeId } from '../../domain/ids.js';
import { errorBody } from '../errors.js';
import * as S from '../schemas.js';
import { on, type RouteContext } from './define.js';
import { takeFromBucket } from '../auth.js';

// CSV downloads as the spec has them: a signed URL first (the request is checked then: the flow,
// the step, the query, the start id), then a plain GET of that URL, which needs no token: the
// signature is the credential, made with this process's key and good for a quarter of an hour.

/** How long a signed URL may be used. */
export const SIGNED_URL_TTL_MS = 15 * 60_000;

export interface DownloadClaim {
  user: string;
  /** The token that asked for the URL: revoked, the URL stops working; its bucket pays for each download. */
  tokenId: string | number;
  flow: string;
  /** None: every step's errors of the flow. */
  step?: string;
  options: CsvExportOptions;
  /** Epoch ms after which the URL no longer works. */
  exp: number;
}

export class DownloadSigner {
  // Per process: a restart invalidates the URLs handed out, which live minutes anyway.
  private readonly key = randomBytes(32);

  constructor(private readonly now: () => number = Date.now) {}

  sign(claim: Omit<DownloadClaim, 'exp'>): string {
    const payload = Buffer.from(JSON.stringify({ ...claim, exp: this.now() + SIGNED_URL_TTL_MS })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The claim of a signature this process made and that has not expired; undefined otherwise. */
  verify(signature: string): DownloadClaim | undefined {
    const [payload, mac, extra] = signature.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DownloadClaim;
    return claim.exp > this.now() ? claim : undefined;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** The CSV as a stream of its text chunks (header first), read as fast as the client takes them. */
async function exportCsv(backend: Backend, claim: DownloadClaim): Promise<Readable> {
  return Readable.from(await backend.records.exportErrors(claim.flow, claim.step, claim.options), { objectMode: false });
}

type StepParams = { _id: string; _stepId: string };
type SignedQuery = { startAtErrorId?: string; q?: string };

function checkStartAt(startAtErrorId: string | undefined): void {
  if (startAtErrorId !== undefined && !decodeId('error', startAtErrorId)) {
    throw new InvalidInputError(`startAtErrorId must be an errorId, got "${startAtErrorId}"`, 'startAtErrorId');
  }
}

function exportOptions(query: SignedQuery, resolved: boolean): CsvExportOptions {
  return { resolved, ...(query.startAtErrorId !== undefined ? { startAtErrorId: query.startAtErrorId } : {}), ...(query.q !== undefined ? { query: query.q } : {}) };
}

export function downloadRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const signedURL = (request: FastifyRequest, claim: Omit<DownloadClaim, 'exp'>) => ({
    signedURL: `${request.protocol}://${request.host}${pathOf(ROUTES.download, { signature: ctx.downloads.sign(claim) })}`,
  });

  for (const [route, resolved] of [
    [ROUTES.errorsSignedURL, false],
    [ROUTES.resolvedSignedURL, true],
  ] as const) {
    on<{ Params: StepParams; Querystring: SignedQuery }>(app, route, { querystring: S.signedUrlQuery }, async (request) => {
      const { _id, _stepId } = request.params;
      checkStartAt(request.query.startAtErrorId);
      // One row read checks the flow, the step and the query as the download will see them.
      const backend = ctx.backendOf(request);
      const probe = { limit: 1, ...(request.query.q !== undefined ? { query: request.query.q } : {}) };
      if (resolved) await backend.triage.listResolved(_id, _stepId, probe);
      else await backend.listErrors(_id, _stepId, probe);
      return signedURL(request, { user: request.user, tokenId: request.tokenId, flow: _id, step: _stepId, options: exportOptions(request.query, resolved) });
    });
  }

  on<{ Params: { _id: string }; Querystring: SignedQuery & { resolved?: boolean } }>(app, ROUTES.flowErrorsSignedURL, { querystring: S.flowSignedUrlQuery }, async (request) => {
    checkStartAt(request.query.startAtErrorId);
    const flow = await ctx.backendOf(request).getFlow(request.params._id);
    return signedURL(request, { user: request.user, tokenId: request.tokenId, flow: flow._id, options: exportOptions(request.query, request.query.resolved === true) });
  });

  on<{ Params: { signature: string } }>(app, ROUTES.download, { public: true, secretPath: true }, async (request, reply) => {
    let claim: DownloadClaim | undefined;
    try {
      claim = ctx.downloads.verify(request.params.signature);
    } catch {
      claim = undefined;
    }
    if (!claim || !(await ctx.tokenActive(claim.tokenId))) return reply.code(404).send(errorBody('invalid_ref', 'this download link is not valid or has expired: ask for a new one'));
    request.user = claim.user;
    const limited = takeFromBucket(ctx.buckets, claim.tokenId, reply);
    if (limited) return limited;
    const name = `${claim.flow}${claim.step ? `-${claim.step}` : ''}-${claim.options.resolved ? 'resolved' : 'errors'}.csv`.replace(/[^\w.-]/g, '_');
    const csv = await exportCsv(ctx.backendOf(request), claim);
    // A client that goes away mid-download stops the export (destroying the stream ends its iterator).
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) csv.destroy(new Error('the download was interrupted'));
    });
    return reply.type('text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="${name}"`).send(csv);
  });
}
