import Foundation
import GRDBSQLite

/// The yardstick: plain libsqlite3 from Swift, one transaction, one prepared upsert statement,
/// keyed by (record, field) like the store's heads — no CRDT, no change log, no signatures.
enum RawSQLite {
    static func upsertRate(path: String, keys: [(String, String)], value: (Int) -> String) throws -> Double {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw RawError("open") }
        defer { sqlite3_close(db) }
        try exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536")
        try exec(db, "CREATE TABLE kv (record TEXT NOT NULL, field TEXT NOT NULL, value, PRIMARY KEY (record, field)) WITHOUT ROWID")
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO kv (record, field, value) VALUES (?, ?, ?) ON CONFLICT (record, field) DO UPDATE SET value = excluded.value", -1, &stmt, nil) == SQLITE_OK else {
            throw RawError("prepare")
        }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let (_, seconds) = try measure {
            try exec(db, "BEGIN")
            for (n, (record, field)) in keys.enumerated() {
                sqlite3_bind_text(stmt, 1, record, -1, transient)
                sqlite3_bind_text(stmt, 2, field, -1, transient)
                sqlite3_bind_text(stmt, 3, value(n), -1, transient)
                guard sqlite3_step(stmt) == SQLITE_DONE else { throw RawError("step") }
                sqlite3_reset(stmt)
            }
            try exec(db, "COMMIT")
        }
        return Double(keys.count) / seconds
    }

    static func exec(_ db: OpaquePointer?, _ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw RawError(String(cString: sqlite3_errmsg(db)))
        }
    }

    struct RawError: Error { let message: String; init(_ m: String) { message = m } }
}
