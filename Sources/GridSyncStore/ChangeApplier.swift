import Crypto
import Foundation
import GRDB
import GridSyncCore

/// Applies batches of signed changes inside one SQLite transaction.
///
/// Checks come first, for the whole batch: seq continuity, hash-chain links, causal
/// completeness of every `pred`, and the signature of the last change of each origin's run
/// (which commits to the whole chain before it). Only then are rows written, record by record
/// in key order, one `record_state` row and one current-values row per record, so the cost is
/// a few B-tree writes per change rather than per field. Any error throws before the caller
/// commits, so the transaction rolls back and the store is exactly as it was.
struct ChangeApplier {
    var origins: OriginTable
    var clock: HybridClock
    let wallMs: UInt64

    /// A change as it arrives: still encoded (from a bundle or the wire, so duplicates can skip
    /// decoding) or already decoded.
    enum Input {
        case encoded([UInt8])
        case decoded(SignedChange)
    }

    init(_ db: Database, clock: HybridClock, wallMs: UInt64) throws {
        self.origins = try OriginTable.load(db)
        self.clock = clock
        self.wallMs = wallMs
    }

    private typealias Entry = RecordHeads.Entry

    /// Where an op sits in the batch: `accepted[change].0.change.ops[op]`.
    private struct OpIndex {
        var change: Int32
        var op: Int32
    }

