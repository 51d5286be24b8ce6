import type { FlowErrorsResponse } from '../../domain/api.js';
import type { StepKind } from '../../flows/load.js';
import type { FlowInfo, StepInfo } from '../contract/index.js';

// A flow as a server of the spec lists it (the platform's flow object: `_id`, `name`, `disabled`,
// `pageGenerators[]._exportId`, `pageProcessors[]` with `_importId` or `_exportId`, routers'
// branches, `lastExecutedAt`) plus its `GET /v1/flows/{_id}/errors` counts, as flowdeck's FlowInfo.
// A flowdeck server answers FlowInfo itself (with `steps` and `numOpenError`): taken as it is.

interface SpecProcessor {
  type?: string;
  _exportId?: string;
  _importId?: string;
}

export interface SpecFlow {
  _id: string;
  name?: string;
  disabled?: boolean;
  lastExecutedAt?: string;
  _exportId?: string;
  _importId?: string;
  pageGenerators?: Array<{ _exportId?: string }>;
  pageProcessors?: SpecProcessor[];
  routers?: Array<{ branches?: Array<{ pageProcessors?: SpecProcessor[] }> }>;
  /** A flowdeck server's FlowInfo fields. */
  steps?: StepInfo[];
  numOpenError?: number;
  file?: string;
}

/** Whether the server already answered flowdeck's FlowInfo (steps and counts included). */
export function isFlowInfo(raw: SpecFlow): boolean {
  return Array.isArray(raw.steps) && typeof raw.numOpenError === 'number';
}

/** The steps of a spec flow in pipeline order: generators, then processors, then routed processors. */
export function specSteps(raw: SpecFlow): Array<{ _id: string; type: StepKind }> {
  const out: Array<{ _id: string; type: StepKind }> = [];
  const add = (id: string | undefined, type: StepKind) => {
    if (id && !out.some((s) => s._id === id)) out.push({ _id: id, type });
  };
  for (const pg of raw.pageGenerators ?? []) add(pg._exportId, 'export');
  const processors = (list: SpecProcessor[] | undefined) => {
    for (const pp of list ?? []) {
      if (pp.type === 'import' || (pp.type === undefined && pp._importId)) add(pp._importId, 'import');
      else add(pp._exportId, 'lookup');
    }
  };
  processors(raw.pageProcessors);
  for (const router of raw.routers ?? []) for (const branch of router.branches ?? []) processors(branch.pageProcessors);
  // A flow of the older single-step shape names its export and import at the top.
  if (out.length === 0) {
    add(raw._exportId, 'export');
    add(raw._importId, 'import');
  }
  return out;
}

export function toFlowInfo(raw: SpecFlow, errors: FlowErrorsResponse | undefined): FlowInfo {
  if (isFlowInfo(raw)) {
    // FlowInfo.file is local-only (optional in the contract): a server's flows have none, and an
    // empty one would show as a blank "File:" and a `"file": ""` that no local listing has.
    const { file: _file, ...served } = raw as unknown as FlowInfo;
    return served;
  }
  const counts = new Map((errors?.flowErrors ?? []).map((e) => [e._expOrImpId, e]));
  const steps: StepInfo[] = specSteps(raw).map((s, position) => {
    const count = counts.get(s._id);
    // The spec's flow object carries step ids only; the id is the name a person can type.
    const step: StepInfo = { _id: s._id, name: s._id, type: s.type, position, numOpenError: count?.numError ?? 0 };
    if (count?.lastErrorAt) step.lastErrorAt = count.lastErrorAt;
    return step;
  });
  const info: FlowInfo = {
    _id: raw._id,
    name: raw.name ?? raw._id,
    disabled: raw.disabled === true,
    numOpenError: steps.reduce((n, s) => n + s.numOpenError, 0),
    steps,
  };
  if (raw.lastExecutedAt) info.lastExecutedAt = raw.lastExecutedAt;
  return info;
}

/** The `rel="next"` target of an RFC 5988 Link header, if any. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2]!)) return m[1];
  }
  return undefined;
}
