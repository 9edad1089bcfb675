import Foundation
import GRDB
import GridSyncCore

/// Which records' personal data is erased, and dropping their boxes (crypto-shredding without
/// rewriting signed history: SPEC §2.9).
///
/// An erased request and every note on it are listed in `erased_records`. Their sealed values
/// keep their clear part (scope, epoch, value tag: so heads, conflicts and digests stay the
/// same on every node) but lose their boxes in `changes`, `record_state`, `conflict_values`,
/// the tables and the quarantine. The signature covers only the clear part, so the stored
/// changes still verify and relay. A box arriving later for an erased record — from an old
/// bundle or a node offline for months — is dropped on receipt, before it is stored.
struct Erasure {
    private let lookup: FastStatement
    private var known: [RecordKey: Bool] = [:]
    /// Notes created earlier in the batch, with their request.
    private var noteRequest: [String: String] = [:]

    init(_ db: Database) throws {
        lookup = try FastStatement(db, "SELECT 1 FROM erased_records WHERE collection = ? AND record = ?")
    }

    /// Remembers the request of each note `change` creates, for later changes of the batch.
    mutating func noteRequests(of change: Change) {
        for op in change.ops where op.collection == Schema.notes.name && op.field == "request" {
            if let r = op.value.text { noteRequest[op.record] = r }
        }
    }

    /// Whether `key` is listed as erased in the store.
    mutating func isStored(_ key: RecordKey, _ db: Database) throws -> Bool {
        if let k = known[key] { return k }
        lookup.bind(1, key.collection)
        lookup.bind(2, key.record)
        let found = try lookup.first(db) { _ in true } ?? false
        known[key] = found
        return found
    }

    /// The records of `change` with sealed values whose boxes must be dropped: erased before, or
    /// erased by this batch (`erasing` holds request IDs), or notes on such a request.
    mutating func erasedRecords(in change: Change, erasing: Set<String>, _ db: Database) throws -> Set<RecordKey> {
        var out = Set<RecordKey>()
        for op in change.ops where op.value.sealed?.box != nil {
            let key = RecordKey(collection: op.collection, record: op.record)
            if out.contains(key) { continue }
            var request: String?
            switch op.collection {
            case Schema.requests.name: request = op.record
            case Schema.notes.name:
                request = try noteRequest[op.record] ?? NoteTable.request(ofNote: op.record, db)
            default: break
            }
            if try isStored(key, db) {
                out.insert(key)
            } else if let request, try erasing.contains(request) || isStored(RecordKey(collection: Schema.requests.name, record: request), db) {
                out.insert(key)
            }
        }
        return out
    }

    /// The records an erasure of `requests` covers, listed in `erased_records`: each request
    /// and every note on it.
    static func records(ofRequests requests: [String], _ db: Database) throws -> Set<RecordKey> {
        var keys = Set<RecordKey>()
        for r in requests {
            keys.insert(RecordKey(collection: Schema.requests.name, record: r))
            for note in try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM request_notes WHERE request = ?"), arguments: [r]) {
                keys.insert(RecordKey(collection: Schema.notes.name, record: note))
            }
        }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO erased_records (collection, record) VALUES (?, ?)")
        for k in keys { try insert.execute(arguments: [k.collection, k.record]) }
        return keys
    }

    /// Drops the boxes of `keys`' ops from the stored changes and the held ones.
    static func redactStored(_ keys: Set<RecordKey>, _ db: Database) throws {
        func drop(_ op: Op) -> Bool { keys.contains(RecordKey(collection: op.collection, record: op.record)) }
        var positions = Set<Int64>()
        for k in keys {
            positions.formUnion(try Int64.fetchAll(db.cachedStatement(sql: "SELECT pos FROM change_records WHERE collection = ? AND record = ?"), arguments: [k.collection, k.record]))
        }
        let update = try db.cachedStatement(sql: "UPDATE changes SET body = ? WHERE pos = ?")
        for pos in positions.sorted() {
            guard let body = try Data.fetchOne(db.cachedStatement(sql: "SELECT body FROM changes WHERE pos = ?"), arguments: [pos]) else { continue }
            if let redacted = try ChangeCodec.redact(Array(body), where: drop) {
                try update.execute(arguments: [Data(redacted), pos])
            }
        }
        // Held changes (not in the log) may carry the same records' boxes.
        let held = try Row.fetchAll(db, sql: "SELECT id, change FROM quarantine WHERE in_log = 0 AND length(change) > 64")
        for row in held {
            let bytes = [UInt8](row[1] as Data)
            guard let sc = try? SignedChange(encoded: bytes), let redacted = try? ChangeCodec.redact(sc.body, where: drop) else { continue }
            try db.execute(sql: "UPDATE quarantine SET change = ? WHERE id = ?", arguments: [Data(redacted + sc.signature), row[0] as Int64])
        }
    }
}
