import Foundation
import GRDB
import GridSyncCore

/// A refused change as `gridsync quarantine list` shows it.
public struct QuarantineEntry: Sendable, Codable, Equatable {
    /// The entry's number for `quarantine show/release/discard`; nil for counted changes.
    public var id: Int64?
    /// "held" (kept aside; the origin's later changes wait behind it), "void" (in the log, its
    /// ops not applied; the origin's later changes apply) or "counted" (not kept: a stranger's,
    /// or past the limits; its sender offers it again).
    public var state: String
    public var origin: String
    public var origin_name: String?
    public var seq: Int64?
    /// For counted entries, the last seq counted.
    public var last_seq: Int64?
    public var changes: Int
    public var reason: String
    public var detail: String
    public var from: String
    public var received_at: String
}

/// One of this node's own changes that a peer said it did not apply.
public struct OwnRefusal: Sendable, Codable, Equatable {
    public var peer: String
    public var seq: Int64
    /// The REFUSED code (Protocol/SPEC.md §5.3), e.g. 16 out of scope.
    public var code: Int
    public var at: String
}

/// What a refused change tried to write: records and fields, never values.
public struct QuarantineDetail: Sendable, Codable, Equatable {
    public struct Write: Sendable, Codable, Equatable {
        public var collection: String
        public var record: String
        public var fields: [String]
    }

    public var entry: QuarantineEntry
    public var hlc_time: String?
    public var writes: [Write]
}

extension Store {
    // MARK: Quarantine

    /// Refused changes: void and held ones newest first, then the counted ones.
    public func quarantine() throws -> [QuarantineEntry] {
        try read { db in try Self.quarantine(db) }
    }

    static func quarantine(_ db: Database) throws -> [QuarantineEntry] {
        try stored(db, where: "1") + counted(db)
    }

