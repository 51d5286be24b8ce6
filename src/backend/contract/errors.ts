// What a listing, count, facet or group read takes and answers, and which errors a bulk action
// selects: plain data, the same on every face and over the wire.

export interface ErrorListParams {
  /** Query-language text; flags are merged into it by the caller. */
  query?: string;
  limit?: number;
  /** Continue after this errorId (newest-first keyset paging, what nextPageURL carries). */
  before?: string;
  /** Oldest first (`asc`): pages upward from the oldest error, continuing with `after`. */
  order?: 'desc' | 'asc';
  /** With `order: 'asc'`: only errors newer than this errorId. */
  after?: string;
}

export interface ErrorCountParams {
  /** Query-language text, as for listErrors. */
  query?: string;
  /** Count the resolved errors instead of the open ones. */
  resolved?: boolean;
}

export type FacetField = 'classification' | 'code' | 'source';

export interface Facet {
  value: string;
  count: number;
}

export interface ErrorSelection {
  errorIds?: string[];
  retryDataKeys?: string[];
  all?: boolean;
  /** Query-language text; with `all` unset, a non-empty query selects its matches. */
  query?: string;
  /**
   * With `all` or a query: only errors up to this errorId (ids follow time), so errors recorded after
   * the set was counted (automatic retries add some all the time) are not reached.
   */
  upToErrorId?: string;
  /**
   * The errorIds are a set counted and confirmed earlier: those that have left the state since (resolved,
   * reopened or deleted meanwhile) are skipped instead of refusing the whole action.
   */
  confirmed?: boolean;
}

export type GroupSort = 'count' | 'newest';

export interface ErrorGroupParams {
  /** Query-language text: the groups of the errors it matches. */
  query?: string;
  sort?: GroupSort;
  limit?: number;
  /** The resolved errors' groups instead of the open ones'. */
  resolved?: boolean;
}

export interface ErrorGroup {
  /** The signature: `sig:<this>` selects the group's errors. */
  sig: string;
  _expOrImpId: string;
  stepName: string;
  code: string;
  source: string;
  classification?: string;
  /** The message with its variable parts replaced (<n>, <id>, <email>, '<value>', …). */
  template: string;
  count: number;
  /** count / the step's errors in the set listed (0..1). */
  share: number;
  /** Oldest and newest error of the group in the set listed. */
  firstSeenAt: string;
  lastSeenAt: string;
  /** The newest error's message and id. */
  sampleMessage: string;
  sampleErrorId: string;
  /** When the signature's first error was recorded. */
  firstRecordedAt: string;
  /** First recorded at or after `newSince`. */
  new: boolean;
}

export interface ErrorGroupsResponse {
  groups: ErrorGroup[];
  /** Errors in the set listed, over all its groups (also those past the limit). */
  total: number;
  /** Groups in the set listed (also those past the limit). */
  numGroups: number;
  /** What "new" is measured from: the query's since, else the flow's last run; absent when neither exists. */
  newSince?: string;
}
