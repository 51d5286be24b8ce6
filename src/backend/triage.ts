import type {
  FlowStepAffectedErrorsResponse,
  FlowStepErrorsUnassignResponse,
  FlowStepResolvedResponse,
  FlowStepTagsResponse,
} from '../domain/api.js';
import { isMaskedConfigKey, USER_EMAIL_KEY } from '../domain/config-keys.js';
import { ConflictError, InvalidInputError, NotFoundError, ReadOnlyWorkspaceError } from '../domain/errors.js';
import { decodeId, encodeId, idMatchesTime } from '../domain/ids.js';
import { MASK } from '../domain/mask.js';
import { templateRefsIn } from '../flows/template.js';
import type { StepRow } from '../store/contract/rows.js';
import type { StoreTx } from '../store/contract/store.js';
import type { TagChange, TouchedError } from '../store/contract/queries.js';
import { tagCode } from '../workspace/demo.js';
import type { LocalBackend } from './local-backend.js';
import { selectErrors } from './selection.js';
import { errorIdOf, iso, toFlowStepError, toResolvedError } from './shapes.js';
import type { DeletedTag, ErrorDetail, ErrorListParams, ErrorSelection, MutationOptions, TagInfo, TagSelection, TagUpdate, TriageApi, UserInfo } from './contract/index.js';

// The triage mutations over a local workspace: assign, unassign, tag, resolve, reopen, delete
// resolved errors, and the tag catalog, users and config. Each mutation selects and changes its
// errors inside ONE store transaction and writes ONE audit row there: what a command reports is
// exactly what changed, and a failure (a bad id, a bad tag) changes nothing.

