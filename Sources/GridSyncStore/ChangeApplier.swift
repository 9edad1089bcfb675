import Crypto
import Foundation
import GRDB
import GridSyncCore

/// Applies batches of signed changes inside one SQLite transaction.
///
/// Checks come first, for the whole batch: seq continuity, hash-chain links, causal
/// completeness of every `pred`, and the signature of the last change of each origin's run
/// (which commits to the whole chain before it). Only then are rows written, record by record
/// in key order, so B-tree inserts stay local. Any error throws before the caller commits, so
/// the transaction rolls back and the store is exactly as it was.
struct ChangeApplier {
    var origins: OriginTable
    var clock: HybridClock
    let wallMs: UInt64

    init(_ db: Database, clock: HybridClock, wallMs: UInt64) throws {
        self.origins = try OriginTable.load(db)
        self.clock = clock
        self.wallMs = wallMs
    }

    private struct HeadRow: Hashable {
        var origin: Int64
        var seq: Int64
        var hlc: UInt64
        var value: FieldValue
    }

    private struct HeadKey: Hashable {
        var field: String
        var origin: Int64
        var seq: Int64
    }

    private struct RecordState {
        var collection: String
        var fields: [String: [HeadRow]] = [:]
        var original: Set<HeadKey> = []
        var conflictedBefore: Set<String> = []
        var dirty: Set<String> = []
    }

    /// Applies `batch` in order. The caller owns the transaction.
    mutating func apply(_ batch: [SignedChange], _ db: Database) throws -> ApplyReport {
        var report = ApplyReport()
        report.received = batch.count
        var accepted: [(SignedChange, Int64)] = []
        accepted.reserveCapacity(batch.count)
        var lastOfRun: [Int64: Int] = [:]
        var batchHashes: [OpRef: [UInt8]] = [:]

        // 1. Continuity, chain and causality, before writing anything but new origin rows.
        for sc in batch {
            let ch = sc.change
            let known = origins.maxSeq(ch.origin)
            if ch.seq <= known {
                let ref = OpRef(origin: ch.origin, seq: ch.seq)
                let stored = try batchHashes[ref] ?? storedHash(ch.origin, ch.seq, db)
                guard stored == sc.hash else {
                    throw GridSyncError(.fork, "node \(ch.origin.short) has two different changes with seq \(ch.seq); one of them was altered — do not import this data, and report node \(ch.origin.short) to the centre")
                }
                report.duplicates += 1
                continue
            }
            guard ch.seq == known + 1 else {
                throw GridSyncError(.seqGap, "changes of node \(ch.origin.short) jump from seq \(known) to \(ch.seq); the changes in between are missing — export again with --since set to this store's `gridsync vector`")
            }
            let idx = try origins.index(of: ch.origin, db)
            guard ch.prevHash == origins.states[idx]!.lastHash else {
                throw GridSyncError(.brokenChain, "change \(ch.seq) of node \(ch.origin.short) does not link to the hash of change \(ch.seq - 1); it was altered or belongs to another history")
            }
            for op in ch.ops {
                for p in op.pred where origins.maxSeq(p.origin) < p.seq {
                    throw GridSyncError(.causalGap, "change \(ch.seq) of node \(ch.origin.short) builds on change \(p.seq) of node \(p.origin.short), which this store does not have; import the earlier changes first")
                }
            }
            origins.advance(idx, seq: ch.seq, hash: sc.hash)
            batchHashes[OpRef(origin: ch.origin, seq: ch.seq)] = sc.hash
            lastOfRun[idx] = accepted.count
            accepted.append((sc, idx))
        }
        for (_, i) in lastOfRun {
            let sc = accepted[i].0
            guard sc.verifySignature() else {
                throw GridSyncError(.badSignature, "change \(sc.change.seq) of node \(sc.change.origin.short) has a signature that does not verify; the data was altered after it was signed")
            }
        }
        for (sc, _) in accepted {
            if case .skewed(let ahead) = clock.observe(sc.change.hlc, wallMs: wallMs) {
                report.skewedOrigins[sc.change.origin] = max(ahead, report.skewedOrigins[sc.change.origin] ?? 0)
            }
        }
        report.applied = accepted.count
        guard !accepted.isEmpty else { return report }

        // 2. The change log.
        let insertChange = try db.cachedStatement(
            sql: "INSERT INTO changes (origin, seq, hlc, hash, body, signature) VALUES (?, ?, ?, ?, ?, ?)")
        let insertChangeRecord = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO change_records (record, pos) VALUES (?, ?)")
        var opsByRecord: [String: [(op: Op, origin: Int64, seq: Int64, hlc: UInt64)]] = [:]
        for (sc, idx) in accepted {
            let ch = sc.change
            insertChange.setUncheckedArguments([
                idx, Int64(ch.seq), Int64(bitPattern: ch.hlc.raw), sc.hash.blob, sc.body.blob, sc.signature.blob,
            ])
            try insertChange.execute()
            let pos = db.lastInsertedRowID
            var lastRecord: String? = nil
            for op in ch.ops {
                opsByRecord[op.record, default: []].append((op, idx, Int64(ch.seq), ch.hlc.raw))
                if op.record != lastRecord {
                    insertChangeRecord.setUncheckedArguments([op.record, pos])
                    try insertChangeRecord.execute()
                    lastRecord = op.record
                }
            }
            report.ops += ch.ops.count
        }
        try origins.flush(db)

        // 3. Heads and current values, record by record in key order.
        for record in opsByRecord.keys.sorted() {
            let ops = opsByRecord[record]!
            var state = try loadRecord(record, collection: ops[0].op.collection, db)
            for (op, origin, seq, hlc) in ops {
                guard op.collection == state.collection else {
                    throw GridSyncError(.malformed, "an op puts record \(record) in collection '\(op.collection)' but it belongs to '\(state.collection)'")
                }
                var heads = state.fields[op.field] ?? []
                if !op.pred.isEmpty {
                    let predRefs = op.pred.compactMap { p in origins.byID[p.origin].map { ($0, Int64(p.seq)) } }
                    heads.removeAll { h in predRefs.contains { $0.0 == h.origin && $0.1 == h.seq } }
                }
                heads.append(HeadRow(origin: origin, seq: seq, hlc: hlc, value: op.value))
                state.fields[op.field] = heads
                state.dirty.insert(op.field)
            }
            try write(record, state, db)
        }
        return report
    }

