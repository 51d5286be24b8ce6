import { createRequire } from 'node:module';
import type { z } from 'zod';

// Flow files in the integrator.io shape: connections, exports (sources and lookups), imports
// (targets) and flows whose pageGenerators/pageProcessors reference them by name or `_id`.
// A per-step retry policy (`onError.retries`) follows seed 003's {count, intervalSeconds,
// backoffRate}. Strings may hold templates: {{env.X}}, {{config.x.y}}, {{mocks.shop}}.

// zod is loaded (and the schemas built) the first time a flow file is parsed, not when the module
// loads: a command on a workspace whose flow files did not change parses nothing, and zod is most of
// what such a command would otherwise load.
const require = createRequire(import.meta.url);

function build(z: typeof import('zod').z) {
  const nameField = z.string().trim().min(1).max(255);
  const idField = z.string().regex(/^[0-9a-fA-F]{24}$/, 'must be a 24-character hex id');

  const header = z.object({ name: z.string().min(1), value: z.string() }).strict();

  const authSchema = z.discriminatedUnion('type', [
    z.object({ type: z.literal('none') }).strict(),
    z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
    z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string().min(1) }).strict(),
    z.object({ type: z.literal('apikey'), header: z.string().min(1), value: z.string().min(1) }).strict(),
  ]);

  const connectionSchema = z
    .object({
      _id: idField.optional(),
      name: nameField,
      type: z.literal('http').default('http'),
      http: z
        .object({
          baseURI: z.string().min(1),
          headers: z.array(header).default([]),
          auth: authSchema.default({ type: 'none' }),
          /** Idle timeout: the longest wait for the response's headers or its next bytes. */
          timeoutMs: z.number().int().min(50).max(600_000).default(10_000),
          /** Total deadline of one request, however steadily a target dribbles its bytes. */
          deadlineMs: z.number().int().min(50).max(3_600_000).default(60_000),
          /** The most of a response body that is read; past it the request is aborted (too_large). */
          maxResponseBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(10 * 1024 * 1024),
          /** Header names whose values are secrets beyond the built-in pattern (key, token, auth…). */
          secretHeaders: z.array(z.string().trim().min(1)).default([]),
          concurrency: z.number().int().min(1).max(512).default(16),
        })
        .strict(),
    })
    .strict();

  const pagingSchema = z.discriminatedUnion('method', [
    z.object({ method: z.literal('none') }).strict(),
    z
      .object({
        method: z.literal('page'),
        pageParam: z.string().default('page'),
        sizeParam: z.string().default('pageSize'),
        pageSize: z.number().int().min(1).max(10_000).default(50),
        firstPage: z.number().int().min(0).default(1),
        maxPages: z.number().int().min(1).max(100_000).default(1000),
      })
      .strict(),
  ]);

  const fieldMapping = z
    .object({
      extract: z.string().min(1).optional(),
      generate: z.string().min(1),
      hardCodedValue: z.unknown().optional(),
      required: z.boolean().default(false),
      dataType: z.enum(['string', 'number', 'boolean', 'object', 'array']).optional(),
    })
    .strict()
    .refine((f) => f.extract !== undefined || f.hardCodedValue !== undefined, {
      message: 'needs extract or hardCodedValue',
    });

  const listMapping = z
    .object({
      generate: z.string().min(1),
      extract: z.string().min(1),
      fields: z.array(fieldMapping).min(1),
    })
    .strict();

  const mappingSchema = z
    .object({ fields: z.array(fieldMapping).default([]), lists: z.array(listMapping).default([]) })
    .strict();

  const httpRequest = z
    .object({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
      relativeURI: z.string().min(1),
      headers: z.array(header).default([]),
    })
    .strict();

  const exportSchema = z
    .object({
      _id: idField.optional(),
      name: nameField,
      _connectionId: z.string().min(1),
      http: httpRequest
        .extend({
          paging: pagingSchema.default({ method: 'none' }),
          response: z.object({ resourcePath: z.string().default('') }).strict().default({ resourcePath: '' }),
        })
        .strict(),
      traceKeyTemplate: z.string().optional(),
      /** For lookups: which fields of the response to merge into the record. */
      responseMapping: z
        .object({ fields: z.array(z.object({ extract: z.string().min(1), generate: z.string().min(1) }).strict()).default([]) })
        .strict()
        .optional(),
    })
    .strict();

  const importSchema = z
    .object({
      _id: idField.optional(),
      name: nameField,
      _connectionId: z.string().min(1),
      http: httpRequest.extend({ method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).default('POST') }).strict(),
      mapping: mappingSchema.optional(),
    })
    .strict();

  const retryPolicySchema = z
    .object({
      count: z.number().int().min(0).max(100).default(3),
      intervalSeconds: z.number().min(0).max(86_400).default(1),
      backoffRate: z.number().min(1).max(10).default(2),
      maxIntervalSeconds: z.number().min(0).max(86_400).default(300),
    })
    .strict();

  const onErrorSchema = z.object({ retries: retryPolicySchema.optional() }).strict();

  const pageGeneratorSchema = z
    .object({ _exportId: z.string().min(1), skipRetries: z.boolean().optional(), onError: onErrorSchema.optional() })
    .strict();

  const pageProcessorSchema = z.discriminatedUnion('type', [
    z
      .object({
        type: z.literal('import'),
        _importId: z.string().min(1),
        proceedOnFailure: z.boolean().default(false),
        onError: onErrorSchema.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('export'),
        _exportId: z.string().min(1),
        proceedOnFailure: z.boolean().default(false),
        onError: onErrorSchema.optional(),
      })
      .strict(),
  ]);

  const flowSchema = z
    .object({
      _id: idField.optional(),
      name: nameField,
      description: z.string().optional(),
      disabled: z.boolean().default(false),
      skipRetries: z.boolean().optional(),
      autoResolveMatchingTraceKeys: z.boolean().default(false),
      logging: z.object({ mode: z.enum(['off', 'full']).default('full') }).strict().optional(),
      onError: onErrorSchema.optional(),
      pageGenerators: z.array(pageGeneratorSchema).min(1),
      pageProcessors: z.array(pageProcessorSchema).min(1),
    })
    .strict();

  const flowFileSchema = z
    .object({
      connections: z.array(connectionSchema).default([]),
      exports: z.array(exportSchema).default([]),
      imports: z.array(importSchema).default([]),
      flows: z.array(flowSchema).default([]),
    })
    .strict();
  return { authSchema, connectionSchema, pagingSchema, mappingSchema, exportSchema, importSchema, retryPolicySchema, onErrorSchema, pageGeneratorSchema, pageProcessorSchema, flowSchema, flowFileSchema };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The flow-file schemas, built on first use. */
export function schemas(): Schemas {
  built ??= build((require('zod') as typeof import('zod')).z);
  return built;
}

export type ConnectionDef = z.infer<Schemas['connectionSchema']>;
export type ExportDef = z.infer<Schemas['exportSchema']>;
export type ImportDef = z.infer<Schemas['importSchema']>;
export type FlowDef = z.infer<Schemas['flowSchema']>;
export type FlowFile = z.infer<Schemas['flowFileSchema']>;
export type RetryPolicy = z.infer<Schemas['retryPolicySchema']>;
export type Mapping = z.infer<Schemas['mappingSchema']>;
export type Auth = z.infer<Schemas['authSchema']>;
