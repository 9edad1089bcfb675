import Crypto
import Foundation
import GRDB

/// The store's schema, as named migrations. A migration that has landed is never edited: change
/// the schema by appending a new one. Migrations use raw SQL, never app types.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        // catalogue: data — the schema's SQL: its comments name the registers
        m.registerMigration("v1-replication-and-registers") { db in
            try db.execute(sql: """
                -- This node. One row.
                CREATE TABLE local_node (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    node_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('centre', 'grid', 'building')),
                    grid TEXT,
                    building TEXT,
                    last_hlc INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL
                );

                -- Every origin whose changes this store holds; idx is local only.
                CREATE TABLE origins (
                    idx INTEGER PRIMARY KEY,
                    node_id TEXT NOT NULL UNIQUE,
                    public_key BLOB NOT NULL UNIQUE,
                    max_seq INTEGER NOT NULL DEFAULT 0,
                    last_hash BLOB NOT NULL
                );

                -- The change log, in the order this node applied it (pos), which is causal order.
                CREATE TABLE changes (
                    pos INTEGER PRIMARY KEY,
                    origin INTEGER NOT NULL REFERENCES origins(idx),
                    seq INTEGER NOT NULL,
                    hlc INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    body BLOB NOT NULL,
                    signature BLOB NOT NULL,
                    UNIQUE (origin, seq)
                );

                -- Which changes touched which record: the history behind `request show`.
                CREATE TABLE change_records (
                    record TEXT NOT NULL,
                    pos INTEGER NOT NULL,
                    PRIMARY KEY (record, pos)
                ) WITHOUT ROWID;

                -- Every record: its collection and the current heads of all its fields (ops no
                -- other known op overwrites), encoded as one blob (see RecordHeads.swift).
                -- A rowid table: rows are appended in arrival order, and only the small index on
                -- the (random) record ID takes random inserts.
                CREATE TABLE record_state (
                    record TEXT PRIMARY KEY,
                    collection TEXT NOT NULL,
                    heads BLOB NOT NULL
                );

                -- Fields whose heads hold different values. id is the same on every node.
                CREATE TABLE open_conflicts (
                    id TEXT PRIMARY KEY,
                    record TEXT NOT NULL,
                    field TEXT NOT NULL,
                    UNIQUE (record, field)
                );

                -- Every competing value of each open conflict.
                CREATE TABLE conflict_values (
                    conflict TEXT NOT NULL REFERENCES open_conflicts(id) ON DELETE CASCADE,
                    origin INTEGER NOT NULL REFERENCES origins(idx),
                    seq INTEGER NOT NULL,
                    hlc INTEGER NOT NULL,
                    value,
                    PRIMARY KEY (conflict, origin, seq)
                ) WITHOUT ROWID;

                -- 需求清单: current (winning) values of every request.
                CREATE TABLE requests (
                    id TEXT PRIMARY KEY,
                    grid TEXT, building TEXT, unit TEXT, room TEXT,
                    resident TEXT, phone TEXT,
                    category TEXT, title TEXT, detail TEXT,
                    due TEXT, urgent INTEGER,
                    status TEXT,
                    assigned_service TEXT, assigned_person TEXT,
                    satisfaction TEXT, rating_comment TEXT,
                    created_at TEXT, accepted_at TEXT, assigned_at TEXT, started_at TEXT,
                    resolved_at TEXT, rated_at TEXT, closed_at TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                );

                -- 服务清单.
                CREATE TABLE services (
                    id TEXT PRIMARY KEY,
                    name TEXT, provider TEXT, provider_kind TEXT, category TEXT, grid TEXT,
                    contact TEXT, description TEXT, status TEXT, created_at TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                );

                -- 跟进记录: append-only follow-up notes.
                CREATE TABLE request_notes (
                    id TEXT PRIMARY KEY,
                    request TEXT, text TEXT, author TEXT, created_at TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX request_notes_by_request ON request_notes(request);

                -- Categories added by the centre (defaults are built in).
                CREATE TABLE categories (
                    id TEXT PRIMARY KEY,
                    name TEXT, created_at TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                );

                -- Node profiles as each node publishes them.
                CREATE TABLE nodes (
                    id TEXT PRIMARY KEY,
                    name TEXT, role TEXT, grid TEXT, building TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                );

                -- Every competing value of every open conflict, readable with sqlite3.
                CREATE VIEW conflicts AS
                SELECT c.id AS conflict, c.record, r.collection, c.field, v.value,
                       o.node_id AS origin, n.name AS origin_name, v.seq,
                       strftime('%Y-%m-%dT%H:%M:%fZ', (v.hlc >> 16) / 1000.0, 'unixepoch') AS time
                FROM open_conflicts c
                JOIN conflict_values v ON v.conflict = c.id
                JOIN record_state r ON r.record = c.record
                JOIN origins o ON o.idx = v.origin
                LEFT JOIN nodes n ON n.id = o.node_id;

                -- The change log with readable origins and times.
                CREATE VIEW change_log AS
                SELECT c.pos, o.node_id AS origin, n.name AS origin_name, c.seq,
                       strftime('%Y-%m-%dT%H:%M:%fZ', (c.hlc >> 16) / 1000.0, 'unixepoch') AS time,
                       hex(c.hash) AS hash
                FROM changes c
                JOIN origins o ON o.idx = c.origin
                LEFT JOIN nodes n ON n.id = o.node_id;
                """)
        }
        // catalogue: end
        m.registerMigration("v2-peer-status") { db in
            try db.execute(sql: """
                -- What the daemon knows of each peer, for `gridsync peers` (written by the daemon only).
                CREATE TABLE peer_status (
                    peer TEXT PRIMARY KEY,          -- dialed address, or 'in:' + node ID for inbound
                    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
                    node_id TEXT, name TEXT,
                    connected INTEGER NOT NULL DEFAULT 0,
                    last_connected TEXT, last_sync TEXT, last_error TEXT,
                    peer_vector TEXT,               -- the peer's vector as last heard
                    updated_at TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v3-quarantine") { db in
            try db.execute(sql: """
                -- Changes refused on receipt (bad signature, outside their origin's scope, from a
                -- revoked node...), kept as received for a person to inspect. Never materialised.
                CREATE TABLE quarantine (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    origin TEXT NOT NULL,             -- the origin the change claims ('' if unreadable)
                    seq INTEGER,                      -- the seq it claims, if readable
                    change_hash BLOB NOT NULL UNIQUE, -- SHA-256 of the bytes: a resent change is kept once
                    reason TEXT NOT NULL,             -- a stable code, e.g. 'out_of_scope'
                    detail TEXT NOT NULL,             -- plain words; never a record's values
                    from_peer TEXT NOT NULL,          -- the peer or bundle it came from
                    received_at TEXT NOT NULL,
                    change BLOB NOT NULL
                );
                """)
        }
        m.registerMigration("v4-community-roster") { db in
            try db.execute(sql: """
                -- The community this node belongs to: its ID, the centre's node ID, and the address
                -- `gridsync join` reached the centre at. NULL until `init --role centre` or `join`.
                ALTER TABLE local_node ADD COLUMN community TEXT;
                ALTER TABLE local_node ADD COLUMN centre TEXT;
                ALTER TABLE local_node ADD COLUMN centre_address TEXT;

                -- Current values of the centre-signed roster (see Schema.roster).
                CREATE TABLE roster (
                    id TEXT PRIMARY KEY,
                    name TEXT, role TEXT, grid TEXT, building TEXT, status TEXT, revoked_at INTEGER,
                    deleted INTEGER NOT NULL DEFAULT 0
                );

                -- "Is change (origin, seq) quarantined?", asked when a later change of that origin
                -- or one naming it as a pred arrives.
                CREATE INDEX quarantine_origin_seq ON quarantine (origin, seq);
                """)
        }
        m.registerMigration("v5-record-namespaces-and-refusals") { db in
            try migrateV5(db)
        }
        m.registerMigration("v6-sealing-and-erasure") { db in
            try db.execute(sql: """
                -- Each node's X25519 agreement key (base64), published in its own signed profile.
                ALTER TABLE nodes ADD COLUMN agreement_key TEXT;

                -- Scope keys and grid roots the centre wrapped to each node (collection `keys`).
                CREATE TABLE key_grants (
                    id TEXT PRIMARY KEY,
                    kind TEXT, grid TEXT, building TEXT, scope TEXT, epoch INTEGER,
                    recipient TEXT, wrapped TEXT, created_at TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX key_grants_by_recipient ON key_grants(recipient);
                CREATE INDEX key_grants_by_grid ON key_grants(grid, epoch);

                -- Records whose personal data was erased (an `_erased` op applied): their boxes
                -- are gone from `changes`, `record_state`, the tables and the quarantine, and any
                -- box arriving for them later is dropped on receipt.
                CREATE TABLE erased_records (
                    collection TEXT NOT NULL,
                    record TEXT NOT NULL,
                    PRIMARY KEY (collection, record)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v7-request-search") { db in
            try db.execute(sql: """
                -- Lists page in creation order and count their filters from this index alone
                -- (a request's row, with its sealed values, is ten times larger). No ID in the
                -- key: rows created at one time go in rowid order, appended, and lists sort such
                -- ties by ID themselves.
                CREATE INDEX requests_clear ON requests(
                    deleted, created_at, status, grid, building, category, due, urgent, assigned_person, assigned_service);

                -- The keyed search index (SearchIndex.swift): tokens only, never replicated.
                CREATE VIRTUAL TABLE request_search USING fts5(tokens, content='', columnsize=0, detail=none);
                CREATE TABLE request_search_docs (
                    doc INTEGER PRIMARY KEY,
                    request TEXT NOT NULL UNIQUE,
                    tokens BLOB NOT NULL
                );
                CREATE TABLE request_search_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    pos INTEGER NOT NULL,
                    keyring TEXT NOT NULL
                );
                INSERT INTO request_search_state (id, pos, keyring) VALUES (1, 0, '');
                """)
        }
        m.registerMigration("v8-search-rebuild-in-steps") { db in
            try db.execute(sql: """
                -- A rebuild of the search index goes a few thousand requests per transaction, so a
                -- sync never waits behind it: the last request ID it has indexed (NULL: none
                -- under way). Requests are rebuilt in ID order; changes made meanwhile are caught
                -- up from `pos`, the change log's end when the rebuild began.
                ALTER TABLE request_search_state ADD COLUMN rebuilt_through TEXT;
                """)
        }
        m.registerMigration("v9-dashboard-accounts") { db in
            try db.execute(sql: """
                -- Who may sign in to this node's dashboard. Local to this store, never replicated:
                -- a credential is an scrypt hash with its parameters and salt.
                CREATE TABLE dashboard_accounts (
                    name TEXT PRIMARY KEY,
                    credential TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                """)
        }
        return m
    }

    /// Records are keyed by (collection, record), so no op of one collection can touch, shadow
    /// or block a record of another; conflict IDs hash the collection too. The quarantine learns
    /// which refused changes are in the log (their chain continues, their ops unapplied), keeps
    /// strangers as counts only, and keeps an audit of what people released or discarded.
    /// Frozen: it computes conflict IDs with its own copy of the hash.
    private static func migrateV5(_ db: Database) throws {
        func conflictID(_ collection: String, _ record: String, _ field: String) -> String {
            SHA256.hash(data: Array("\(collection)/\(record)/\(field)".utf8)).prefix(6)
                .map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
        let oldConflicts = try Row.fetchAll(db, sql: """
            SELECT c.id, r.collection, c.record, c.field FROM open_conflicts c JOIN record_state r ON r.record = c.record
            """)
        let oldValues = try Row.fetchAll(db, sql: "SELECT conflict, origin, seq, hlc, value FROM conflict_values")
        try db.execute(sql: """
            DROP VIEW conflicts;
            DROP TABLE conflict_values;
            DROP TABLE open_conflicts;

            CREATE TABLE record_state_v5 (
                collection TEXT NOT NULL,
                record TEXT NOT NULL,
                heads BLOB NOT NULL,
                UNIQUE (collection, record)
            );
            INSERT INTO record_state_v5 (collection, record, heads) SELECT collection, record, heads FROM record_state ORDER BY rowid;

            CREATE TABLE change_records_v5 (
                collection TEXT NOT NULL,
                record TEXT NOT NULL,
                pos INTEGER NOT NULL,
                PRIMARY KEY (collection, record, pos)
            ) WITHOUT ROWID;
            INSERT INTO change_records_v5 (collection, record, pos)
                SELECT r.collection, c.record, c.pos FROM change_records c JOIN record_state r ON r.record = c.record;
            DROP TABLE change_records;
            ALTER TABLE change_records_v5 RENAME TO change_records;
            DROP TABLE record_state;
            ALTER TABLE record_state_v5 RENAME TO record_state;

            -- Fields whose heads hold different values. id is the same on every node.
            CREATE TABLE open_conflicts (
                id TEXT PRIMARY KEY,
                collection TEXT NOT NULL,
                record TEXT NOT NULL,
                field TEXT NOT NULL,
                UNIQUE (collection, record, field)
            );
            CREATE TABLE conflict_values (
                conflict TEXT NOT NULL REFERENCES open_conflicts(id) ON DELETE CASCADE,
                origin INTEGER NOT NULL REFERENCES origins(idx),
                seq INTEGER NOT NULL,
                hlc INTEGER NOT NULL,
                value,
                PRIMARY KEY (conflict, origin, seq)
            ) WITHOUT ROWID;

            CREATE VIEW conflicts AS
            SELECT c.id AS conflict, c.collection, c.record, c.field, v.value,
                   o.node_id AS origin, n.name AS origin_name, v.seq,
                   strftime('%Y-%m-%dT%H:%M:%fZ', (v.hlc >> 16) / 1000.0, 'unixepoch') AS time
            FROM open_conflicts c
            JOIN conflict_values v ON v.conflict = c.id
            JOIN origins o ON o.idx = v.origin
            LEFT JOIN nodes n ON n.id = o.node_id;

            -- 1: the change is in the change log (its origin's chain goes on) but its ops were not
            -- applied; `change` is then empty (the bytes are in `changes`). 0: held aside.
            ALTER TABLE quarantine ADD COLUMN in_log INTEGER NOT NULL DEFAULT 0;

            -- Refused changes not kept whole: from strangers (not on the roster), or past an
            -- origin's or the store's limit. origin '*' counts every origin past the summary limit.
            CREATE TABLE quarantine_summary (
                origin TEXT NOT NULL,
                reason TEXT NOT NULL,
                changes INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                first_seq INTEGER, last_seq INTEGER,
                from_peer TEXT NOT NULL,
                first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                PRIMARY KEY (origin, reason)
            );

            -- What people did with quarantined changes: released, discarded.
            CREATE TABLE quarantine_audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                action TEXT NOT NULL,
                origin TEXT NOT NULL, seq INTEGER, reason TEXT NOT NULL,
                change_hash BLOB NOT NULL
            );

            -- This node's own changes that peers told it (REFUSED) they did not apply.
            CREATE TABLE refused_by_peers (
                peer TEXT NOT NULL,
                seq INTEGER NOT NULL,
                code INTEGER NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (peer, seq)
            );

            -- The highest seq of this node's own changes that another node was seen to hold;
            -- above max_seq the store was restored from a backup and must take them back first.
            ALTER TABLE local_node ADD COLUMN own_seq_seen INTEGER NOT NULL DEFAULT 0;
            """)
        var newIDs: [String: String] = [:]
        for row in oldConflicts {
            let (old, collection, record, field): (String, String, String, String) = (row[0], row[1], row[2], row[3])
            let id = conflictID(collection, record, field)
            newIDs[old] = id
            try db.execute(
                sql: "INSERT INTO open_conflicts (id, collection, record, field) VALUES (?, ?, ?, ?)",
                arguments: [id, collection, record, field])
        }
        for row in oldValues {
            guard let id = newIDs[row[0]] else { continue }
            try db.execute(
                sql: "INSERT INTO conflict_values (conflict, origin, seq, hlc, value) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, row[1] as DatabaseValue, row[2] as DatabaseValue, row[3] as DatabaseValue, row[4] as DatabaseValue])
        }
    }
}
