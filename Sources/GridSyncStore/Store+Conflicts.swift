import Crypto
import Foundation
import GRDB
import GridSyncCore

extension Store {
    /// Every open conflict, ordered by record and field; each lists its values winner first.
    public func conflicts() throws -> [ConflictRecord] {
        try read { db in
            let keys = try Row.fetchAll(db, sql: "SELECT id, collection, record, field FROM open_conflicts ORDER BY record, collection, field")
            return try keys.map { try conflict(id: $0[0], RecordKey(collection: $0[1], record: $0[2]), field: $0[3], db) }
        }
    }

    /// One conflict by ID or unique prefix.
    public func conflict(_ idPrefix: String) throws -> ConflictRecord {
        try read { db in
            let id = try resolveID(idPrefix, table: "open_conflicts", kind: "conflict", db)
            let row = try Row.fetchOne(db, sql: "SELECT collection, record, field FROM open_conflicts WHERE id = ?", arguments: [id])!
            return try conflict(id: id, RecordKey(collection: row[0], record: row[1]), field: row[2], db)
        }
    }

    func conflict(id: String, _ key: RecordKey, field: String, _ db: Database) throws -> ConflictRecord {
        let (collection, record) = (key.collection, key.record)
        let rows = try Row.fetchAll(db, sql: """
            SELECT o.public_key, v.seq, v.hlc, v.value, n.name
            FROM conflict_values v JOIN origins o ON o.idx = v.origin LEFT JOIN nodes n ON n.id = o.node_id
            WHERE v.conflict = ?
            """, arguments: [id])
        var names: [NodeID: String] = [:]
        let heads = try rows.map { row -> Head in
            guard let origin = NodeID(bytes: [UInt8](row[0] as Data)) else { throw StoreError.corrupt("origins.public_key") }
            names[origin] = row[4]
            return Head(origin: origin, seq: UInt64(row[1] as Int64), hlc: HLC(raw: UInt64(bitPattern: row[2])), value: try FieldValue(row[3] as DatabaseValue))
        }
        let policy = Schema.collection(named: collection)?.policy(for: field) ?? .lastWriterWins
        let ordered = policy.sorted(heads)
        // Sealed values show to those who hold their key; others see that the conflict exists.
        let ring = try readingKeyring(for: key, db)
        let values = ordered.map { h in
            ConflictValue(value: JSONValue(ring.open(h.value, collection, record, field)), origin: h.origin.text, originName: names[h.origin], time: Timestamp.iso(h.hlc.milliseconds), seq: h.seq)
        }
        return ConflictRecord(id: id, record: record, collection: collection, field: field, winner: values.first?.value ?? .null, values: values)
    }

    /// Settles a conflict: writes `value` (or the `pick`-th listed value, counting from 1) with
    /// `pred` naming every head, so the field has one head again on every node that syncs.
    public func resolveConflict(_ idPrefix: String, pick: Int?, value: String?) throws -> ConflictRecord {
        guard (pick == nil) != (value == nil) else {
            throw GridSyncError(.invalidInput, Localized("--pick N 和 --value V 须且只能给一个", en: "give exactly one of --pick N or --value V"))
        }
        let (resolved, _) = try localWrite { db, change -> ConflictRecord in
            let id = try resolveID(idPrefix, table: "open_conflicts", kind: "conflict", db)
            let row = try Row.fetchOne(db, sql: "SELECT collection, record, field FROM open_conflicts WHERE id = ?", arguments: [id])!
            let c = try conflict(id: id, RecordKey(collection: row[0], record: row[1]), field: row[2], db)
            guard let schema = Schema.collection(named: c.collection) else {
                throw GridSyncError(.invalidInput, Localized("冲突 \(id) 属于集合「\(c.collection)」，本版本不能编辑它；请升级 gridsync", en: "conflict \(id) is in collection '\(c.collection)', which this gridsync version cannot edit; upgrade gridsync"))
            }
            let chosen: FieldValue
            if let pick {
                guard pick >= 1 && pick <= c.values.count else {
                    throw GridSyncError(.invalidInput, Localized("冲突 \(id) 的 --pick 应在 1 到 \(c.values.count) 之间；见 `gridsync conflicts show \(id)`", en: "--pick must be between 1 and \(c.values.count) for conflict \(id); see `gridsync conflicts show \(id)`"))
                }
                let picked = c.values[pick - 1].value
                guard picked != .unreadable, picked != .erased else {
                    throw GridSyncError(.notPermitted, Localized("本节点读不到冲突 \(id) 的第 \(pick) 个值（它为本节点没有的范围或纪元密封），不能选它；请在社区中心或该记录所在楼栋处理，或用 --value 给出新值（没有写入任何内容）", en: "this node cannot read value \(pick) of conflict \(id) (it is sealed for a scope or epoch this node does not hold); settle it on the centre or the record's own building, or give a new value with --value (nothing was written)"))
                }
                chosen = picked.fieldValue
            } else {
                chosen = try parseValue(value!, field: c.field, collection: schema)
            }
            change.set(schema, c.record, c.field, chosen)
            return c
        }
        return resolved
    }

