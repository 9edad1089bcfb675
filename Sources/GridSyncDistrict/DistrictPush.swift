import Foundation
import GridSyncCore
import GridSyncStore
import Logging
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
    /// Rows per INSERT statement (each binds 18 values; PostgreSQL allows 65,535 per statement).
    static let rowsPerStatement = 1_000

    public static func push(_ store: Store, to conn: PostgresConnection, logger: Logger) async throws -> DistrictPushResult {
        guard let community = try store.community() else {
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
        let id = community.id.text
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
            try await conn.query("""
                INSERT INTO communities (community_id, name, pushed_through, pushed_at) VALUES (\(id), \(name), 0, now())
                ON CONFLICT (community_id) DO NOTHING
                """, logger: logger)
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
            for start in stride(from: 0, to: extract.requests.count, by: rowsPerStatement) {
                try await upsertRequests(extract.requests[start..<min(start + rowsPerStatement, extract.requests.count)], community: id, conn, logger)
            }
            for start in stride(from: 0, to: extract.services.count, by: rowsPerStatement) {
                try await upsertServices(extract.services[start..<min(start + rowsPerStatement, extract.services.count)], community: id, conn, logger)
            }
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

    static func upsertRequests(_ rows: ArraySlice<DistrictRequest>, community: String, _ conn: PostgresConnection, _ logger: Logger) async throws {
        var binds = PostgresBindings(capacity: rows.count * requestColumns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        var n = 0
        func next(_ cast: String = "") -> String {
            n += 1
            return "$\(n)\(cast)"
        }
        for r in rows {
            binds.append(community)
            binds.append(r.id)
            binds.append(r.grid)
            binds.append(r.building)
            binds.append(r.category)
            binds.append(r.due)
            binds.append(r.urgent)
            binds.append(r.status)
            binds.append(r.assignedService)
            binds.append(r.satisfaction)
            for t in [r.createdAt, r.acceptedAt, r.assignedAt, r.startedAt, r.resolvedAt, r.ratedAt, r.closedAt] { binds.append(t) }
            binds.append(r.deleted)
            let casts = ["", "", "", "", "", "::date", "", "", "", ""] + Array(repeating: "::timestamptz", count: 7) + [""]
            tuples.append("(" + casts.map { next($0) }.joined(separator: ", ") + ")")
        }
        let updates = requestColumns.dropFirst(2).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let sql = "INSERT INTO requests (\(requestColumns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) ON CONFLICT (community_id, request_id) DO UPDATE SET \(updates)"
        try await conn.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    static let serviceColumns = ["community_id", "service_id", "name", "provider_kind", "category", "grid", "status", "created_at", "deleted"]

    static func upsertServices(_ rows: ArraySlice<DistrictService>, community: String, _ conn: PostgresConnection, _ logger: Logger) async throws {
        var binds = PostgresBindings(capacity: rows.count * serviceColumns.count)
        var tuples: [String] = []
        var n = 0
        for s in rows {
            binds.append(community)
            binds.append(s.id)
            binds.append(s.name)
            binds.append(s.providerKind)
            binds.append(s.category)
            binds.append(s.grid)
            binds.append(s.status)
            binds.append(s.createdAt)
            binds.append(s.deleted)
            let casts = ["", "", "", "", "", "", "", "::timestamptz", ""]
            tuples.append("(" + casts.map { c in n += 1; return "$\(n)\(c)" }.joined(separator: ", ") + ")")
        }
        let updates = serviceColumns.dropFirst(2).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let sql = "INSERT INTO services (\(serviceColumns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) ON CONFLICT (community_id, service_id) DO UPDATE SET \(updates)"
        try await conn.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }
}