    /// Applies `batch` in order. The caller owns the transaction. `trusted` skips signature
    /// verification and authorisation for a change this node has just signed itself.
    ///
    /// A change that is badly signed, chained wrongly, or refused by the community's
    /// ``Authorizer`` is not applied: it goes to the `quarantine` table (marked as coming from
    /// `source`) with every later change of its origin in the batch, and the rest of the batch
    /// applies. Malformed bytes, forks, gaps that no quarantined change explains, and missing
    /// predecessors still refuse the whole batch.
    mutating func apply(_ batch: [Input], _ db: Database, trusted: Bool = false, source: String = "local") throws -> ApplyReport {
        var report = ApplyReport()
        report.received = batch.count
        var accepted: [(SignedChange, Int64)] = []
        accepted.reserveCapacity(batch.count)
        var lastOfRun: [Int64: Int] = [:]
        var batchHashes: [OpRef: [UInt8]] = [:]
        // A change this node just signed is never refused, so local writes skip both lookups.
        var authorizer = trusted ? nil : try Authorizer.load(db)
        let quarantineInUse = try !trusted && (Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM quarantine)") ?? false)
        /// Origins with a quarantined change in this batch, and its seq.
        var blocked: [NodeID: UInt64] = [:]

        func isQuarantined(_ origin: NodeID, _ seq: UInt64) throws -> Bool {
            if let from = blocked[origin], seq >= from { return true }
            guard quarantineInUse else { return false }
            return try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM quarantine WHERE origin = ? AND seq = ?)"),
                arguments: [origin.text, Int64(seq)]) ?? false
        }
        func quarantine(_ sc: SignedChange, _ reason: QuarantineReason, _ detail: String) throws {
            let ch = sc.change
            if blocked[ch.origin] == nil { blocked[ch.origin] = ch.seq }
            report.quarantined.append(QuarantinedChange(origin: ch.origin, seq: ch.seq, reason: reason, detail: detail))
            try db.cachedStatement(sql: """
                INSERT INTO quarantine (origin, seq, change_hash, reason, detail, from_peer, received_at, change)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (change_hash) DO UPDATE SET reason = excluded.reason, detail = excluded.detail
                """).execute(arguments: [
                    ch.origin.text, Int64(ch.seq), sc.hash.blob, reason.rawValue, detail, source, Timestamp.iso(wallMs), sc.encoded.blob,
                ])
        }

        // 1. Continuity, chain, causality and authorisation, before writing anything but new
        // origin rows and quarantine rows.
        for (index, input) in batch.enumerated() {
            let sc: SignedChange
            do {
                switch input {
                case .decoded(let d):
                    sc = d
                case .encoded(let bytes):
                    guard bytes.count > SignedChange.signatureBytes else {
                        throw GridSyncError(.malformed, "change of \(bytes.count) bytes is too short to hold a signature")
                    }
                    let (origin, seq) = try ChangeCodec.peekHeader(bytes)
                    if seq >= 1 && seq <= origins.maxSeq(origin) {
                        try checkDuplicate(origin, seq, SignedChange.hash(ofEncoded: bytes), batchHashes, db)
                        report.duplicates += 1
                        continue
                    }
                    sc = try SignedChange(encoded: bytes)
                }
            } catch let error as GridSyncError {
                throw GridSyncError(error.code, "change \(index + 1) of the batch: \(error.message)")
            }
            let ch = sc.change
            if blocked[ch.origin] != nil {
                try quarantine(sc, .followsQuarantined, "an earlier change of node \(ch.origin.short) is quarantined")
                continue
            }
            let known = origins.maxSeq(ch.origin)
            if ch.seq <= known {
                try checkDuplicate(ch.origin, ch.seq, sc.hash, batchHashes, db)
                report.duplicates += 1
                continue
            }
            guard ch.seq == known + 1 else {
                if try isQuarantined(ch.origin, known + 1) {
                    try quarantine(sc, .followsQuarantined, "change \(known + 1) of node \(ch.origin.short) is quarantined")
                    continue
                }
                throw GridSyncError(.seqGap, "changes of node \(ch.origin.short) jump from seq \(known) to \(ch.seq); the changes in between are missing — export again with --since set to this store's `gridsync vector`")
            }
            let idx = try origins.index(of: ch.origin, db)
            guard ch.prevHash == origins.states[idx]!.lastHash else {
                try quarantine(sc, .brokenChain, "change \(ch.seq) of node \(ch.origin.short) does not link to the hash of change \(ch.seq - 1); it was altered or belongs to another history")
                continue
            }
            var missing: OpRef?
            for op in ch.ops {
                for p in op.pred where origins.maxSeq(p.origin) < p.seq {
                    missing = p
                    break
                }
                if missing != nil { break }
            }
            if let p = missing {
                if try isQuarantined(p.origin, p.seq) {
                    try quarantine(sc, .dependsOnQuarantined, "change \(ch.seq) of node \(ch.origin.short) builds on change \(p.seq) of node \(p.origin.short), which is quarantined")
                    continue
                }
                throw GridSyncError(.causalGap, "change \(ch.seq) of node \(ch.origin.short) builds on change \(p.seq) of node \(p.origin.short), which this store does not have; import the earlier changes first")
            }
            let touchesRoster = Authorizer.touchesRoster(ch)
            if authorizer != nil {
                // Roster changes are verified at once: later changes of the batch are judged by them.
                if touchesRoster, !sc.verifySignature() {
                    try quarantine(sc, .badSignature, Self.badSignature(ch))
                    continue
                }
                if let (reason, detail) = try authorizer?.check(ch, db) {
                    try quarantine(sc, reason, detail)
                    continue
                }
            }
            if touchesRoster { report.rosterChanged = true }
            origins.advance(idx, seq: ch.seq, hash: sc.hash)
            batchHashes[OpRef(origin: ch.origin, seq: ch.seq)] = sc.hash
            lastOfRun[idx] = accepted.count
            accepted.append((sc, idx))
        }
        if !trusted {
            // The last change of each origin's run commits to the whole run through the hash
            // chain, so one verification covers it. If it fails, each change of the run is
            // checked to find the first altered one; it and the rest of the run are quarantined.
            var dropped = Set<Int>()
            for (idx, last) in lastOfRun.sorted(by: { $0.key < $1.key }) where !accepted[last].0.verifySignature() {
                let run = accepted.indices.filter { accepted[$0].1 == idx }
                let firstBad = run.first { !accepted[$0].0.verifySignature() } ?? last
                for i in run where i >= firstBad {
                    let ch = accepted[i].0.change
                    if i == firstBad {
                        try quarantine(accepted[i].0, .badSignature, Self.badSignature(ch))
                    } else {
                        try quarantine(accepted[i].0, .followsQuarantined, "an earlier change of node \(ch.origin.short) is quarantined")
                    }
                    dropped.insert(i)
                }
                // The bad change passed the chain check, so it names the state to return to.
                let bad = accepted[firstBad].0.change
                origins.advance(idx, seq: bad.seq - 1, hash: bad.prevHash)
            }
            if !dropped.isEmpty {
                accepted = accepted.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
            }
        }
        report.quarantined.sort { ($0.origin, $0.seq) < ($1.origin, $1.seq) }
        if quarantineInUse {
            // A change accepted now (resent after the roster changed) leaves the quarantine.
            let release = try db.cachedStatement(sql: "DELETE FROM quarantine WHERE change_hash = ?")
            for (sc, _) in accepted { try release.execute(arguments: [sc.hash.blob]) }
        }
        for (sc, _) in accepted {
            if case .skewed(let ahead) = clock.observe(sc.change.hlc, wallMs: wallMs) {
                report.skewedOrigins[sc.change.origin] = max(ahead, report.skewedOrigins[sc.change.origin] ?? 0)
            }
        }
        report.applied = accepted.count
        guard !accepted.isEmpty else { return report }

        // 2. The change log.
        let insertChange = try FastStatement(
            db, "INSERT INTO changes (origin, seq, hlc, hash, body, signature) VALUES (?, ?, ?, ?, ?, ?)")
        let insertChangeRecord = try FastStatement(db, "INSERT OR IGNORE INTO change_records (record, pos) VALUES (?, ?)")
        // Ops grouped by record, hashing each record ID once per change rather than per op.
        var groupOf: [String: Int] = [:]
        var groups: [(record: String, ops: [OpIndex])] = []
        var positions: [Int64] = []
        positions.reserveCapacity(accepted.count)
        for (changeIndex, (sc, idx)) in accepted.enumerated() {
            let ch = sc.change
            insertChange.bind(1, idx)
            insertChange.bind(2, Int64(ch.seq))
            insertChange.bind(3, Int64(bitPattern: ch.hlc.raw))
            insertChange.bind(4, sc.hash)
            insertChange.bind(5, sc.body)
            insertChange.bind(6, sc.signature)
            try insertChange.run(db)
            positions.append(db.lastInsertedRowID)
            var lastRecord: String? = nil
            var group = 0
            for (opIndex, op) in ch.ops.enumerated() {
                if op.record != lastRecord {
                    lastRecord = op.record
                    if let g = groupOf[op.record] {
                        group = g
                    } else {
                        group = groups.count
                        groupOf[op.record] = group
                        groups.append((op.record, []))
                    }
                }
                groups[group].ops.append(OpIndex(change: Int32(changeIndex), op: Int32(opIndex)))
            }
            report.ops += ch.ops.count
        }
        try origins.flush(db)

        // 3. Heads and current values, record by record in key order.
        let states = try RecordStateStatements(db)
        groups.sort { $0.record < $1.record }
        for (record, indices) in groups {
            // History index, written here in record order for B-tree locality.
            var lastChange: Int32 = -1
            for index in indices where index.change != lastChange {
                insertChangeRecord.bind(1, record)
                insertChangeRecord.bind(2, positions[Int(index.change)])
                try insertChangeRecord.run(db)
                lastChange = index.change
            }
            let loaded = try states.load(record, db)
            var collection = loaded?.collection
            var heads = loaded?.heads ?? RecordHeads()
            let original = heads
            for index in indices {
                let origin = accepted[Int(index.change)].1
                let seq = accepted[Int(index.change)].0.change.seq
                let hlc = accepted[Int(index.change)].0.change.hlc.raw
                let op = accepted[Int(index.change)].0.change.ops[Int(index.op)]
                if collection == nil { collection = op.collection }
                guard op.collection == collection else {
                    throw GridSyncError(.malformed, "an op puts record \(record) in collection '\(op.collection)' but it belongs to '\(collection!)'")
                }
                var field = heads[op.field]
                for ref in op.pred {
                    guard let o = origins.byID[ref.origin] else { continue }
                    field.removeAll { $0.origin == o && $0.seq == Int64(ref.seq) }
                }
                field.append(Entry(origin: origin, seq: Int64(seq), hlc: hlc, value: op.value))
                heads[op.field] = field
            }
            try states.save(record, collection: collection!, heads: heads, isNew: loaded == nil, db)
            try updateConflicts(record, heads: heads, original: original, db)
            try materialize(record, collection: collection!, heads: heads, db)
        }
        return report
    }

    private static func badSignature(_ ch: Change) -> String {
        "change \(ch.seq) of node \(ch.origin.short) has a signature that does not verify; the data was altered after it was signed"
    }

    private func checkDuplicate(_ origin: NodeID, _ seq: UInt64, _ hash: [UInt8], _ batchHashes: [OpRef: [UInt8]], _ db: Database) throws {
        let stored = try batchHashes[OpRef(origin: origin, seq: seq)] ?? storedHash(origin, seq, db)
        guard stored == hash else {
            throw GridSyncError(.fork, "node \(origin.short) has two different changes with seq \(seq); one of them was altered — do not import this data, and report node \(origin.short) to the centre")
        }
    }

    private func storedHash(_ origin: NodeID, _ seq: UInt64, _ db: Database) throws -> [UInt8]? {
        guard let idx = origins.byID[origin] else { return nil }
        let stmt = try db.cachedStatement(sql: "SELECT hash FROM changes WHERE origin = ? AND seq = ?")
        return try Data.fetchOne(stmt, arguments: [idx, Int64(seq)]).map { Array($0) }
    }

    private func winner(_ heads: [Entry], policy: MergePolicy) -> Entry? {
        if heads.count <= 1 { return heads.first }
        return heads.max { a, b in policy.ranks(self.head(a), below: self.head(b)) }
    }

    private func head(_ e: Entry) -> Head {
        Head(origin: origins.nodeID(e.origin), seq: UInt64(e.seq), hlc: HLC(raw: e.hlc), value: e.value)
    }

    private func updateConflicts(_ record: String, heads: RecordHeads, original: RecordHeads, _ db: Database) throws {
        for (field, entries) in heads.fields {
            let now = RecordHeads.isConflict(entries)
            let before = RecordHeads.isConflict(original[field])
            guard now || before, entries != original[field] else { continue }
            let id = ConflictID.make(record: record, field: field)
            try db.cachedStatement(sql: "DELETE FROM conflict_values WHERE conflict = ?").execute(arguments: [id])
            if now {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO open_conflicts (id, record, field) VALUES (?, ?, ?)")
                    .execute(arguments: [id, record, field])
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO conflict_values (conflict, origin, seq, hlc, value) VALUES (?, ?, ?, ?, ?)")
                for h in heads[field] {
                    try insert.execute(arguments: [id, h.origin, h.seq, Int64(bitPattern: h.hlc), h.value.databaseValue])
                }
            } else {
                try db.cachedStatement(sql: "DELETE FROM open_conflicts WHERE id = ?").execute(arguments: [id])
            }
        }
    }

    /// Writes every known field's winner to the collection's plain table, so the row is always
    /// complete.
    private func materialize(_ record: String, collection: String, heads: RecordHeads, _ db: Database) throws {
        guard let target = Self.upserts[collection] else { return }
        let stmt = try FastStatement(db, target.sql)
        // Unbound parameters are NULL: bind only the fields the record has.
        stmt.bind(1, record)
        var deleted: Int64 = 0
        // Both lists are sorted by field name: walk them together.
        var next = 0
        for (field, entries) in heads.fields {
            if field == Schema.deletedField {
                deleted = (winner(entries, policy: .lastWriterWins)?.value.int ?? 0) == 0 ? 0 : 1
                continue
            }
            while next < target.columns.count && target.columns[next].field < field { next += 1 }
            guard next < target.columns.count, target.columns[next].field == field else { continue }
            let column = target.columns[next]
            stmt.bind(column.parameter, winner(entries, policy: column.policy)?.value ?? .null)
        }
        stmt.bind(target.deletedParameter, deleted)
        try stmt.run(db)
    }

    /// The current-values upsert of a collection and where each field binds, built once.
    struct Upsert: Sendable {
        struct Column: Sendable {
            let field: String
            let parameter: Int32
            let policy: MergePolicy
        }

        let sql: String
        /// Known fields sorted by name, with their SQL parameter index.
        let columns: [Column]
        let deletedParameter: Int32
    }

    static let upserts: [String: Upsert] = Dictionary(uniqueKeysWithValues: Schema.all.map { schema in
        let columns = schema.fields.enumerated()
            .map { Upsert.Column(field: $1, parameter: Int32($0 + 2), policy: schema.policy(for: $1)) }
            .sorted { $0.field < $1.field }
        return (schema.name, Upsert(sql: makeUpsertSQL(schema), columns: columns, deletedParameter: Int32(schema.fields.count + 2)))
    })

    static func makeUpsertSQL(_ schema: CollectionSchema) -> String {
        let columns = ["id"] + schema.fields + ["deleted"]
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO \(schema.table) (\(columns.joined(separator: ", "))) VALUES (\(marks)) ON CONFLICT (id) DO UPDATE SET \(updates)"
    }
}

/// Reads and writes `record_state` rows with prepared statements.
struct RecordStateStatements {
    let select: FastStatement
    let insert: FastStatement
    let update: FastStatement

    init(_ db: Database) throws {
        select = try FastStatement(db, "SELECT collection, heads FROM record_state WHERE record = ?")
        insert = try FastStatement(db, "INSERT INTO record_state (record, collection, heads) VALUES (?, ?, ?)")
        update = try FastStatement(db, "UPDATE record_state SET heads = ? WHERE record = ?")
    }

    func load(_ record: String, _ db: Database) throws -> (collection: String, heads: RecordHeads)? {
        select.bind(1, record)
        guard let (collection, blob) = try select.first(db, { ($0.text(0), $0.blob(1)) }) else { return nil }
        return (collection, try RecordHeads(decoding: blob))
    }

    func save(_ record: String, collection: String, heads: RecordHeads, isNew: Bool, _ db: Database) throws {
        if isNew {
            insert.bind(1, record)
            insert.bind(2, collection)
            insert.bind(3, heads.encoded())
            try insert.run(db)
        } else {
            update.bind(1, heads.encoded())
            update.bind(2, record)
            try update.run(db)
        }
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
