import Foundation
import GridSyncCore
import GridSyncDistrict
import GridSyncStore
import Logging
import NIOCore
import PostgresNIO

/// `gridsync-bench district --postgres URL`: a centre's register of `requests` requests pushed
/// as `communities` communities into a real PostgreSQL server (`DistrictPush`, as `gridsync
/// district push` does), then an incremental push of 1,000 changed requests; the yardstick is a
/// raw `COPY` of the same rows into a table of the same shape on the same server, in the same
/// run. The database's name must contain "bench": its gridsync tables are dropped first.
struct DistrictBenchmark {
    let url: String
    let communities: Int
    let requests: Int
    let baseDir: String

    func run() async throws {
        let server = try DistrictServer(url: url, passwordFile: ProcessInfo.processInfo.environment["PGPASSWORDFILE"])
        guard server.database.contains("bench") else {
            throw BenchError("the benchmark drops its tables first: give a database whose name contains \"bench\" (e.g. …/district_bench)")
        }
        let dir = baseDir + "/gridsync-district-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("gridsync-bench district: \(communities) communities × \(requests) requests into \(server)")

        // A centre with the register (sealed personal fields, as inside any community).
        let setup = try CommunitySetup.make(centrePath: dir + "/centre.db", origins: 8, seed: 11)
        let workload = Workload(community: setup.origins, seed: 5)
        var made = 0
        while made < requests {
            let n = min(10_000, requests - made)
            _ = try setup.centre.apply(workload.next(n))
            made += n
        }
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let ids = (0..<communities).map { "bench-\($0)" }
        let centre = setup.centre
        let (_, extractS) = try measure { try centre.districtExtract(since: 0) }
        print(String(format: "reading the register's clear fields from the centre's store: %.0f ms", extractS * 1000))

        let result = try await server.withConnection(logger: logger, timeout: .seconds(3600)) { conn -> [String: Double] in
            for t in ["requests", "services", "communities", "gridsync_migrations", "raw_requests"] {
                try await conn.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(t) CASCADE"), logger: logger)
            }
            // Full pushes, one per community.
            let start = ContinuousClock.now
            var rows = 0
            for id in ids { rows += try await DistrictPush.push(centre, to: conn, logger: logger, as: id).requests }
            let push = (ContinuousClock.now - start).seconds

            // The yardstick: the same rows by raw COPY into a table of the same shape.
            let extract = try centre.districtExtract(since: 0)
            try await conn.query("CREATE TABLE raw_requests (LIKE requests INCLUDING ALL)", logger: logger)
            let copyStart = ContinuousClock.now
            try await conn.withTransaction(logger: logger) { conn in
                try await conn.copyFrom(table: "raw_requests", columns: DistrictBenchmark.columns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    for id in ids {
                        for r in extract.requests {
                            let fields: [String?] = [
                                id, r.id, r.grid, r.building, r.category, r.due, r.urgent ? "t" : "f", r.status, r.assignedService, r.satisfaction,
                                r.createdAt, r.acceptedAt, r.assignedAt, r.startedAt, r.resolvedAt, r.ratedAt, r.closedAt, r.deleted ? "t" : "f",
                            ]
                            buffer.writeString(fields.map { $0 ?? "\\N" }.joined(separator: "\t"))
                            buffer.writeString("\n")
                            if buffer.readableBytes >= 1 << 20 {
                                try await writer.write(buffer)
                                buffer.clear()
                            }
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
            let copy = (ContinuousClock.now - copyStart).seconds
            return ["push_s": push, "rows": Double(rows), "copy_s": copy, "copy_rows": Double(extract.requests.count * ids.count)]
        }

        // 1,000 requests change at the centre; one community's incremental push.
        let changed = Array(workload.recordIDs.prefix(1_000))
        for id in changed { _ = try centre.transition(id, .accept) }
        let incremental = try await server.withConnection(logger: logger) { conn -> (Double, Int) in
            let t = ContinuousClock.now
            let r = try await DistrictPush.push(centre, to: conn, logger: logger, as: ids[0])
            return ((ContinuousClock.now - t).seconds, r.requests)
        }

        let rows = result["rows"] ?? 0, pushS = result["push_s"] ?? 1, copyS = result["copy_s"] ?? 1, copyRows = result["copy_rows"] ?? 0
        let pushRate = rows / pushS, copyRate = copyRows / copyS
        print(String(format: "push: %.0f rows in %.2f s = %.0f rows/s (%d pushes, each one transaction with its checkpoint)", rows, pushS, pushRate, communities))
        print(String(format: "yardstick: raw COPY of the same rows into a table of the same shape %.0f rows/s (%.2f s); push / COPY = %.2f", copyRate, copyS, pushRate / copyRate))
        print(String(format: "incremental push of %d changed requests: %.0f ms", incremental.1, incremental.0 * 1000))
        let json: [String: Any] = [
            "communities": communities, "requests_per_community": requests, "push_rows_per_s": Int(pushRate), "copy_rows_per_s": Int(copyRate),
            "push_vs_copy": (pushRate / copyRate * 100).rounded() / 100, "incremental_requests": incremental.1,
            "incremental_ms": (incremental.0 * 1000).rounded(),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
    }

    static let columns = [
        "community_id", "request_id", "grid", "building", "category", "due", "urgent", "status", "assigned_service", "satisfaction",
        "created_at", "accepted_at", "assigned_at", "started_at", "resolved_at", "rated_at", "closed_at", "deleted",
    ]
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
