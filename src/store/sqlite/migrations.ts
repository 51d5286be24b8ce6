// Versioned schema migrations, applied in order inside one transaction each; PRAGMA user_version
// records the last one applied. Never edit a shipped migration: add the next.
//
// Indexing for a million open errors: every listing is "one step's open (or resolved) errors,
// newest first", so each filterable column gets an index whose prefix is (step, resolved, column)
// and whose implicit rowid tail gives the newest-first order for free. Tags and message text get
// their own structures (error_tags, errors_fts) that can drive the query the same way.

import { idSecondsSql } from '../../domain/ids.js';

export const MIGRATIONS: readonly string[] = [
  /* 1: the foundation */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    base_uri TEXT NOT NULL,
    definition TEXT NOT NULL          -- JSON with secrets as their templates, never resolved values
  );
  CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    definition TEXT NOT NULL
  );
  CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    definition TEXT NOT NULL
  );
  CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    definition TEXT NOT NULL,
    disabled_in_file INTEGER NOT NULL DEFAULT 0,
    disabled_override INTEGER,        -- set by flows enable/disable; wins over the file
    removed INTEGER NOT NULL DEFAULT 0, -- gone from the files; kept while errors reference it
    last_executed_at INTEGER
  );
  CREATE TABLE steps (
    id INTEGER PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES flows(id),
    step_id TEXT NOT NULL,            -- the _exportId / _importId
    kind TEXT NOT NULL CHECK (kind IN ('export', 'lookup', 'import')),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (flow_id, step_id)
  );

  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0,  -- an assignee email that is no known user
    created_at INTEGER NOT NULL
  );
  CREATE TABLE tags (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    flow_id TEXT REFERENCES flows(id),
    step INTEGER REFERENCES steps(id),
    parent_id INTEGER REFERENCES jobs(id),
    retry_of INTEGER REFERENCES jobs(id),
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    last_modified INTEGER NOT NULL,
    triggered_by TEXT,
    canceled_by TEXT,
    num_error INTEGER NOT NULL DEFAULT 0,
    num_success INTEGER NOT NULL DEFAULT 0,
    num_ignore INTEGER NOT NULL DEFAULT 0,
    num_export INTEGER NOT NULL DEFAULT 0,
    num_pages_generated INTEGER NOT NULL DEFAULT 0,
    num_pages_processed INTEGER NOT NULL DEFAULT 0,
    done_exporting INTEGER NOT NULL DEFAULT 0,
    log_mode TEXT,
    owner_pid INTEGER,                -- the process running it; a dead owner means it was killed
    heartbeat_at INTEGER,
    options TEXT,                     -- JSON: retry options, back-off policy, rate…
    note TEXT                         -- why it failed or was canceled
  );
  CREATE INDEX ix_jobs_flow ON jobs (flow_id, created_at);
  CREATE INDEX ix_jobs_parent ON jobs (parent_id);
  CREATE INDEX ix_jobs_status ON jobs (status) WHERE status IN ('queued', 'running', 'retrying', 'canceling');

  CREATE TABLE retry_data (
    id INTEGER PRIMARY KEY,
    step INTEGER NOT NULL REFERENCES steps(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    stage TEXT NOT NULL,
    pg_export_id TEXT,
    one_to_many INTEGER NOT NULL DEFAULT 0,
    path_to_many TEXT,
    child_index INTEGER,
    trace_key TEXT,
    data TEXT NOT NULL,               -- JSON, masked
    adaptor_response TEXT,            -- JSON, masked
    attempts INTEGER NOT NULL DEFAULT 0  -- automatic retries spent on this record
  );

  CREATE TABLE traces (
    id INTEGER PRIMARY KEY,
    step INTEGER NOT NULL REFERENCES steps(id),
    time INTEGER NOT NULL,
    stage TEXT NOT NULL,
    method TEXT NOT NULL,
    status_code INTEGER,
    request TEXT NOT NULL,            -- JSON {method,url,headers,body}, masked
    response TEXT NOT NULL            -- JSON {statusCode,headers,body,receivedAt}, masked
  );
  CREATE INDEX ix_traces_step_time ON traces (step, time);

  CREATE TABLE errors (
    id INTEGER PRIMARY KEY,           -- errorId = encodeId('error', id, occurred_at)
    step INTEGER NOT NULL REFERENCES steps(id),
    resolved INTEGER NOT NULL DEFAULT 0,
    occurred_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    o_index TEXT,
    job INTEGER REFERENCES jobs(id),
    trace_key TEXT,
    classification TEXT,
    classified_by TEXT,
    trace INTEGER REFERENCES traces(id) ON DELETE SET NULL,
    retry_data INTEGER REFERENCES retry_data(id),
    purge_at INTEGER,
    retry_at INTEGER,
    tags TEXT,                        -- JSON array of tag codes, mirrored in error_tags
    assignee TEXT COLLATE NOCASE,
    assigned_by TEXT,
    assignee_user INTEGER REFERENCES users(id),
    resolved_at INTEGER,
    resolved_by TEXT
  );
  CREATE INDEX ix_errors_step ON errors (step, resolved);
  CREATE INDEX ix_errors_source ON errors (step, resolved, source);
  CREATE INDEX ix_errors_class ON errors (step, resolved, classification);
  CREATE INDEX ix_errors_code ON errors (step, resolved, code);
  CREATE INDEX ix_errors_assignee ON errors (step, resolved, assignee);
  CREATE INDEX ix_errors_job ON errors (job, step, resolved);
  CREATE INDEX ix_errors_retry_data ON errors (retry_data);
  CREATE INDEX ix_errors_trace_key ON errors (trace_key) WHERE trace_key IS NOT NULL;
  CREATE INDEX ix_errors_retry_at ON errors (retry_at) WHERE retry_at IS NOT NULL AND resolved = 0;

  CREATE TABLE error_tags (
    tag TEXT NOT NULL,
    step INTEGER NOT NULL,
    resolved INTEGER NOT NULL,
    error INTEGER NOT NULL REFERENCES errors(id) ON DELETE CASCADE,
    PRIMARY KEY (tag, step, resolved, error)
  ) WITHOUT ROWID;
  CREATE INDEX ix_error_tags_error ON error_tags (error);

  -- Word-prefix search over messages, newest first (rowid = errors.id).
  CREATE VIRTUAL TABLE errors_fts USING fts5 (message, content = '', contentless_delete = 1);

  CREATE TABLE log_entries (
    id INTEGER PRIMARY KEY,
    job INTEGER NOT NULL REFERENCES jobs(id),
    step INTEGER NOT NULL REFERENCES steps(id),
    record_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    parent_record_id TEXT,
    trace_key TEXT,
    status TEXT NOT NULL,
    stage TEXT,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    time_taken INTEGER
  );
  CREATE INDEX ix_log_entries_job ON log_entries (job, started_at);
  CREATE INDEX ix_log_entries_trace ON log_entries (job, trace_key);
  CREATE INDEX ix_log_entries_record ON log_entries (job, step, record_id);
  CREATE INDEX ix_log_entries_trace_key ON log_entries (trace_key) WHERE trace_key IS NOT NULL;

  CREATE TABLE log_data (
    entry INTEGER NOT NULL REFERENCES log_entries(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,               -- JSON, masked
    PRIMARY KEY (entry, stage, seq)
  ) WITHOUT ROWID;

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    flow_id TEXT,
    step_id TEXT,
    count INTEGER NOT NULL DEFAULT 0,
    detail TEXT                       -- JSON
  );
  CREATE INDEX ix_audit_at ON audit (at);
  `,
  /* 2: durable retry jobs — one row per record to re-feed, settled in the same transaction as its errors */ `
  CREATE TABLE retry_items (
    job INTEGER NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    retry_data INTEGER NOT NULL REFERENCES retry_data(id),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'resolved', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    result_error INTEGER,             -- the new error when the record failed again
    detail TEXT,                      -- the last failure's code and message
    PRIMARY KEY (job, seq)
  ) WITHOUT ROWID;
  CREATE INDEX ix_retry_items_pending ON retry_items (job, next_at) WHERE state = 'pending';
  CREATE INDEX ix_retry_items_data ON retry_items (retry_data) WHERE state = 'pending';
  `,
  /* 3: foreign-key lookups that bulk deletes need (a trace or snapshot deleted must not scan errors) */ `
  CREATE INDEX ix_errors_trace ON errors (trace) WHERE trace IS NOT NULL;
  CREATE INDEX ix_retry_items_retry_data ON retry_items (retry_data);
  `,
  /* 4: the seconds an error's retryDataKey and reqAndResKey encode, kept on the error (4 bytes each),
     so listings and the CSV export stop reading ~1 KB snapshot and trace rows just for their creation
     times. Every writer of errors.retry_data / errors.trace sets them (SqliteCore.insertError from the
     referenced rows, the generator, RecordsRepo.deleteTraces); they mean nothing while the pointer is
     NULL. Back-filled in one pass over errors (about 7 s for a million errors). */ `
  ALTER TABLE errors ADD COLUMN retry_data_sec INTEGER;  -- idSeconds(retry_data.created_at)
  ALTER TABLE errors ADD COLUMN trace_sec INTEGER;       -- idSeconds(traces.time)
  UPDATE errors SET
    retry_data_sec = (SELECT ${idSecondsSql('created_at')} FROM retry_data WHERE id = errors.retry_data),
    trace_sec = (SELECT ${idSecondsSql('time')} FROM traces WHERE id = errors.trace)
  WHERE retry_data IS NOT NULL OR trace IS NOT NULL;
  `,
  /* 5: step-selective message search. errors_fts gets a second column holding the step's token
     (ftsStepToken: 'zstep' || step), and a search matches `step : "zstep<key>" AND message : …`, so
     FTS intersects the word's doclist with the step's instead of handing every other step's hits to
     the join. Rebuilt from errors in one pass (about 3 s for a million errors). */ `
  DROP TABLE errors_fts;
  CREATE VIRTUAL TABLE errors_fts USING fts5 (message, step, content = '', contentless_delete = 1);
  INSERT INTO errors_fts (rowid, message, step) SELECT id, message, 'zstep' || step FROM errors;
  `,
  /* 6: retry_items had two indexes on retry_data (one partial, for pending items); the full one
     (migration 3) serves every lookup, and each index costs every insert and settle of a retry. */ `
  DROP INDEX ix_retry_items_data;
  `,
  /* 7: error groups. Every error gets a signature (src/domain/signature.ts: step, code, source,
     classification and the message's template, hashed to 48 bits) in errors.sig; error_sigs keeps
     each signature's parts and when it was first recorded. The writers set both (SqliteCore.insertError,
     the generator). Existing errors are signed by a JS back-fill after this migration (the template
     needs the normaliser): signature-backfill.ts walks them in batches from meta 'sig_backfill' (the
     last row id done, so a killed back-fill resumes; a big one drops ix_errors_sig first and rebuilds it
     by one sort at the end). ix_errors_sig's (step, resolved, sig, rowid) keys make a step's group
     counts one index-only pass and `sig:` a seek. */ `
  CREATE TABLE error_sigs (
    id INTEGER PRIMARY KEY,           -- the signature; sig:<12 hex> names it
    step INTEGER NOT NULL REFERENCES steps(id),
    code TEXT NOT NULL,
    source TEXT NOT NULL,
    classification TEXT,
    template TEXT NOT NULL,
    first_at INTEGER NOT NULL         -- occurred_at of its first error
  );
  ALTER TABLE errors ADD COLUMN sig INTEGER;  -- error_sigs.id
  CREATE INDEX ix_errors_sig ON errors (step, resolved, sig);
  INSERT INTO meta (key, value) VALUES ('sig_backfill', '0') ON CONFLICT (key) DO UPDATE SET value = '0';
  `,
  /* 8: a retry item may end 'resolved_meanwhile': its record's errors were resolved (or deleted) by
     someone else after the job was queued, so its outcome was kept out of the errors. SQLite cannot
     widen a CHECK in place: the table is rebuilt with its indexes (one copy of the rows). */ `
  CREATE TABLE retry_items_next (
    job INTEGER NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    retry_data INTEGER NOT NULL REFERENCES retry_data(id),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'resolved', 'failed', 'skipped', 'resolved_meanwhile')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    result_error INTEGER,             -- the new error when the record failed again
    detail TEXT,                      -- the last failure's code and message
    PRIMARY KEY (job, seq)
  ) WITHOUT ROWID;
  INSERT INTO retry_items_next (job, seq, retry_data, state, attempts, next_at, result_error, detail)
    SELECT job, seq, retry_data, state, attempts, next_at, result_error, detail FROM retry_items;
  DROP TABLE retry_items;
  ALTER TABLE retry_items_next RENAME TO retry_items;
  CREATE INDEX ix_retry_items_pending ON retry_items (job, next_at) WHERE state = 'pending';
  CREATE INDEX ix_retry_items_retry_data ON retry_items (retry_data);
  `,
  /* 9: API tokens for `flowdeck serve`. A token is shown once at creation; the store keeps only the
     sha256 of the whole token (a lookup by hash per request, hence the unique index) and its last 4
     characters to tell tokens apart on screen. An active token's name is unique per user, so
     `tokens revoke <name>` names one; a revoked token stays listed, its row kept for the record. */ `
  CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_email TEXT NOT NULL COLLATE NOCASE,  -- who the server acts as for this token's requests
    name TEXT NOT NULL COLLATE NOCASE,
    hash TEXT NOT NULL,               -- sha256 hex of the whole token; the token itself is never stored
    last4 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,             -- updated at most once a minute
    revoked_at INTEGER
  );
  CREATE UNIQUE INDEX ix_api_tokens_hash ON api_tokens (hash);
  CREATE UNIQUE INDEX ix_api_tokens_active_name ON api_tokens (user_email, name) WHERE revoked_at IS NULL;
  `,
  /* 10: item leases. A runner claims its next batch of a job's items for itself (lease_owner, the
     worker's id) until lease_until, renews the lease on its heartbeat, and settling or postponing
     ends it; an expired lease makes the item claimable again. One runner per job on SQLite, but the
     same semantics as PostgreSQL's. The partial index holds only leased items (about two batches
     per runner), so renewing and releasing a runner's leases are seeks, not a scan of the job. */ `
  ALTER TABLE retry_items ADD COLUMN lease_owner TEXT;
  ALTER TABLE retry_items ADD COLUMN lease_until INTEGER;
  CREATE INDEX ix_retry_items_leased ON retry_items (job, lease_owner) WHERE lease_owner IS NOT NULL;
  `,
];
