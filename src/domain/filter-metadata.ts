import type { ErrorsFilterMetadataResponse } from './api.js';

// The static filter enumerations of GET /v1/errors/filterMetadata, in the spec's order.
export const ERROR_SOURCES = [
  'internal', 'application', 'connection', 'resource', 'transformation', 'output_filter',
  'input_filter', 'import_filter', 'lookup', 'mapping', 'response_mapping', 'pre_save_page_hook',
  'pre_parse_hook', 'pre_map_hook', 'post_map_hook', 'post_submit_hook', 'post_response_map_hook',
  'post_aggregate_hook', 'pre_send_hook_ss', 'pre_map_hook_ss', 'post_map_hook_ss',
  'post_submit_hook_ss', 'tool_input', 'tool_output',
] as const;
export type ErrorSource = (typeof ERROR_SOURCES)[number];

export const CLASSIFICATIONS = [
  'connection', 'duplicate', 'governance', 'intermittent', 'missing', 'parse', 'value',
  'rate_limit', 'too_large', 'none',
] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export function filterMetadata(): ErrorsFilterMetadataResponse {
  return {
    filters: [
      { name: 'source', enums: [...ERROR_SOURCES] },
      { name: 'classification', enums: [...CLASSIFICATIONS] },
    ],
  };
}