const EMAIL = /^[^\s@"(),:;<>[\]\\]+@(?:localhost|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)$/i;
const TAG_CODE = /^[A-Z2-9]{5}$/;
const CONFIG_KEY = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const SECRET_KEYS = 'secrets.<name>';
/** Written by `flowdeck demo` only: set by hand, it would let `demo --reset` wipe a real workspace. */
const DEMO_KEY = 'demo';

export function isEmail(text: string): boolean {
  return EMAIL.test(text);
}

/** Thrown inside a dry run's transaction to roll it back, carrying the would-be result. */
class DryRunRollback<T> {
  constructor(readonly result: T) {}
}

export class TriageService implements TriageApi {
  constructor(private readonly local: LocalBackend) {}

  private get store() {
    return this.local.store;
  }

  // ---- errors ---------------------------------------------------------------------------------

  async getError(errorId: string): Promise<ErrorDetail> {
    const decoded = decodeId('error', errorId);
    const row = decoded ? await this.store.errors.getError(decoded.rowId) : undefined;
    if (!row || !decoded || !idMatchesTime(decoded, row.occurredAt)) throw new NotFoundError('error', errorId);
    const step = await this.store.catalog.requireStep(row.step);
    const flow = await this.store.catalog.getFlow(step.flowId);
    const namer = await this.local.tagNamer();
    return {
      flowId: step.flowId,
      flowName: flow?.name ?? step.flowId,
      stepId: step.stepId,
      stepName: step.name,
      error: row.resolved ? toResolvedError(row, namer) : toFlowStepError(row, namer),
      resolved: row.resolved,
    };
  }

  async assign(flowRef: string, stepRef: string, selection: ErrorSelection, email: string, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    // `me` is whoever acts: the operator here, the token's user on a server.
    const address = email.trim().toLowerCase() === 'me' ? this.operator() : email.trim();
    if (!isEmail(address)) throw new InvalidInputError(`"${email}" is not an email address`, 'email');
    return this.mutate(options, async (tx) => {
      const { step, rowIds } = await selectErrors(this.local, flowRef, stepRef, selection, 'open', {}, tx);
      const now = Date.now();
      // A known user is assigned under their stored email; any other address verbatim, with a
      // synthetic user behind it so the error still gets an _assignedToUserId.
      const known = await tx.triage.userByEmail(address);
      const userId = known?.id ?? (await tx.triage.upsertUser(address, null, true, now));
      const assignee = known?.email ?? address;
      const changed = await tx.triage.assign(rowIds, { email: assignee, userId }, this.operator());
      await this.audit(tx, 'assign', step, changed, now, { email: assignee });
      return { errorsToReturn: ids(changed) };
    });
  }

  async unassign(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepErrorsUnassignResponse> {
    return this.mutate(options, async (tx) => {
      const { step, rowIds } = await selectErrors(this.local, flowRef, stepRef, selection, 'open', {}, tx);
      const now = Date.now();
      const changed = await tx.triage.unassign(rowIds);
      await this.audit(tx, 'unassign', step, changed, now);
      return { errorsToReturn: ids(changed) };
    });
  }

  async resolve(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    return this.mutate(options, async (tx) => {
      const { step, rowIds } = await selectErrors(this.local, flowRef, stepRef, selection, 'open', {}, tx);
      const now = Date.now();
      const changed = await tx.triage.resolve(rowIds, now, this.operator());
      await this.audit(tx, 'resolve', step, changed, now);
      return { errorsToReturn: ids(changed) };
    });
  }

  async reopen(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    return this.mutate(options, async (tx) => {
      const { step, rowIds, byErrorIds } = await selectErrors(this.local, flowRef, stepRef, selection, 'resolved', {}, tx);
      // Refused only when named: a key or filter reaching a superseded error skips it (repo.reopen does).
      if (byErrorIds.length > 0) {
        const [first] = await tx.triage.superseded(byErrorIds);
        if (first) {
          throw new InvalidInputError(
            `error ${encodeId('error', first.id, first.occurredAt)} was superseded by a newer error of the same record after a retry; work on that one (flowdeck errors list … --query rdk:<retryDataKey>)`,
          );
        }
      }
      const now = Date.now();
      const changed = await tx.triage.reopen(rowIds);
      await this.audit(tx, 'reopen', step, changed, now);
      return { errorsToReturn: ids(changed) };
    });
  }

  async deleteResolved(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    return this.mutate(options, async (tx) => {
      const { step, rowIds } = await selectErrors(this.local, flowRef, stepRef, selection, 'resolved', {}, tx);
      const now = Date.now();
      const changed = await tx.triage.deleteResolved(rowIds);
      await this.audit(tx, 'delete_resolved', step, changed, now);
      return { errorsToReturn: ids(changed) };
    });
  }

  async listResolved(flowRef: string, stepRef: string, params: ErrorListParams = {}): Promise<FlowStepResolvedResponse> {
    const { rows, nextPageURL } = await this.local.pageOfErrors(flowRef, stepRef, params, true);
    const namer = await this.local.tagNamer();
    const response: FlowStepResolvedResponse = { resolved: rows.map((r) => toResolvedError(r, namer)) };
    if (nextPageURL) response.nextPageURL = nextPageURL;
    return response;
  }

  // ---- tags -----------------------------------------------------------------------------------

  async listTags(): Promise<TagInfo[]> {
    return (await this.store.triage.tags()).map((t) => ({ tagId: t.code, tag: t.name, createdAt: iso(t.createdAt), numOpenError: t.open, numResolved: t.resolved }));
  }

  async createTag(name: string, code?: string): Promise<TagInfo> {
    const tagName = name.trim().replace(/\s+/g, ' ');
    if (!tagName) throw new InvalidInputError('a tag needs a name', 'name');
    if (tagName.length > 64) throw new InvalidInputError(`a tag name has at most 64 characters, got ${tagName.length}`, 'name');
    if (tagName.includes(',')) throw new InvalidInputError(`a tag name cannot contain a comma: "${tagName}"`, 'name');
    const wanted = code?.trim().toUpperCase();
    if (wanted !== undefined && !TAG_CODE.test(wanted)) {
      throw new InvalidInputError(`a tag code is 5 characters of A-Z (no I, O) and 2-9, got "${code}"`, 'code');
    }
    return this.store.withTransaction(async (tx) => {
      const sameName = await tx.triage.tagByName(tagName);
      if (sameName) throw new ConflictError(`tag "${sameName.name}" already exists (code ${sameName.code})`, 'duplicate_tag');
      let tagId: string;
      if (wanted !== undefined) {
        const taken = await tx.triage.tagByCode(wanted);
        if (taken) throw new ConflictError(`tag code ${wanted} is already used by "${taken.name}"`, 'duplicate_tag');
        tagId = wanted;
      } else {
        // The stable code of the name, like the demo's; on the rare collision, a salted one.
        tagId = tagCode(tagName);
        for (let salt = 1; await tx.triage.tagByCode(tagId); salt++) tagId = tagCode(`${tagName}#${salt}`);
      }
      const now = Date.now();
      await tx.triage.createTag(tagId, tagName, now);
      await tx.auditLog.audit({ at: now, actor: this.operator(), action: 'tag_create', count: 0, detail: { tagId, tag: tagName } });
      return { tagId, tag: tagName, createdAt: iso(now), numOpenError: 0, numResolved: 0 };
    });
  }

  async deleteTag(codeOrName: string, options: MutationOptions = {}): Promise<DeletedTag> {
    return this.mutate(options, async (tx) => {
      const tag = await tx.triage.findTag(codeOrName.trim());
      if (!tag) throw new NotFoundError('tag', codeOrName);
      const info = (await tx.triage.tags()).find((t) => t.code === tag.code)!;
      const now = Date.now();
      const untagged = await tx.triage.deleteTag(tag.code);
      await tx.auditLog.audit({ at: now, actor: this.operator(), action: 'tag_delete', count: untagged, detail: { tagId: tag.code, tag: tag.name } });
      return {
        tagId: tag.code,
        tag: tag.name,
        createdAt: iso(tag.createdAt),
        numOpenError: info.open,
        numResolved: info.resolved,
        numErrorsUntagged: untagged,
      };
    });
  }

  async setTags(flowRef: string, stepRef: string, selection: TagSelection, update: TagUpdate, options: MutationOptions = {}): Promise<FlowStepTagsResponse> {
    const change = await this.tagChange(update);
    return this.mutate(options, async (tx) => {
      const { step, rowIds } = await selectErrors(this.local, flowRef, stepRef, selection, selection.resolved ? 'resolved' : 'open', { errorIdsInEitherState: true }, tx);
      const now = Date.now();
      const changed = await tx.triage.setTags(rowIds, change);
      await this.audit(tx, 'tag', step, changed, now, { ...change });
      const open: TouchedError[] = [];
      const resolved: TouchedError[] = [];
      for (const e of sortNewestFirst(changed)) (e.resolved ? resolved : open).push(e);
      return { errorsToReturn: { errors: open.map(errorIdOf), resolved: resolved.map(errorIdOf) } };
    });
  }

  /** Names or codes → codes; an unknown one is refused by name. */
  private async tagChange(update: TagUpdate): Promise<TagChange> {
    const given = [update.set, update.add, update.remove];
    if (given.every((g) => g === undefined)) throw new InvalidInputError('say how to change the tags: --set, --add or --remove', 'tags');
    if (update.set !== undefined && (update.add !== undefined || update.remove !== undefined)) {
      throw new InvalidInputError('--set replaces every tag: use it alone, or --add/--remove', 'tags');
    }
    const catalog = await this.store.triage.tagCatalog();
    const codes = (refs: string[]): string[] => {
      const out: string[] = [];
      for (const ref of refs) {
        const lower = ref.trim().toLowerCase();
        if (!lower) continue;
        const tag = catalog.find((t) => t.code.toLowerCase() === lower) ?? catalog.find((t) => t.name.toLowerCase() === lower);
        if (!tag) throw new InvalidInputError(`unknown tag "${ref.trim()}" (see flowdeck tags list)`, 'tags', 'invalid_ref');
        if (!out.includes(tag.code)) out.push(tag.code);
      }
      return out;
    };
    const change: TagChange = {};
    if (update.set !== undefined) change.set = codes(update.set);
    if (update.add !== undefined) change.add = codes(update.add);
    if (update.remove !== undefined) change.remove = codes(update.remove);
    const both = (change.add ?? []).filter((c) => change.remove?.includes(c));
    if (both.length > 0) throw new InvalidInputError(`tag ${both.join(', ')} is both added and removed`, 'tags');
    return change;
  }

  // ---- users and config -----------------------------------------------------------------------

  async listUsers(): Promise<UserInfo[]> {
    return (await this.store.triage.users()).map((u) => {
      const user: UserInfo = { _id: encodeId('user', u.id, u.createdAt), email: u.email, synthetic: u.synthetic, createdAt: iso(u.createdAt) };
      if (u.name !== null) user.name = u.name;
      return user;
    });
  }

  async getConfig(key?: string): Promise<unknown> {
    const config = this.local.ws.config;
    if (key === undefined || key === '') return maskConfig(config.store, '');
    checkConfigKey(key);
    // Any stored key is shown (one no flow file references any more included), masked.
    if (config.has(key)) return maskConfig(config.get(key), key);
    // The keys `set` takes, the groups they sit in (`config get secrets`), and the demo marker.
    const known = [...this.configKeys(), DEMO_KEY];
    if (!known.some((k) => configKeyMatches(k, key) || k.startsWith(`${key}.`))) throw unknownConfigKey(key, known);
    throw new NotFoundError('config key', key);
  }

  async setConfig(key: string, value: unknown): Promise<void> {
    checkConfigKey(key);
    // config.json may be writable when the store is not: check first, so no half of the change is made.
    if (this.local.ws.readonly) throw new ReadOnlyWorkspaceError(this.local.ws.home);
    if (key === DEMO_KEY) throw new InvalidInputError(`config key "${DEMO_KEY}" is written by flowdeck demo only`, 'key');
    const known = this.configKeys();
    if (!known.some((k) => configKeyMatches(k, key))) throw unknownConfigKey(key, known);
    const config = this.local.ws.config;
    const current: unknown = config.get(key);
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      throw new InvalidInputError(`config key "${key}" holds several values; set one of them (${Object.keys(current).map((k) => `${key}.${k}`).join(', ')})`, 'key');
    }
    if (key === USER_EMAIL_KEY && (typeof value !== 'string' || !isEmail(value))) {
      throw new InvalidInputError(`user.email must be an email address, got ${JSON.stringify(value)}`, 'value');
    }
    config.set(key, value);
    await this.store.auditLog.audit({ at: Date.now(), actor: this.operator(), action: 'config_set', count: 0, detail: { key, value: maskConfig(value, key) } });
  }

  /**
   * The config keys flowdeck reads, so the only ones worth setting (any other would be a typo that
   * silently does nothing): the operator's user.email, secrets.<name> for {{config.secrets.NAME}}
   * templates, and any other {{config.path}} the flow files' connections, exports and imports use
   * (their baseURI, relativeURI, headers and auth see the config).
   */
  private configKeys(): string[] {
    const used = new Set<string>();
    const catalog = this.local.ws.catalog();
    for (const def of [...catalog.connections.values(), ...catalog.exports.values(), ...catalog.imports.values()].map((e) => e.def)) {
      for (const ref of templateRefsIn(def)) {
        const key = ref.startsWith('config.') ? ref.slice('config.'.length) : '';
        if (CONFIG_KEY.test(key) && key !== USER_EMAIL_KEY && !isSecretKey(key)) used.add(key);
      }
    }
    return [USER_EMAIL_KEY, SECRET_KEYS, ...[...used].sort()];
  }

  // ---- helpers --------------------------------------------------------------------------------

  private operator(): string {
    return this.local.operator;
  }

  /** One transaction per mutation; a dry run computes the same result and rolls it back. */
  private async mutate<T>(options: MutationOptions, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    try {
      return await this.store.withTransaction(async (tx) => {
        const result = await fn(tx);
        if (options.dryRun) throw new DryRunRollback(result);
        return result;
      });
    } catch (e) {
      if (e instanceof DryRunRollback) return e.result as T;
      throw e;
    }
  }

  private audit(tx: StoreTx, action: string, step: StepRow, changed: readonly TouchedError[], at: number, extra: Record<string, unknown> = {}): Promise<void> {
    return tx.auditLog.audit({
      at,
      actor: this.operator(),
      action,
      flowId: step.flowId,
      stepId: step.stepId,
      count: changed.length,
      detail: { ...extra, errorIds: ids(changed) },
    });
  }
}

function sortNewestFirst(rows: readonly TouchedError[]): TouchedError[] {
  return [...rows].sort((a, b) => b.id - a.id);
}

function ids(rows: readonly TouchedError[]): string[] {
  return sortNewestFirst(rows).map(errorIdOf);
}

/** Whether a known key (`secrets.<name>` stands for every secret) names `key`. */
function configKeyMatches(known: string, key: string): boolean {
  return known === key || (known === SECRET_KEYS && key.startsWith('secrets.'));
}

function unknownConfigKey(key: string, known: readonly string[]): InvalidInputError {
  return new InvalidInputError(`unknown config key "${key}" (known keys: ${known.join(', ')})`, 'key');
}

/** Names the config store (dot-prop) silently refuses to write, so `set` would report a change it never made. */
const RESERVED_CONFIG_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

function checkConfigKey(key: string): void {
  if (!CONFIG_KEY.test(key)) throw new InvalidInputError(`"${key}" is not a config key (dotted names, e.g. user.email)`, 'key');
  const reserved = key.split('.').find((segment) => RESERVED_CONFIG_SEGMENTS.has(segment));
  if (reserved) throw new InvalidInputError(`"${key}" is not a config key: "${reserved}" cannot be a name in it`, 'key');
}

function isSecretKey(key: string): boolean {
  return key === 'secrets' || key.startsWith('secrets.');
}

/** The value at `key` (at any depth of what is returned) with every leaf but user.email's the mask. */
function maskConfig(value: unknown, key: string): unknown {
  if (!isMaskedConfigKey(key)) return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return maskAll(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskConfig(v, key ? `${key}.${k}` : k);
  return out;
}

function maskAll(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return MASK;
  if (Array.isArray(value)) return value.map(maskAll);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v)]));
}
