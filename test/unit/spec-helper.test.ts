import { describe, expect, it } from 'vitest';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';

// The validator itself: if it accepted everything, every schema assertion in the suite would be hollow.
describe('spec helper', () => {
  const valid = { errorId: 'a'.repeat(24), occurredAt: '2025-03-03T08:00:00.000Z', source: 'application', code: '422', message: 'x' };

  it('accepts a valid FlowStepError and rejects a wrong one', () => {
    expect(validateAgainst('FlowStepError', valid)).toEqual([]);
    expect(validateAgainst('FlowStepError', { ...valid, message: undefined })).not.toEqual([]);
    expect(validateAgainst('FlowStepError', { ...valid, occurredAt: 'yesterday' }).join()).toMatch(/date-time/);
    expect(validateAgainst('FlowStepError', { ...valid, _flowJobId: 'not-an-id' }).join()).toMatch(/objectId/);
    expect(validateAgainst('FlowStepError', { ...valid, tags: null })).toEqual([]);
  });

  it('resolves refs between schemas', () => {
    expect(validateAgainst('FlowStepErrorsResponse', { errors: [valid] })).toEqual([]);
    expect(validateAgainst('FlowStepErrorsResponse', { errors: [{ ...valid, code: 422 }] }).join()).toMatch(/errors\/0\/code/);
    expect(validateAgainst('Job', { _id: 'b'.repeat(24), type: 'flow', status: 'done' }).join()).toMatch(/status/);
  });

  it('lists keys a schema does not declare', () => {
    expect(undeclaredKeys('FlowStepError', valid)).toEqual([]);
    expect(undeclaredKeys('FlowStepError', { ...valid, internalRowId: 3 })).toEqual(['internalRowId']);
    expect(() => validateAgainst('NoSuchSchema', {})).toThrow(/NoSuchSchema/);
  });
});
