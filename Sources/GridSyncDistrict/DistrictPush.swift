import Foundation
import GridSyncCore
import GridSyncStore
import Logging
import NIOCore
import PostgresNIO

/// What one push did.
public struct DistrictPushResult: Sendable, Codable, Equatable {
    public var community_id: String
    /// Requests and services written (inserted or updated) by this push.
    public var requests: Int
    public var services: Int
    /// The centre's change log position the district now holds everything up to.
    public var pushed_through: Int64
    /// The position the district held before.
    public var from: Int64
    /// Whether the district's checkpoint was ahead of this store's log (a store restored from
    /// an older copy, or a new one): everything was pushed again.
    public var full_repush: Bool
}

/// Feeds one community's clear records into the district database (docs/DISTRICT.md).
///
/// Incremental: the district keeps, per community, the change log position it was pushed up
/// to (`communities.pushed_through`); a push sends the requests and services that changes after
/// it touched, as upserts, and moves the checkpoint — in one PostgreSQL transaction. A push cut
/// off anywhere (the server stopped, the process killed) leaves either nothing or all of it;
/// pushed again, the same rows are written again, which changes nothing: nothing is lost and
/// nothing counted twice.
public enum DistrictPush {
    /// Pushes `store`'s changes since the district's checkpoint. `community` is for load tests
    /// only (`gridsync-bench district`): push the store's rows under another community ID.
    public static func push(_ store: Store, to conn: PostgresConnection, logger: Logger, as community: String? = nil) async throws -> DistrictPushResult {
        guard let info = try store.community() else {
            throw GridSyncError(.notInitialized, Localized(
                "本存储不属于任何社区，没有可以上报的社区数据；在社区中心运行 `gridsync district push`",
                en: "this store belongs to no community, so there is no community to push; run `gridsync district push` at the centre"))
        }
        guard store.node.role == .centre else {
            throw GridSyncError(.notPermitted, Localized(
                "只有社区中心向区级数据库上报（它持有全社区的数据）；本节点是\(store.node.role.label)",
                en: "only the centre pushes to the district (it holds the whole community); this node is a \(store.node.role.englishLabel)"))
        }
        try await DistrictSchema.migrate(conn, logger: logger)
        let id = community ?? info.id.text
        let name = store.node.name
        var since: Int64 = 0
        for try await v in try await conn.query("SELECT pushed_through FROM communities WHERE community_id = \(id)", logger: logger).decode(Int64.self) {
            since = v
        }
        var extract = try store.districtExtract(since: since)
        var fullRepush = false
        if extract.through < since {
            // The district holds more of this community than this store's log has: a store
            // restored from an older copy, or made again. Push everything it has.
            extract = try store.districtExtract(since: 0)
            fullRepush = true
        }
        let result = DistrictPushResult(
            community_id: id, requests: extract.requests.count, services: extract.services.count,
            pushed_through: extract.through, from: since, full_repush: fullRepush)
        if extract.through == since && !fullRepush { return result }
        try await conn.withTransaction(logger: logger) { conn in
            // A community new to the district has no rows yet (a push writes its community row
            // first, in the same transaction): its rows go in by plain COPY, with no conflicts
            // to look for.
            var isNew = false
            for try await _ in try await conn.query("""
                INSERT INTO communities (community_id, name, pushed_through, pushed_at) VALUES (\(id), \(name), 0, now())
                ON CONFLICT (community_id) DO NOTHING RETURNING community_id
                """, logger: logger).decode(String.self) {
                isNew = true
            }
            // The row locked: a second push of the same community waits here, then finds the
            // checkpoint moved and stops (its rows would be the same or older).
            var current: Int64 = -1
            for try await v in try await conn.query("SELECT pushed_through FROM communities WHERE community_id = \(id) FOR UPDATE", logger: logger).decode(Int64.self) {
                current = v
            }
            guard current == since else {
                throw GridSyncError(.notPermitted, Localized(
                    "另一次上报刚刚更新了社区 \(id) 的数据；稍后再试", en: "another push just updated community \(id); try again in a moment"))
            }
            try await upsertRequests(extract.requests, community: id, fresh: isNew, conn, logger)
            try await upsertServices(extract.services, community: id, fresh: isNew, conn, logger)
            try await conn.query("""
                UPDATE communities SET pushed_through = \(extract.through), pushed_at = now(), name = \(name) WHERE community_id = \(id)
                """, logger: logger)
        }
        return result
    }