    /// Held and void entries matching `condition`, newest first.
    private static func stored(_ db: Database, where condition: String, _ arguments: StatementArguments = []) throws -> [QuarantineEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT q.id, q.in_log, q.origin, coalesce(r.name, n.name), q.seq, q.reason, q.detail, q.from_peer, q.received_at
                FROM quarantine q LEFT JOIN roster r ON r.id = 'member-' || replace(q.origin, '-', '') LEFT JOIN nodes n ON n.id = q.origin
                WHERE \(condition)
                ORDER BY q.received_at DESC, q.origin, q.seq
                """, arguments: arguments
        ).map { row in
            QuarantineEntry(
                id: row[0], state: (row[1] as Int64) == 1 ? "void" : "held", origin: row[2], origin_name: row[3], seq: row[4],
                last_seq: nil, changes: 1, reason: row[5], detail: row[6], from: row[7], received_at: row[8])
        }
    }

    private static func counted(_ db: Database) throws -> [QuarantineEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT origin, reason, changes, first_seq, last_seq, from_peer, last_seen FROM quarantine_summary
                ORDER BY last_seen DESC, origin
                """
        ).map { row -> QuarantineEntry in
            let origin: String = row[0]
            let n: Int = row[2]
            let first = row[3] as Int64? ?? 0, last = row[4] as Int64? ?? 0
            let detail =
                origin == "*"
                ? Localized("超出隔离区上限的更多节点的 \(n) 个变更；未保存", en: "\(n) changes of further nodes past the quarantine's limits; not kept").text
                : Localized("\(n) 个变更（序号 \(first)–\(last)）只计数、未保存；能够应用时发送方会再次提供", en: "\(n) changes (seq \(first)–\(last)) counted, not kept; the sender offers them again once they can apply").text
            return QuarantineEntry(
                id: nil, state: "counted", origin: origin, origin_name: nil, seq: row[3], last_seq: row[4], changes: n,
                reason: row[1], detail: detail, from: row[5], received_at: row[6])
        }
    }

    /// What quarantined entry `id` tried to write.
    public func quarantineDetail(_ id: Int64) throws -> QuarantineDetail {
        try read { db in
            let (entry, bytes) = try quarantinedChange(id, db)
            guard let bytes, let change = try? ChangeCodec.decode(Array(bytes.prefix(bytes.count - SignedChange.signatureBytes))) else {
                return QuarantineDetail(entry: entry, hlc_time: nil, writes: [])
            }
            var writes: [QuarantineDetail.Write] = []
            for op in change.ops {
                if let i = writes.firstIndex(where: { $0.collection == op.collection && $0.record == op.record }) {
                    writes[i].fields.append(op.field)
                } else {
                    writes.append(.init(collection: op.collection, record: op.record, fields: [op.field]))
                }
            }
            return QuarantineDetail(
                entry: entry, hlc_time: Timestamp.iso(min(change.hlc.milliseconds, 253_402_300_799_999)), writes: writes)
        }
    }

    /// The entry and the change's bytes (body ‖ signature), from the quarantine or, for a void
    /// change, from the log.
    private func quarantinedChange(_ id: Int64, _ db: Database) throws -> (QuarantineEntry, [UInt8]?) {
        guard let entry = try Self.stored(db, where: "q.id = ?", [id]).first else {
            throw GridSyncError(.notFound, Localized("没有编号为 \(id) 的隔离变更；`gridsync quarantine list` 列出编号", en: "no quarantined change number \(id); `gridsync quarantine list` shows the numbers"))
        }
        if entry.state == "held" {
            let blob = try Data.fetchOne(db, sql: "SELECT change FROM quarantine WHERE id = ?", arguments: [id])
            return (entry, blob.map { Array($0) })
        }
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT c.body, c.signature FROM changes c JOIN origins o ON o.idx = c.origin WHERE o.node_id = ? AND c.seq = ?
                """, arguments: [entry.origin, entry.seq])
        return (entry, row.map { Array($0[0] as Data) + Array($0[1] as Data) })
    }

    /// Tries held changes again now (after an upgrade or a roster change): entry `id`, or every
    /// held one when nil. Returns what the retry did; what is still refused stays held.
    @discardableResult
    public func releaseQuarantined(_ id: Int64?) throws -> ApplyReport {
        let held: [(Int64, [UInt8])] = try read { db in
            if let id {
                let (entry, bytes) = try quarantinedChange(id, db)
                guard entry.state == "held", let bytes else {
                    throw GridSyncError(.invalidInput, Localized(
                        "编号 \(id) 的变更已作废：它在日志中，其节点后来的变更照常生效；它现在不能应用——请其节点在自己的范围内重新写入",
                        en: "change number \(id) is void: it is in the log and its node's later changes apply; it cannot be applied now — its node writes again within its scope"))
                }
                return [(id, bytes)]
            }
            return try Row.fetchAll(db, sql: "SELECT id, change FROM quarantine WHERE in_log = 0 ORDER BY origin, seq").map {
                ($0[0], Array($0[1] as Data))
            }
        }
        guard !held.isEmpty else { return ApplyReport() }
        return try applyInOneTransaction(source: "release") { apply in
            try apply(held.map { .encoded($0.1) })
        } after: { db in
            try self.audit("release", ids: held.map(\.0), db)
        }
    }

    /// Drops quarantined entry `id` for good (centre only); the act is kept in
    /// `quarantine_audit`. A void change stays in the log; only the record of its refusal goes.
    public func discardQuarantined(_ id: Int64) throws {
        guard node.role == .centre, try community()?.centre == node.id else {
            throw GridSyncError(.notPermitted, Localized("只有社区中心可以丢弃隔离变更；请在社区中心的存储上运行", en: "only the community centre discards quarantined changes; run this on the centre's store"))
        }
        do {
            try writer.write { db in
                _ = try quarantinedChange(id, db)
                try audit("discard", ids: [id], db)
                try db.execute(sql: "DELETE FROM quarantine WHERE id = ?", arguments: [id])
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    private func audit(_ action: String, ids: [Int64], _ db: Database) throws {
        let now = Timestamp.iso(wallClock())
        for id in ids {
            try db.execute(
                sql: """
                    INSERT INTO quarantine_audit (at, action, origin, seq, reason, change_hash)
                    SELECT ?, ?, origin, seq, reason, change_hash FROM quarantine WHERE id = ?
                    """, arguments: [now, action, id])
        }
    }

    // MARK: This node's own refused changes

    /// Records that `peer` refused these changes of this node (seq, REFUSED code). Only seqs
    /// this node has made are recorded: a peer naming others is not believed, so the table
    /// holds at most one row per peer and change.
    public func recordRefusals(by peer: String, _ refused: [(seq: UInt64, code: Int)]) throws {
        guard !refused.isEmpty else { return }
        let now = Timestamp.iso(wallClock())
        do {
            try writer.write { db in
                let made = UInt64(try Int64.fetchOne(db, sql: "SELECT max_seq FROM origins WHERE node_id = ?", arguments: [node.id.text]) ?? 0)
                for r in refused where r.seq >= 1 && r.seq <= made {
                    try db.execute(
                        sql:
                            "INSERT INTO refused_by_peers (peer, seq, code, at) VALUES (?, ?, ?, ?) ON CONFLICT (peer, seq) DO UPDATE SET code = excluded.code, at = excluded.at",
                        arguments: [peer, Int64(r.seq), r.code, now])
                }
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// This node's own changes that peers refused, newest first.
    public func ownRefusals() throws -> [OwnRefusal] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT peer, seq, code, at FROM refused_by_peers ORDER BY at DESC, seq DESC").map {
                OwnRefusal(peer: $0[0], seq: $0[1], code: $0[2], at: $0[3])
            }
        }
    }

    // MARK: Restored from a backup

    /// Notes that the community's centre holds this node's own changes up to `seq`. If that is
    /// beyond what this store holds, the store was restored from an older copy: local writes are
    /// refused until the missing changes are taken back (they come with the next sync or
    /// bundle from the centre), so this node never forks its own history. Only the centre's
    /// word counts (the daemon calls this for the centre's VECTOR): any other node could claim
    /// a huge seq to stop this node from writing.
    public func noteOwnChangesSeen(upTo seq: UInt64) throws {
        guard seq > 0 else { return }
        do {
            try writer.write { db in
                try db.execute(sql: "UPDATE local_node SET own_seq_seen = max(own_seq_seen, ?)", arguments: [Int64(clamping: seq)])
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// How many of this node's own changes other nodes were seen to hold beyond this store's.
    public func ownChangesMissing() throws -> UInt64 {
        try read { db in
            let seen = try Int64.fetchOne(db, sql: "SELECT own_seq_seen FROM local_node") ?? 0
            let own = try Int64.fetchOne(db, sql: "SELECT max_seq FROM origins WHERE node_id = ?", arguments: [node.id.text]) ?? 0
            return UInt64(max(0, seen - own))
        }
    }
}

extension Store {
    /// How this node writes: the scope the roster gives it once the roster reached this store.
    /// Throws (not permitted) when the roster revoked it.
    public func localWriter() throws -> Writer {
        try read { db in try localWriter(db) }
    }

    /// ``localWriter()``'s scope in words, for messages.
    public func writerScope() throws -> String { try localWriter().scopeText.text }
}
