import type { AuditEntry, AuditPort } from '../contract/ports.js';
import type { PgSession } from './session.js';

export class PgAudit implements AuditPort {
  constructor(private readonly session: PgSession) {}

  async audit(entry: AuditEntry): Promise<void> {
    await this.session.execute('INSERT INTO audit (at, actor, action, flow_id, step_id, count, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      entry.at,
      entry.actor,
      entry.action,
      entry.flowId ?? null,
      entry.stepId ?? null,
      entry.count,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ]);
  }
}
