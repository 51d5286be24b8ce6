import type { FlowStepAffectedErrorsResponse, FlowStepErrorsUnassignResponse, FlowStepResolvedResponse, FlowStepTagsResponse, ResolvedFlowStepError } from '../../domain/api.js';
import type { ErrorListParams, ErrorSelection } from './errors.js';

// The triage operations: assign, tag, resolve, reopen, delete resolved; the tag catalog, users and
// config. Who acts is the backend's acting user (the operator locally, the token's user on a server).

export interface MutationOptions {
  /** Compute exactly what would change (the same response), then roll back. */
  dryRun?: boolean;
}

export interface ErrorDetail {
  flowId: string;
  flowName: string;
  stepId: string;
  stepName: string;
  error: ResolvedFlowStepError;
  resolved: boolean;
}

/** The tag catalog entry: `tagId` is the short code written to errors, `tag` the name they show. */
export interface TagInfo {
  tagId: string;
  tag: string;
  createdAt: string;
  /** Errors carrying it now, open and resolved. */
  numOpenError: number;
  numResolved: number;
}

export interface DeletedTag extends TagInfo {
  /** Errors the tag was removed from. */
  numErrorsUntagged: number;
}

export interface UserInfo {
  _id: string;
  email: string;
  name?: string;
  /** An assignee email that is no known user (assigned verbatim). */
  synthetic: boolean;
  createdAt: string;
}

/** Tag codes or names; `set` is a full replace (exclusive with add/remove). */
export interface TagUpdate {
  set?: string[];
  add?: string[];
  remove?: string[];
}

/** A tag selection also reaches resolved errors: errorIds are taken in either state; keys, --all and filters choose one. */
export type TagSelection = ErrorSelection & { resolved?: boolean };

export interface TriageApi {
  getError(errorId: string): Promise<ErrorDetail>;

  assign(flowRef: string, stepRef: string, selection: ErrorSelection, email: string, options?: MutationOptions): Promise<FlowStepAffectedErrorsResponse>;
  unassign(flowRef: string, stepRef: string, selection: ErrorSelection, options?: MutationOptions): Promise<FlowStepErrorsUnassignResponse>;

  listTags(): Promise<TagInfo[]>;
  createTag(name: string, code?: string): Promise<TagInfo>;
  deleteTag(codeOrName: string, options?: MutationOptions): Promise<DeletedTag>;
  setTags(flowRef: string, stepRef: string, selection: TagSelection, update: TagUpdate, options?: MutationOptions): Promise<FlowStepTagsResponse>;

  /** PUT .../resolved (204 in the API): the ids that moved to resolved. */
  resolve(flowRef: string, stepRef: string, selection: ErrorSelection, options?: MutationOptions): Promise<FlowStepAffectedErrorsResponse>;
  /** Resolved errors back to open (the selection is over resolved errors). */
  reopen(flowRef: string, stepRef: string, selection: ErrorSelection, options?: MutationOptions): Promise<FlowStepAffectedErrorsResponse>;
  listResolved(flowRef: string, stepRef: string, params?: ErrorListParams): Promise<FlowStepResolvedResponse>;
  /** DELETE .../resolved (204 in the API): the ids permanently deleted. */
  deleteResolved(flowRef: string, stepRef: string, selection: ErrorSelection, options?: MutationOptions): Promise<FlowStepAffectedErrorsResponse>;

  listUsers(): Promise<UserInfo[]>;

  /** A config value (dotted key; none: the whole config), every value but user.email masked. */
  getConfig(key?: string): Promise<unknown>;
  setConfig(key: string, value: unknown): Promise<void>;
}
