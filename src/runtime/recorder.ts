import { DEFAULT_BACKOFF, nextAttemptDelay } from '../domain/backoff.js';
import type { Redactor } from '../domain/mask.js';
import type { StepKind } from '../flows/load.js';
import type { RetryPolicy } from '../flows/schema.js';
import type { StoreTx } from '../store/contract/store.js';
import type { SettledOutcome } from './pipeline.js';

// Turns step outcomes into stored facts: an open error with its snapshot, masked trace and
// execution-log entry. Callers wrap a page of calls in one transaction and hand its `tx` in.

export const PURGE_AFTER_MS = 30 * 24 * 3600 * 1000;
export const CLASSIFIED_BY = 'rule';

export const RETRY_STAGE: Record<StepKind, string> = {
  export: 'page_generator',
  lookup: 'page_processor_lookup',
  import: 'page_processor_import',
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = { count: 3, intervalSeconds: 1, backoffRate: 2, maxIntervalSeconds: 300 };

export interface RecordContext {
  oIndex?: string | undefined;
  traceKey?: string | undefined;
  groupId: string;
  recordId: string;
  parentRecordId?: string | undefined;
  pgExportId?: string | undefined;
}

/** What a failed retry carries over from the error it replaces. */
export interface CarryOver {
  retryData: number;
  attempts: number;
  tags?: string[] | undefined;
  assignee?: string | null | undefined;
  assignedBy?: string | null | undefined;
  assigneeUser?: number | null | undefined;
}

export class OutcomeRecorder {
  constructor(
    private readonly redactor: Redactor,
    private readonly job: number,
    readonly logging: boolean,
  ) {}

  /** Writes one step outcome; returns the new error's row id when it failed. */
  async record(tx: StoreTx, outcome: SettledOutcome, ctx: RecordContext, now: number, carry?: CarryOver): Promise<number | undefined> {
    await this.log(tx, outcome, ctx);
    if (outcome.ok) return undefined;
    return this.recordError(tx, outcome, ctx, now, carry);
  }

  /** The outcome's execution-log entry alone (when the flow logs in full). */
  async log(tx: StoreTx, outcome: SettledOutcome, ctx: RecordContext): Promise<void> {
    const step = outcome.step;
    if (this.logging) {
      await tx.records.insertLogEntry({
        job: this.job,
        step: step.key,
        recordId: ctx.recordId,
        groupId: ctx.groupId,
        parentRecordId: ctx.parentRecordId ?? null,
        traceKey: ctx.traceKey ?? null,
        status: outcome.ok ? 'success' : 'error',
        stage: RETRY_STAGE[step.def.kind],
        startedAt: outcome.startedAt,
        completedAt: outcome.startedAt + outcome.timeTaken,
        timeTaken: outcome.timeTaken,
        data: outcome.logs ?? [],
      });
    }
  }

  private async recordError(tx: StoreTx, outcome: Extract<SettledOutcome, { ok: false }>, ctx: RecordContext, now: number, carry?: CarryOver): Promise<number> {
    const step = outcome.step;
    const { classified } = outcome;
    let trace: number | undefined;
    if (outcome.trace) {
      const t = outcome.trace;
      trace = await tx.records.insertTrace({
        step: step.key,
        time: outcome.startedAt,
        stage: step.def.kind,
        method: t.request.method,
        statusCode: outcome.statusCode,
        request: t.request,
        response: t.response,
      });
    }
    let retryData = carry?.retryData;
    const attempts = carry?.attempts ?? 0;
    if (retryData === undefined && classified.retriable) {
      retryData = await tx.records.insertRetryData({
        step: step.key,
        createdAt: now,
        stage: RETRY_STAGE[step.def.kind],
        pgExportId: ctx.pgExportId,
        traceKey: ctx.traceKey,
        // Record data is business data the retry must re-send: only known secret values are masked.
        data: this.redactor.inStrings(outcome.input ?? null),
        ...(outcome.statusCode !== undefined ? { adaptorResponse: { statusCode: outcome.statusCode } } : {}),
      });
    }
    let retryAt: number | undefined;
    const policy = step.def.retryPolicy ?? DEFAULT_RETRY_POLICY;
    if (classified.autoRetry && retryData !== undefined && attempts < policy.count) {
      const retryAfter = outcome.failure.kind === 'status' ? outcome.failure.retryAfter : undefined;
      const backoff = {
        ...DEFAULT_BACKOFF,
        baseDelayMs: policy.intervalSeconds * 1000,
        factor: policy.backoffRate,
        maxDelayMs: policy.maxIntervalSeconds * 1000,
      };
      retryAt = now + nextAttemptDelay(backoff, attempts + 1, retryAfter, now);
    }
    return tx.errors.insertError({
      step: step.key,
      occurredAt: now,
      source: classified.source,
      code: classified.code,
      message: this.redactor.text(classified.message),
      oIndex: ctx.oIndex,
      job: this.job,
      traceKey: ctx.traceKey,
      classification: classified.classification,
      classifiedBy: CLASSIFIED_BY,
      trace,
      retryData,
      purgeAt: now + PURGE_AFTER_MS,
      retryAt,
      tags: carry?.tags,
      assignee: carry?.assignee ?? undefined,
      assignedBy: carry?.assignedBy ?? undefined,
      assigneeUser: carry?.assigneeUser ?? undefined,
    });
  }
}
