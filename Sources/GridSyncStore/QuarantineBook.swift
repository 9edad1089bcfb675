import Foundation
import GRDB
import GridSyncCore

/// Writes refused changes to the quarantine, within its limits, for one apply.
///
/// A change is **held** (kept aside, not in the log: its origin's later changes follow it
/// into the quarantine) or **void** (in the log, so its origin's chain goes on, but its ops are
/// not applied). Held changes are kept whole up to ``Limits/maxQuarantinedPerOrigin`` per origin
/// and ``Limits/maxQuarantined`` in all; past that, and always for strangers (origins on no
/// roster), only a count per origin and reason is kept in `quarantine_summary`, so a flood of
/// changes costs a row, not its bytes. A counted change is offered again by its sender (the
/// ACK's vector does not include it), so nothing is lost when the roster later admits it.
struct QuarantineBook {
    let source: String
    let at: String
    private var total: (count: Int, bytes: Int)?
    private var perOrigin: [NodeID: (count: Int, bytes: Int)] = [:]
    private var summaries: Int?

    init(source: String, at: String) {
        self.source = source
        self.at = at
    }

    /// Holds `sc` aside: whole if within the limits and not a stranger's, else counted.
    mutating func hold(_ sc: SignedChange, _ reason: QuarantineReason, _ detail: String, stranger: Bool, _ db: Database) throws {
        let origin = sc.change.origin
        let size = sc.encoded.count
        if !stranger {
            if total == nil {
                let row = try Row.fetchOne(db, sql: "SELECT count(*), total(length(change)) FROM quarantine WHERE in_log = 0")
                total = (row?[0] ?? 0, Int(row?[1] as Double? ?? 0))
            }
            if perOrigin[origin] == nil {
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*), total(length(change)) FROM quarantine WHERE origin = ? AND in_log = 0"),
                    arguments: [origin.text])
                perOrigin[origin] = (row?[0] ?? 0, Int(row?[1] as Double? ?? 0))
            }
            let mine = perOrigin[origin]!, all = total!
            if mine.count < Limits.maxQuarantinedPerOrigin, mine.bytes + size <= Limits.maxQuarantinedBytesPerOrigin,
                all.count < Limits.maxQuarantined, all.bytes + size <= Limits.maxQuarantinedBytes
            {
                try insert(sc, reason, detail, inLog: false, db)
                perOrigin[origin] = (mine.count + 1, mine.bytes + size)
                total = (all.count + 1, all.bytes + size)
                return
            }
        }
        try summarise(origin.text, reason, seq: sc.change.seq, bytes: size, db)
    }

    /// Records `sc` as void: it goes into the log, its ops are not applied.
    func void(_ sc: SignedChange, _ reason: QuarantineReason, _ detail: String, _ db: Database) throws {
        try insert(sc, reason, detail, inLog: true, db)
    }

    private func insert(_ sc: SignedChange, _ reason: QuarantineReason, _ detail: String, inLog: Bool, _ db: Database) throws {
        let ch = sc.change
        try db.cachedStatement(
            sql: """
                INSERT INTO quarantine (origin, seq, change_hash, reason, detail, from_peer, received_at, change, in_log)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (change_hash) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
                    change = excluded.change, in_log = excluded.in_log
                """
        ).execute(arguments: [
            ch.origin.text, Int64(ch.seq), sc.hash.blob, reason.rawValue, detail, source, at,
            inLog ? Data() : sc.encoded.blob, inLog ? 1 : 0,
        ])
    }

    private mutating func summarise(_ origin: String, _ reason: QuarantineReason, seq: UInt64, bytes: Int, _ db: Database) throws {
        var key = origin
        let exists =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM quarantine_summary WHERE origin = ? AND reason = ?)"),
                arguments: [origin, reason.rawValue]) ?? false
        if !exists {
            if summaries == nil { summaries = try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine_summary") ?? 0 }
            if summaries! >= Limits.maxQuarantineSummaries { key = "*" } else { summaries! += 1 }
        }
        // A seq already inside the counted range is a resend: the count stays.
        try db.cachedStatement(
            sql: """
                INSERT INTO quarantine_summary (origin, reason, changes, bytes, first_seq, last_seq, from_peer, first_seen, last_seen)
                VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (origin, reason) DO UPDATE SET
                    changes = changes + (excluded.first_seq < first_seq OR excluded.first_seq > last_seq OR origin = '*'),
                    bytes = bytes + CASE WHEN excluded.first_seq < first_seq OR excluded.first_seq > last_seq OR origin = '*' THEN excluded.bytes ELSE 0 END,
                    first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq),
                    from_peer = excluded.from_peer, last_seen = excluded.last_seen
                """
        ).execute(arguments: [key, reason.rawValue, bytes, Int64(seq), Int64(seq), source, at, at])
    }

    /// Whether change `seq` of `origin` is held or counted.
    static func isHeld(_ origin: NodeID, _ seq: UInt64, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM quarantine WHERE origin = ? AND seq = ? AND in_log = 0)
                        OR EXISTS (SELECT 1 FROM quarantine_summary WHERE origin = ?1 AND first_seq <= ?2 AND last_seq >= ?2)
                    """),
            arguments: [origin.text, Int64(seq)]) ?? false
    }
}
