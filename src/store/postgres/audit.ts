import type { AuditEntry, AuditPort } from '../contract/ports.js';
import type { PgSession } from './session.js';
import { AUDIT_COLUMNS, auditValues } from '../shared/row-values.js';

export class PgAudit implements AuditPort {
  constructor(private readonly session: PgSession) {}

  async audit(entry: AuditEntry): Promise<void> {
    await this.session.execute(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, auditValues(entry));
  }
}