    /// Parses a person's value for `field` by the kind the schema declares for it.
    private func parseValue(_ input: String, field: String, collection: CollectionSchema) throws -> FieldValue {
        switch collection.spec(field)?.kind ?? .text {
        case .flag where field == Schema.deletedField:
            switch input {
            // catalogue: data — the words a person types to settle a flag
            case "0", "keep", "保留": return .int(0)
            case "1", "delete", "删除": return .int(1)
            default: throw GridSyncError(.invalidInput, Localized("_deleted 请给 0/keep/保留 或 1/delete/删除", en: "for _deleted give 0/keep or 1/delete"))
            }
        case .flag:
            switch input {
            case "1", "yes", "是": return .int(1)
            case "0", "no", "否": return .int(0)
            // catalogue: end
            default: throw GridSyncError(.invalidInput, Localized("\(field) 请给 1/yes/是 或 0/no/否", en: "for \(field) give 1/yes or 0/no"))
            }
        case .status:
            guard let s = RequestStatus(input: input) else {
                throw GridSyncError(.invalidInput, Localized(
                    "不是状态；可用：" + RequestStatus.allCases.map { "\($0.label)（\($0.rawValue)）" }.joined(separator: "、"),
                    en: "not a status; use one of: " + RequestStatus.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            return .text(s.rawValue)
        case .int:
            guard let i = Int64(input) else { throw GridSyncError(.invalidInput, Localized("\(field) 请给一个整数", en: "for \(field) give a whole number")) }
            return .int(i)
        case .date: return .orNull(try Validate.date(input, "--value") ?? "")
        case .phone: return .orNull(try Validate.phone(input, "--value") ?? "")
        case .place: return .orNull(try Validate.place(input, "--value") ?? "")
        case .text, .timestamp, .reference: return .orNull(try Validate.text(input, "--value") ?? "")
        }
    }

    // MARK: History and digest

    /// Every op that touched a record, oldest first: who set which field to what, when.
    public func history(ofRecord id: String, in collection: String = Schema.requests.name) throws -> [HistoryEntry] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.body, n.name FROM change_records r JOIN changes c ON c.pos = r.pos
                JOIN origins o ON o.idx = c.origin LEFT JOIN nodes n ON n.id = o.node_id
                WHERE r.collection = ? AND r.record = ? ORDER BY c.hlc, r.pos
                """, arguments: [collection, id])
            var out: [HistoryEntry] = []
            var ring = try readingKeyring(for: RecordKey(collection: collection, record: id), db)
            var place = Placement(grid: nil, building: nil)
            for row in rows {
                let change = try ChangeCodec.decode([UInt8](row[0] as Data))
                for op in change.ops where op.record == id && op.collection == collection {
                    // Where the record lay when each value was sealed: its scope's key opens it.
                    if op.field == "grid" { place.grid = op.value.text }
                    if op.field == "building" { place.building = op.value.text }
                    ring.learn(place)
                    out.append(HistoryEntry(
                        time: Timestamp.iso(change.hlc.milliseconds), origin: change.origin.text, originName: row[1],
                        seq: change.seq, field: op.field, value: JSONValue(ring.open(op.value, collection, id, op.field))))
                }
            }
            return out
        }
    }

    /// The keyring, knowing where `key` lies now (a note: where its request lies).
    func readingKeyring(for key: RecordKey, _ db: Database) throws -> Keyring {
        var ring = try keyring(db)
        var request = key.collection == Schema.requests.name ? key.record : nil
        if key.collection == Schema.notes.name {
            request = try NoteTable.request(ofNote: key.record, db)
        }
        if let request, let row = try Row.fetchOne(db, sql: "SELECT grid, building FROM requests WHERE id = ?", arguments: [request]) {
            ring.learn(Placement(grid: row[0], building: row[1]))
        }
        return ring
    }

    /// A SHA-256 digest of the replicated content: every record's collection and every field's
    /// heads (origin, seq, HLC, value). Stores holding the same changes have the same digest,
    /// whatever order the changes arrived in.
    public func digest() throws -> String {
        try read { db in
            let origins = try OriginTable.load(db)
            var hasher = SHA256()
            var w = ByteWriter(capacity: 1 << 16)
            let rows = try Row.fetchCursor(db, sql: "SELECT record, collection, heads FROM record_state ORDER BY record, collection")
            while let row = try rows.next() {
                let record: String = row[0]
                let collection: String = row[1]
                let heads = try RecordHeads(decoding: [UInt8](row[2] as Data))
                for (field, fieldHeads) in heads.fields {
                    let entries = fieldHeads.map { (origins.nodeID($0.origin), $0) }
                        .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.seq < $1.1.seq }
                    for (origin, h) in entries {
                        w.writeString(collection)
                        w.writeString(record)
                        w.writeString(field)
                        w.write(contentsOf: origin.bytes)
                        w.writeVarint(UInt64(h.seq))
                        w.writeUInt64BE(h.hlc)
                        // A sealed value counts by its clear part, which every node holds.
                        if case .sealed(let v) = h.value { w.writeValue(.sealed(v.redacted)) } else { w.writeValue(h.value) }
                    }
                }
                if w.bytes.count > 60_000 {
                    hasher.update(data: w.bytes)
                    w = ByteWriter(capacity: 1 << 16)
                }
            }
            hasher.update(data: w.bytes)
            return hasher.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        }
    }

    /// What needs a person's attention: open conflicts and quarantined changes. Cheap enough
    /// for every metrics scrape (unlike ``counts()``, which counts the whole change log).
    public func attention() throws -> (conflicts: Int, quarantined: Int, ownRefused: Int) {
        try read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM open_conflicts") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM refused_by_peers") ?? 0)
        }
    }

    /// Counts for `gridsync status`.
    public func counts() throws -> (changes: Int, requests: Int, services: Int, conflicts: Int, quarantined: Int) {
        try read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM requests WHERE deleted = 0") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM services WHERE deleted = 0") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM open_conflicts") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine") ?? 0)
        }
    }
}

extension JSONValue {
    var fieldValue: FieldValue {
        switch self {
        case .null: .null
        case .int(let i): .int(i)
        case .text(let s): .text(s)
        case .unreadable, .erased: .null
        }
    }
}