    private func storedHash(_ origin: NodeID, _ seq: UInt64, _ db: Database) throws -> [UInt8]? {
        guard let idx = origins.byID[origin] else { return nil }
        return try Data.fetchOne(
            db, sql: "SELECT hash FROM changes WHERE origin = ? AND seq = ?", arguments: [idx, Int64(seq)]).map { Array($0) }
    }

    private func loadRecord(_ record: String, collection: String, _ db: Database) throws -> RecordState {
        let existing = try String.fetchOne(
            db, sql: "SELECT collection FROM records WHERE id = ?", arguments: [record])
        guard let existing else {
            try db.execute(sql: "INSERT INTO records (id, collection) VALUES (?, ?)", arguments: [record, collection])
            return RecordState(collection: collection)
        }
        var state = RecordState(collection: existing)
        let rows = try Row.fetchCursor(
            db, sql: "SELECT field, origin, seq, hlc, value FROM heads WHERE record = ?", arguments: [record])
        while let row = try rows.next() {
            let field: String = row[0]
            let head = HeadRow(
                origin: row[1], seq: row[2], hlc: UInt64(bitPattern: row[3]),
                value: try FieldValue(row[4] as DatabaseValue))
            state.fields[field, default: []].append(head)
            state.original.insert(HeadKey(field: field, origin: head.origin, seq: head.seq))
        }
        for (field, heads) in state.fields where isConflict(heads) {
            state.conflictedBefore.insert(field)
        }
        return state
    }