    static let requestColumns = [
        "community_id", "request_id", "grid", "building", "category", "due", "urgent", "status", "assigned_service", "satisfaction",
        "created_at", "accepted_at", "assigned_at", "started_at", "resolved_at", "rated_at", "closed_at", "deleted",
    ]

    static let serviceColumns = ["community_id", "service_id", "name", "provider_kind", "category", "grid", "status", "created_at", "deleted"]

    /// Writes `rows` into `table` as upserts: streamed with `COPY` into a temporary table that
    /// lives until the commit, then one `INSERT … ON CONFLICT DO UPDATE` from it — as fast as
    /// PostgreSQL takes rows, with the same effect as one upsert per row. For a community
    /// that has no rows yet (`fresh`), straight into the table.
    static func upsert<Row>(
        _ rows: [Row], into table: String, columns: [String], key: String, fresh: Bool, _ conn: PostgresConnection, _ logger: Logger,
        fields: (Row) -> [String?]
    ) async throws {
        guard !rows.isEmpty else { return }
        let incoming = fresh ? table : "incoming_\(table)"
        if !fresh {
            try await conn.query(PostgresQuery(unsafeSQL: "CREATE TEMP TABLE \(incoming) (LIKE \(table)) ON COMMIT DROP"), logger: logger)
        }
        try await conn.copyFrom(table: incoming, columns: columns, logger: logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for row in rows {
                CopyText.append(fields(row), to: &buffer)
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
        if fresh { return }
        let list = columns.joined(separator: ", ")
        let updates = columns.filter { !key.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        try await conn.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) (\(list)) SELECT \(list) FROM \(incoming) ON CONFLICT (\(key)) DO UPDATE SET \(updates)"), logger: logger)
    }

    static func upsertRequests(_ rows: [DistrictRequest], community: String, fresh: Bool, _ conn: PostgresConnection, _ logger: Logger) async throws {
        try await upsert(rows, into: "requests", columns: requestColumns, key: "community_id, request_id", fresh: fresh, conn, logger) { r in
            [community, r.id, r.grid, r.building, r.category, r.due, r.urgent ? "t" : "f", r.status, r.assignedService, r.satisfaction,
             r.createdAt, r.acceptedAt, r.assignedAt, r.startedAt, r.resolvedAt, r.ratedAt, r.closedAt, r.deleted ? "t" : "f"]
        }
    }

    static func upsertServices(_ rows: [DistrictService], community: String, fresh: Bool, _ conn: PostgresConnection, _ logger: Logger) async throws {
        try await upsert(rows, into: "services", columns: serviceColumns, key: "community_id, service_id", fresh: fresh, conn, logger) { s in
            [community, s.id, s.name, s.providerKind, s.category, s.grid, s.status, s.createdAt, s.deleted ? "t" : "f"]
        }
    }
}

/// PostgreSQL's `COPY` text format: fields separated by tabs, rows by newlines, `\N` for null,
/// and backslash, tab, newline and carriage return escaped — so a category or a grid name with
/// any of them (a hostile writer's) arrives as it was written (bar NUL bytes, which PostgreSQL's
/// text cannot hold).
enum CopyText {
    static func append(_ fields: [String?], to buffer: inout ByteBuffer) {
        for (i, field) in fields.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            guard var field else {
                buffer.writeStaticString("\\N")
                continue
            }
            field.withUTF8 { utf8 in
                // Most values need no escape: written whole.
                guard utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == 0 }) else {
                    buffer.writeBytes(utf8)
                    return
                }
                for byte in utf8 {
                    switch byte {
                    case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                    case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                    case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                    case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                    case 0: break   // PostgreSQL text holds no NUL; dropped rather than stop every push
                    default: buffer.writeInteger(byte)
                    }
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}
