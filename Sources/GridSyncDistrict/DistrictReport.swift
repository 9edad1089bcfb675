import Foundation
import GridSyncCore
import GridSyncStore
import Logging
import PostgresNIO

/// The district's figures: the four rates per community and for the whole district, computed
/// by the same code as `gridsync report` (``RequestReport/compute(_:options:nowMs:)``) from the
/// rows the centres pushed, so a community's figures here equal its own report's.
public struct DistrictReport: Sendable, Codable, Equatable {
    public struct Community: Sendable, Codable, Equatable {
        public var community_id: String
        public var name: String
        /// When the centre last pushed (ISO 8601, UTC).
        public var pushed_at: String
        public var report: RequestReport
    }

    public var communities: [Community]
    /// Every request of every community together.
    public var district: RequestReport

    /// Reads every pushed request and computes the report over `options` (its `by` groups each
    /// community's rows; communities are always separate).
    public static func read(from conn: PostgresConnection, options: ReportOptions, nowMs: UInt64, logger: Logger) async throws -> DistrictReport {
        var names: [(id: String, name: String, pushedAt: String)] = []
        let communities = try await conn.query(
            "SELECT community_id, name, (extract(epoch FROM pushed_at) * 1000)::bigint FROM communities ORDER BY community_id", logger: logger)
        for try await (id, name, at) in communities.decode((String, String, Int64).self) {
            names.append((id, name, Timestamp.iso(UInt64(max(0, at)))))
        }
        var byCommunity: [String: [RequestRecord]] = [:]
        let ms = { (column: String) in "(extract(epoch FROM \(column)) * 1000)::bigint" }
        let sql = """
            SELECT community_id, request_id, grid, building, category, due::text, urgent, status, assigned_service, satisfaction,
                   \(["created_at", "accepted_at", "assigned_at", "started_at", "resolved_at", "rated_at", "closed_at"].map(ms).joined(separator: ", "))
            FROM requests WHERE NOT deleted
            """
        let rows = try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await row in rows {
            let r = row.makeRandomAccess()
            func time(_ i: Int) throws -> String? { try r[i].decode(Int64?.self).map { Timestamp.iso(UInt64(max(0, $0))) } }
            let pushed = DistrictRequest(
                id: try r[1].decode(String.self), grid: try r[2].decode(String.self), building: try r[3].decode(String.self),
                category: try r[4].decode(String.self), due: try r[5].decode(String?.self), urgent: try r[6].decode(Bool.self),
                status: try r[7].decode(String.self), assignedService: try r[8].decode(String?.self), satisfaction: try r[9].decode(String?.self),
                createdAt: try time(10), acceptedAt: try time(11), assignedAt: try time(12), startedAt: try time(13),
                resolvedAt: try time(14), ratedAt: try time(15), closedAt: try time(16), deleted: false)
            guard let record = pushed.record else { continue }
            byCommunity[try r[0].decode(String.self), default: []].append(record)
        }
        let all = names.map { c in
            Community(
                community_id: c.id, name: c.name, pushed_at: c.pushedAt,
                report: RequestReport.compute(byCommunity[c.id] ?? [], options: options, nowMs: nowMs))
        }
        var whole = options
        whole.by = nil
        let district = RequestReport.compute(byCommunity.values.flatMap { $0 }, options: whole, nowMs: nowMs)
        return DistrictReport(communities: all, district: district)
    }
}
