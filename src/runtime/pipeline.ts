import { classifyFailure, type Classified, type Failure } from '../domain/classify.js';
import type { FlowStepDef } from '../flows/load.js';
import type { ExportDef, ImportDef } from '../flows/schema.js';
import { applyMapping, getPath, renderTemplate, setPath } from '../flows/template.js';
import type { ResolvedConnection, ResolvedRequest } from './connections.js';
import type { Redactor } from '../domain/mask.js';
import type { CancelScope } from './cancel-scope.js';
import type { HttpClient, HttpResult, MaskedTrace } from './http.js';

// One record through the page processors: lookups enrich it, imports send it. Each step yields an
// outcome; nothing here writes to the store, so a flow run and a retry share this exact path and
// the recorder decides what to persist.

export interface RuntimeStep {
  key: number;
  def: FlowStepDef;
  connection: ResolvedConnection;
  /** The step's relativeURI and headers with the definition's templates resolved. */
  request: ResolvedRequest;
  exportDef?: ExportDef;
  importDef?: ImportDef;
}

export interface StageLog {
  stage: string;
  data: unknown;
}

/** Stage data, built only when execution logging asks for it (masking every call costs time). */
export type Stages = () => StageLog[];

export type StepOutcome =
  | { ok: true; step: RuntimeStep; input: unknown; output: unknown; startedAt: number; timeTaken: number; stages: Stages }
  | {
      ok: false;
      step: RuntimeStep;
      input: unknown;
      failure: Failure;
      classified: Classified;
      http?: HttpResult;
      startedAt: number;
      timeTaken: number;
      stages: Stages;
    };

export interface RecordRun {
  outcomes: StepOutcome[];
  /** True when every step the record reached succeeded. */
  succeeded: boolean;
}

const encodePathValue = (s: string) => encodeURIComponent(s);

export function renderPath(template: string, record: unknown): string {
  return renderTemplate(template, { record }, encodePathValue);
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false; detail: string } {
  if (body.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

function failed(step: RuntimeStep, input: unknown, failure: Failure, startedAt: number, stages: Stages, http?: HttpResult): StepOutcome {
  return {
    ok: false,
    step,
    input,
    failure,
    classified: classifyFailure(failure),
    ...(http ? { http } : {}),
    startedAt,
    timeTaken: Date.now() - startedAt,
    stages,
  };
}

/** A stored snapshot that cannot be read (not JSON): that record's failure at its step, not the job's. */
export function unreadableSnapshot(step: RuntimeStep, data: string, detail: string): RecordRun {
  const failure: Failure = { kind: 'mapping', field: '$', detail: `the stored snapshot is not JSON (${detail}); fix it with flowdeck retry-data edit` };
  return { outcomes: [failed(step, data, failure, Date.now(), () => [])], succeeded: false };
}

function apiCallLog(http: HttpResult): StageLog {
  const t = http.trace();
  return { stage: 'apiCall', data: { request: t.request, response: t.response } };
}

export async function runStep(step: RuntimeStep, record: unknown, http: HttpClient, cancel?: CancelScope): Promise<StepOutcome> {
  const startedAt = Date.now();
  if (step.importDef) {
    const def = step.importDef;
    const mapped = applyMapping(def.mapping, record);
    const mappingLog = (): StageLog => ({ stage: 'mapping', data: { input: record, output: mapped.ok ? mapped.value : null } });
    let stages: Stages = () => [mappingLog()];
    if (!mapped.ok) return failed(step, record, { kind: 'mapping', field: mapped.field, detail: mapped.detail }, startedAt, stages);
    const result = await http.send(step.connection, {
      method: def.http.method,
      path: renderPath(step.request.relativeURI, record),
      headers: step.request.headers,
      body: JSON.stringify(mapped.value),
      cancel,
    });
    stages = () => [mappingLog(), apiCallLog(result)];
    if (result.failure) return failed(step, record, result.failure, startedAt, stages, result);
    const parsed = parseJson(result.body);
    if (!parsed.ok) return failed(step, record, { kind: 'parse', statusCode: result.statusCode ?? 0, body: result.body, detail: parsed.detail }, startedAt, stages, result);
    return { ok: true, step, input: record, output: record, startedAt, timeTaken: Date.now() - startedAt, stages };
  }
  const def = step.exportDef!;
  const result = await http.send(step.connection, {
    method: def.http.method,
    path: renderPath(step.request.relativeURI, record),
    headers: step.request.headers,
    cancel,
  });
  const stages: Stages = () => [apiCallLog(result)];
  if (result.failure) return failed(step, record, result.failure, startedAt, stages, result);
  const parsed = parseJson(result.body);
  if (!parsed.ok) return failed(step, record, { kind: 'parse', statusCode: result.statusCode ?? 0, body: result.body, detail: parsed.detail }, startedAt, stages, result);
  const resource = def.http.response.resourcePath ? getPath(parsed.value, def.http.response.resourcePath) : parsed.value;
  const enriched = structuredClone(record) as Record<string, unknown>;
  for (const f of def.responseMapping?.fields ?? []) setPath(enriched, f.generate, getPath(resource, f.extract));
  return { ok: true, step, input: record, output: enriched, startedAt, timeTaken: Date.now() - startedAt, stages };
}

/**
 * A step outcome reduced to plain data: what the recorder stores, and what a retry's sender
 * thread hands back (where `S` is the step's index). Traces and stage data are masked here; a
 * success carries only its timing (and its stage data when the flow keeps execution logs).
 */
export type SettledOutcome<S = RuntimeStep> =
  | { ok: true; step: S; startedAt: number; timeTaken: number; logs?: StageLog[] }
  | {
      ok: false;
      step: S;
      startedAt: number;
      timeTaken: number;
      logs?: StageLog[];
      input: unknown;
      failure: Failure;
      classified: Classified;
      statusCode?: number;
      trace?: MaskedTrace;
    };

export interface SettledRun<S = RuntimeStep> {
  outcomes: SettledOutcome<S>[];
  succeeded: boolean;
}

export function settleOutcome<S>(o: StepOutcome, step: S, logging: boolean, redactor: Redactor): SettledOutcome<S> {
  const timing = { step, startedAt: o.startedAt, timeTaken: o.timeTaken };
  const logs = logging ? { logs: o.stages().map((s) => ({ stage: s.stage, data: redactor.json(s.data) })) } : {};
  if (o.ok) return { ok: true, ...timing, ...logs };
  return {
    ok: false,
    ...timing,
    ...logs,
    input: o.input,
    failure: o.failure,
    classified: o.classified,
    ...(o.http?.statusCode !== undefined ? { statusCode: o.http.statusCode } : {}),
    ...(o.http ? { trace: o.http.trace() } : {}),
  };
}

/** Runs a record through `steps` in order; a failure stops it unless the step proceeds on failure. */
export async function runRecord(steps: readonly RuntimeStep[], record: unknown, http: HttpClient, cancel?: CancelScope): Promise<RecordRun> {
  const outcomes: StepOutcome[] = [];
  let current = record;
  let succeeded = true;
  for (const step of steps) {
    const outcome = await runStep(step, current, http, cancel);
    outcomes.push(outcome);
    if (outcome.ok) {
      current = outcome.output;
    } else {
      succeeded = false;
      if (!step.def.proceedOnFailure) break;
    }
  }
  return { outcomes, succeeded };
}

/** Runs `fn` over items with at most `limit` in flight, keeping results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
