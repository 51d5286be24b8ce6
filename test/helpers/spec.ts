import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// Validates values against the vendored Flows API schemas (test/fixtures/flows-api.schemas.json, a
// copy of the shared spec: tests never read outside the repository at run time).

const SPEC_KEY = 'flows-api.schemas.json';

const document = JSON.parse(readFileSync(new URL('../fixtures/flows-api.schemas.json', import.meta.url), 'utf8')) as {
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
};

// ajv-formats is CommonJS; depending on interop its function is the module or its `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('objectId', /^[0-9a-fA-F]{24}$/);
ajv.addSchema(document, SPEC_KEY);

const compiled = new Map<string, ValidateFunction>();

function validatorFor(schemaName: string): ValidateFunction {
  let validate = compiled.get(schemaName);
  if (!validate) {
    if (!document.components.schemas[schemaName]) throw new Error(`no schema ${schemaName} in the vendored spec`);
    validate = ajv.getSchema(`${SPEC_KEY}#/components/schemas/${schemaName}`);
    if (!validate) throw new Error(`ajv could not resolve ${schemaName}`);
    compiled.set(schemaName, validate);
  }
  return validate;
}

/** The validation errors of `value` against `#/components/schemas/<schemaName>`; empty when valid. */
export function validateAgainst(schemaName: string, value: unknown): string[] {
  const validate = validatorFor(schemaName);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/**
 * Top-level keys of `value` that the schema does not declare. The spec's objects mostly allow
 * additional properties, but flowdeck promises to print the API's shapes with no fields of its own.
 */
export function undeclaredKeys(schemaName: string, value: unknown): string[] {
  const schema = document.components.schemas[schemaName];
  if (!schema?.properties) throw new Error(`schema ${schemaName} has no properties`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value).filter((k) => !(k in schema.properties!));
}
