// The raw rows of a CSV export, as every store's RecordsPort.csvRows hands them to the exporter.

/**
 * Column layout of a CSV chunk row as a store's csvRows returns it (before the exporter rewrites it in place into
 * the output columns). Slots that the output leaves empty (exportDataURI, importDataURI, legacyId)
 * carry the creation times the ids are encoded from, so a row is one array from the store to the CSV.
 */
export const CSV_SLOTS = {
  occurredAt: 0,
  source: 1,
  code: 2,
  message: 3,
  traceKey: 4,
  /** exportDataURI: carries errors.retry_data_sec (the retryDataKey's seconds) */
  retryDataSeconds: 5,
  /** importDataURI: carries errors.trace_sec (the reqAndResKey's seconds) */
  traceSeconds: 6,
  oIndex: 7,
  /** retryDataKey: carries errors.retry_data */
  retryData: 8,
  /** errorId: carries errors.id */
  errorRow: 9,
  /** legacyId: always empty (users' creation times come from usersCreatedAt(): a handful of rows, not a join) */
  legacyId: 10,
  /** reqAndResKey: carries errors.trace */
  trace: 11,
  purgeAt: 12,
  tags: 13,
  assignedTo: 14,
  assignedBy: 15,
  /** _assignedToUserId: carries errors.assignee_user */
  user: 16,
} as const;
