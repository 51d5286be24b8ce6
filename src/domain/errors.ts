import type { ApiErrorBody } from './api.js';

// One class per kind of failure, each carrying the API's error code and HTTP status, so the
// commands, the TUI and an HTTP face all map a failure the same way (exit code, message, status).

export abstract class FlowdeckError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** 2 for bad usage or input, 1 for everything else (the command set's contract). */
  readonly exitCode: 1 | 2 = 1;
  readonly field?: string;

  constructor(message: string, field?: string) {
    super(message);
    this.name = new.target.name;
    if (field !== undefined) this.field = field;
  }

  toBody(): ApiErrorBody {
    const entry: ApiErrorBody['errors'][number] = { code: this.code, message: this.message };
    if (this.field !== undefined) entry.field = this.field;
    return { errors: [entry] };
  }
}

/** A flow, step, job, error, key or tag that does not exist (`invalid_ref`). */
export class NotFoundError extends FlowdeckError {
  readonly code: string;
  readonly status = 404;
  constructor(what: string, ref: string, code = 'invalid_ref') {
    super(`${what} not found: ${ref}`);
    this.code = code;
  }
}

export class NoRetryDataError extends FlowdeckError {
  readonly code = 'no_retrydata_found';
  readonly status = 404;
  constructor(retryDataKey: string) {
    super(`No retry data found for the given retryDataKey: ${retryDataKey}`);
  }
}

/** Input that does not parse or does not fit: bad flag values, malformed JSON, mismatched envelopes. */
export class InvalidInputError extends FlowdeckError {
  readonly code: string;
  readonly status = 400;
  override readonly exitCode = 2;
  constructor(message: string, field?: string, code = 'invalid_input') {
    super(message, field);
    this.code = code;
  }
}

export class InactiveFlowError extends FlowdeckError {
  readonly code = 'inactive_flow';
  readonly status = 422;
  constructor(flowName: string, action: 'retrying' | 'running' = 'retrying') {
    super(`flow "${flowName}" is disabled; enable it before ${action} (flowdeck flows enable)`);
  }
}

/** A flow file that fails validation: the message names the file and the field. */
export class FlowDefinitionError extends FlowdeckError {
  readonly code = 'invalid_flow_definition';
  readonly status = 422;
  override readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly fieldPath: string,
    detail: string,
  ) {
    super(`${file}: ${fieldPath ? `${fieldPath}: ` : ''}${detail}`, fieldPath || undefined);
  }
}

/** A state that forbids the operation (a job already finished, a flow already running…). */
export class ConflictError extends FlowdeckError {
  readonly code: string;
  readonly status = 409;
  constructor(message: string, code = 'conflict') {
    super(message);
    this.code = code;
  }
}

/** Nothing could be acted on (no record to retry, no error left to change): exit 1, so scripts notice. */
export class NothingToDoError extends FlowdeckError {
  readonly code: string;
  readonly status = 404;
  constructor(message: string, code = 'nothing_to_do') {
    super(message);
    this.code = code;
  }
}

/** A job that ended with records that failed, or did not complete: its command exits 1. */
export class JobOutcomeError extends FlowdeckError {
  readonly code = 'job_not_completed';
  readonly status = 409;
  constructor(message: string) {
    super(message);
  }
}

export function isFlowdeckError(e: unknown): e is FlowdeckError {
  return e instanceof FlowdeckError;
}

/** The workspace cannot be used as it is (its directory, config.json or store): names the file and what to do. */
export class WorkspaceError extends FlowdeckError {
  readonly code = 'invalid_workspace';
  readonly status = 500;
}

/** A change asked of a workspace that is opened read-only (its files or directory are not writable). */
export class ReadOnlyWorkspaceError extends FlowdeckError {
  readonly code = 'read_only_workspace';
  readonly status = 403;
  constructor(readonly home: string) {
    super(`the workspace ${home} is read-only: this command changes it (reading commands still work); make it writable or use another FLOWDECK_HOME`);
  }
}

/** A flow whose file no longer defines it: its errors stay readable and resolvable, nothing runs. */
export class RemovedFlowError extends FlowdeckError {
  readonly code = 'removed_flow';
  readonly status = 422;
  constructor(flowName: string, file: string, action: 'retrying' | 'running' | 'enabling or disabling') {
    super(`flow "${flowName}" is no longer defined (its file ${file} is gone or no longer has it): its errors can be read and resolved, but ${action} it needs the flow back in a flow file`);
  }
}