    private func isConflict(_ heads: [HeadRow]) -> Bool {
        guard let first = heads.first else { return false }
        return heads.dropFirst().contains { $0.value != first.value }
    }

    private func winner(_ heads: [HeadRow], policy: MergePolicy) -> HeadRow? {
        if heads.count <= 1 { return heads.first }
        return heads.max { a, b in policy.ranks(self.head(a), below: self.head(b)) }
    }

    private func head(_ row: HeadRow) -> Head {
        Head(origin: origins.nodeID(row.origin), seq: UInt64(row.seq), hlc: HLC(raw: row.hlc), value: row.value)
    }

    private func write(_ record: String, _ state: RecordState, _ db: Database) throws {
        let insertHead = try db.cachedStatement(
            sql: "INSERT INTO heads (record, field, origin, seq, hlc, value) VALUES (?, ?, ?, ?, ?, ?)")
        let deleteHead = try db.cachedStatement(
            sql: "DELETE FROM heads WHERE record = ? AND field = ? AND origin = ? AND seq = ?")
        for field in state.dirty.sorted() {
            let heads = state.fields[field]!
            var current = Set<HeadKey>()
            for h in heads {
                let key = HeadKey(field: field, origin: h.origin, seq: h.seq)
                current.insert(key)
                if !state.original.contains(key) {
                    insertHead.setUncheckedArguments([
                        record, field, h.origin, h.seq, Int64(bitPattern: h.hlc), h.value.databaseValue,
                    ])
                    try insertHead.execute()
                }
            }
            for key in state.original where key.field == field && !current.contains(key) {
                deleteHead.setUncheckedArguments([record, field, key.origin, key.seq])
                try deleteHead.execute()
            }
            let conflicted = isConflict(heads)
            if conflicted && !state.conflictedBefore.contains(field) {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO open_conflicts (id, record, field) VALUES (?, ?, ?)")
                    .execute(arguments: [ConflictID.make(record: record, field: field), record, field])
            } else if !conflicted && state.conflictedBefore.contains(field) {
                try db.cachedStatement(sql: "DELETE FROM open_conflicts WHERE record = ? AND field = ?")
                    .execute(arguments: [record, field])
            }
        }
        guard let schema = Schema.collection(named: state.collection) else { return }
        // Current values: every known field's winner, so the row is always complete.
        var values: [DatabaseValue] = [record.databaseValue]
        values.reserveCapacity(schema.fields.count + 2)
        for field in schema.fields {
            let heads = state.fields[field] ?? []
            values.append(winner(heads, policy: schema.policy(for: field))?.value.databaseValue ?? .null)
        }
        let deleted = winner(state.fields[Schema.deletedField] ?? [], policy: .lastWriterWins)?.value.int ?? 0
        values.append((deleted == 0 ? 0 : 1).databaseValue)
        let stmt = try db.cachedStatement(sql: Self.upsertSQL(schema))
        stmt.setUncheckedArguments(StatementArguments(values))
        try stmt.execute()
    }

    static func upsertSQL(_ schema: CollectionSchema) -> String {
        let columns = ["id"] + schema.fields + ["deleted"]
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        return "INSERT OR REPLACE INTO \(schema.table) (\(columns.joined(separator: ", "))) VALUES (\(marks))"
    }
}

/// Conflict IDs: derived from (record, field), so every node shows the same ID.
public enum ConflictID {
    public static func make(record: String, field: String) -> String {
        let digest = SHA256.hash(data: Array("\(record)/\(field)".utf8))
        return digest.prefix(6).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension FieldValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int(let v): v.databaseValue
        case .text(let s): s.databaseValue
        }
    }

    init(_ dbValue: DatabaseValue) throws {
        switch dbValue.storage {
        case .null: self = .null
        case .int64(let v): self = .int(v)
        case .string(let s): self = .text(s)
        case .double, .blob: throw StoreError.corrupt("a head value of an unexpected type")
        }
    }
}
