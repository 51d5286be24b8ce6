import { InvalidInputError } from '../domain/errors.js';
import { parseQuery, resolveTimeValue } from '../domain/query.js';
import { formatSignature } from '../domain/signature.js';
import type { GroupCount } from '../store/contract/queries.js';
import type { StepRow } from '../store/contract/rows.js';
import type { LocalBackend } from './local-backend.js';
import { errorIdOf, iso } from './shapes.js';
import type { ErrorGroup, ErrorGroupParams, ErrorGroupsResponse, GroupSort } from './contract/index.js';

// Error groups: a step's (or a flow's) errors counted by signature, largest or newest first, with
// what an operator needs to recognise the problem and act on it (`sig:<id>` in any bulk command).

const GROUP_SORTS: readonly GroupSort[] = ['count', 'newest'];
const DEFAULT_GROUP_LIMIT = 50;
const MAX_GROUP_LIMIT = 1000;

function parseGroupSort(value: string | undefined): GroupSort {
  if (value === undefined) return 'count';
  if ((GROUP_SORTS as readonly string[]).includes(value)) return value as GroupSort;
  throw new InvalidInputError(`sort must be one of ${GROUP_SORTS.join(', ')}, got "${value}"`, 'sort');
}

export async function errorGroups(local: LocalBackend, flowRef: string, stepRef: string | undefined, params: ErrorGroupParams = {}): Promise<ErrorGroupsResponse> {
  const flow = await local.resolveFlow(flowRef);
  const steps: StepRow[] = stepRef !== undefined ? [await local.resolveStep(flow, stepRef)] : (await local.store.catalog.steps(flow.id)).filter((s) => s.position < 1000);
  const sort = parseGroupSort(params.sort);
  const limit = params.limit ?? DEFAULT_GROUP_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GROUP_LIMIT) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_GROUP_LIMIT}, got ${limit}`, 'limit');
  }
  const terms = parseQuery(params.query ?? '').terms;
  const ctx = await local.queryContext();
  const repo = local.store.groups;

  const resolved = params.resolved === true;
  const counted: Array<GroupCount & { sig: number; step: StepRow; stepTotal: number }> = [];
  let total = 0;
  for (const step of steps) {
    const groups = await repo.countGroups({ step: step.key, resolved, terms }, ctx);
    const stepTotal = groups.reduce((n, g) => n + g.count, 0);
    total += stepTotal;
    for (const g of groups) if (g.sig !== null) counted.push({ ...g, sig: g.sig, step, stepTotal });
  }
  type Edged = (typeof counted)[number] & { firstId: number; lastId: number };
  const withEdges = async (of: typeof counted): Promise<Edged[]> => {
    const out: Edged[] = [];
    for (const g of of) {
      const e = await repo.edges(g.step.key, resolved, g);
      if (e) out.push({ ...g, ...e });
    }
    return out;
  };
  // Largest first (ties in signature order, so the order is stable); or newest first, which needs
  // every group's newest error.
  let ordered: Edged[];
  if (sort === 'count') {
    counted.sort((a, b) => b.count - a.count || a.sig - b.sig);
    ordered = await withEdges(counted.slice(0, limit));
  } else {
    ordered = (await withEdges(counted)).sort((a, b) => b.lastId - a.lastId).slice(0, limit);
  }

  const newSince = await newCutoff(local, flow.id, terms, ctx.now);
  const groups: ErrorGroup[] = [];
  for (const g of ordered) {
    const d = await repo.detail(g);
    if (!d) continue;
    groups.push({
      sig: formatSignature(g.sig),
      _expOrImpId: g.step.stepId,
      stepName: g.step.name,
      code: d.code,
      source: d.source,
      ...(d.classification !== null ? { classification: d.classification } : {}),
      template: d.template,
      count: g.count,
      share: g.stepTotal > 0 ? g.count / g.stepTotal : 0,
      firstSeenAt: iso(d.firstAt),
      lastSeenAt: iso(d.lastAt),
      sampleMessage: d.sampleMessage,
      sampleErrorId: errorIdOf({ id: g.lastId, occurredAt: d.lastAt }),
      firstRecordedAt: iso(d.firstRecordedAt),
      new: newSince !== undefined && d.firstRecordedAt >= newSince,
    });
  }
  const response: ErrorGroupsResponse = { groups, total, numGroups: counted.length };
  if (newSince !== undefined) response.newSince = iso(newSince);
  return response;
}

/** The query's (latest) positive since, else the start of the flow's last run. */
async function newCutoff(local: LocalBackend, flowId: string, terms: ReturnType<typeof parseQuery>['terms'], now: number): Promise<number | undefined> {
  let since: number | undefined;
  for (const t of terms) {
    if (t.kind === 'field' && t.field === 'since' && !t.negate) since = Math.max(since ?? -Infinity, resolveTimeValue(t.value, now));
  }
  if (since !== undefined) return since;
  const [last] = await local.store.jobs.listJobs({ flowId, type: 'flow', limit: 1 });
  return last ? (last.startedAt ?? last.createdAt) : undefined;
}
