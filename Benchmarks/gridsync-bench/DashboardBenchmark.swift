import Foundation
import GRDBSQLite
import GridSyncCore
import GridSyncDashboard
import GridSyncStore
import Hummingbird
import HummingbirdTesting

/// The dashboard's overview on a centre of N requests created over a year (a quarter accepted,
/// some resolved and rated, a third with a due date), over HTTP on 127.0.0.1; beside it the
/// yardstick: libsqlite3 alone reading the columns the overview counts from the same file.
func measureAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = monotonicNanoseconds()
    let value = try await body()
    return (value, Double(monotonicNanoseconds() - start) / 1e9)
}

struct DashboardBenchmark {
    /// Runs blocking work on a thread of its own, so the async load beside it keeps going.
    static func offMain<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            Thread { done.resume(with: Result { try work() }) }.start()
        }
    }

    let requests: Int
    let baseDir: String

    final class Clock: @unchecked Sendable { var ms: UInt64 = 1_764_547_200_000 }  // 2025-12-01T00:00Z

    func run() async throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("gridsync-bench dashboard: \(requests) requests on a centre, created over twelve months")
        let clock = Clock()
        let path = dir + "/centre.db"
        let centre = try Store.create(path: path, name: "社区服务中心", role: .centre, grid: nil, building: nil, wallClock: { clock.ms })
        let rows = SearchBenchmark(requests: requests, baseDir: dir).rows()
        let perBatch = 1_000, batches = (requests + perBatch - 1) / perBatch
        let step = UInt64(365 * 86_400_000 / max(1, batches))
        var ids: [String] = []
        let (_, seeding) = try measure {
            var start = 0
            while start < rows.count {
                let n = min(perBatch, rows.count - start)
                let batch = (start..<start + n).map { i in
                    let r = rows[i]
                    return (row: i + 2, request: NewRequest(
                        grid: r.grid, building: r.building, unit: r.unit, room: r.room, resident: r.resident, phone: r.phone,
                        category: Schema.defaultCategories[i % 6], title: r.title, detail: r.detail, due: r.due))
                }
                let (made, problems) = try centre.importRequests(batch, skipBad: false, name: { $0 })
                guard problems.isEmpty else { throw BenchError("import refused \(problems.count) rows") }
                ids += made
                // Steps an hour or so after creation, on a share of each day's requests.
                clock.ms += 3_600_000
                for (k, id) in made.enumerated() where k % 4 == 0 {
                    _ = try centre.transition(id, .accept)
                    if k % 8 == 0 { _ = try centre.transition(id, .resolve) }
                    if k % 16 == 0 { _ = try centre.rate(id, satisfaction: k % 32 == 0 ? .satisfied : .dissatisfied, comment: nil) }
                }
                clock.ms += step - 3_600_000
                start += n
            }
        }
        print("seeded in \(String(format: "%.1f", seeding)) s")
        let month = centre.currentMonth()

        // Where an overview's time goes, in process: reading the register, then the figures.
        let (extract, extractSeconds) = try measure { try centre.districtExtract(since: 0) }
        let records = extract.requests.compactMap(\.record)
        let (_, datedSeconds) = measure { DatedRequests(records, timeZone: .current) }
        let (_, reportSeconds) = try measure { try centre.monthlyReport(month, months: 12) }
        print(String(format: "in process: register read %.0f ms, creation days %.0f ms, the month and twelve months' figures %.0f ms", extractSeconds * 1000, datedSeconds * 1000, reportSeconds * 1000))

        // Yardstick: the columns the overview reads, by libsqlite3 alone, and the counts by SQL.
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { throw BenchError("open") }
        defer { sqlite3_close(db) }
        var rawTimes: [Double] = []
        for _ in 0..<11 {
            let start = monotonicNanoseconds()
            var stmt: OpaquePointer?
            guard sqlite3_prepare_v2(db, "SELECT id, status, grid, building, category, due, created_at, accepted_at, resolved_at, closed_at, satisfaction FROM requests WHERE deleted = 0", -1, &stmt, nil) == SQLITE_OK else { throw BenchError("prepare") }
            var n = 0, chars = 0
            while sqlite3_step(stmt) == SQLITE_ROW {
                for col in 0..<11 { if let t = sqlite3_column_text(stmt, Int32(col)) { chars += String(cString: t).utf8.count } }
                n += 1
            }
            sqlite3_finalize(stmt)
            guard n == requests, chars > 0 else { throw BenchError("raw read \(n) rows") }
            rawTimes.append(Double(monotonicNanoseconds() - start) / 1e6)
        }
        rawTimes.removeFirst()
        rawTimes.sort()
        let raw = rawTimes[rawTimes.count / 2]

        let dashboard = try Dashboard(store: centre, settings: .init(host: "127.0.0.1", port: 0))
        let app = Application(router: dashboard.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let figures = try await app.test(.live) { client -> [String: Double] in
            var out: [String: Double] = [:]
            func time(_ uri: String) async throws -> Double {
                let start = monotonicNanoseconds()
                let r = try await client.execute(uri: uri, method: .get)
                guard r.status == .ok else { throw BenchError("\(uri): \(r.status)") }
                return Double(monotonicNanoseconds() - start) / 1e6
            }
            for (name, uri) in [("overview", "/?month=\(month)"), ("by grid", "/by/grid?month=\(month)"), ("by service", "/by/service?month=\(month)"), ("nodes", "/nodes")] {
                // The first answer works the figures out; the next ten find them done.
                let first = try await time(uri)
                var times: [Double] = []
                for _ in 0..<10 { times.append(try await time(uri)) }
                times.sort()
                out[name] = times[times.count / 2]
                out[name + " first"] = first
                print(String(format: "%-12@ first (works the figures out) %7.1f ms; then median of 10 %6.1f ms, max %6.1f ms", name as NSString, first, times[times.count / 2], times.last ?? 0))
            }
            // After a change: the refresher (as the daemon runs it) works the month out again;
            // the next overview is then as fast as before.
            clock.ms += 60_000
            _ = try centre.addRequest(NewRequest(grid: "1", building: "1", resident: "新居民", phone: "13700000001", category: "居家养老", title: "新的需求"))
            let (_, refreshSeconds) = try await measureAsync { try await dashboard.refresh() }
            var after: [Double] = []
            for _ in 0..<10 { after.append(try await time("/?month=\(month)")) }
            after.sort()
            out["refresh"] = refreshSeconds * 1000
            out["overview after change"] = after[after.count / 2]
            print(String(format: "after one new request: the refresher took %.0f ms; the overview then answers in %.1f ms (median of 10)", refreshSeconds * 1000, after[after.count / 2]))

            // Does the dashboard slow the store's writer (what sync and imports use)? The same
            // import of 10,000 requests, alone and while a loop refreshes the figures and fetches
            // the overview as fast as it can.
            @Sendable func importMore(_ n: Int, seed: Int) throws -> Double {
                let extra = SearchBenchmark(requests: n, baseDir: dir).rows()
                let (_, seconds) = try measure {
                    for start in stride(from: 0, to: n, by: perBatch) {
                        let batch = (start..<min(n, start + perBatch)).map { i in
                            (row: i + 2, request: NewRequest(grid: extra[i].grid, building: extra[i].building, resident: extra[i].resident,
                                                             category: Schema.defaultCategories[(i + seed) % 6], title: extra[i].title))
                        }
                        _ = try centre.importRequests(batch, skipBad: false, name: { $0 })
                        clock.ms += 60_000
                    }
                }
                return seconds
            }
            let alone = try importMore(10_000, seed: 1)
            final class Flag: @unchecked Sendable { var stop = false; var pages = 0 }
            let flag = Flag()
            let load = Task {
                while !flag.stop {
                    try? await dashboard.refresh()
                    _ = try? await client.execute(uri: "/?month=\(month)", method: .get)
                    flag.pages += 1
                }
            }
            let loaded = try await Self.offMain { try importMore(10_000, seed: 2) }
            flag.stop = true
            _ = await load.value
            out["import alone"] = alone
            out["import with dashboard"] = loaded
            print(String(format: "writer: 10,000 requests imported in %.2f s alone, %.2f s while the dashboard refreshed and served %d overviews (%.2f ×)",
                         alone, loaded, flag.pages, loaded / alone))
            return out
        }

        let overview = figures["overview"] ?? 0
        print(String(format: "raw libsqlite3: read the overview's 11 columns of %d requests, median %.1f ms", requests, raw))
        print(String(format: "overview: %.1f ms = %.1f × the raw read (target: under 200 ms)", overview, overview / raw))
        let json: [String: Any] = ["import_alone_s": figures["import alone"] ?? 0, "import_with_dashboard_s": figures["import with dashboard"] ?? 0,
                                   "benchmark": "dashboard", "requests": requests, "overview_ms": overview, "overview_first_ms": figures["overview first"] ?? 0,
                                   "refresh_ms": figures["refresh"] ?? 0, "overview_after_change_ms": figures["overview after change"] ?? 0,
                                   "by_grid_ms": figures["by grid"] ?? 0, "by_service_ms": figures["by service"] ?? 0, "nodes_ms": figures["nodes"] ?? 0, "raw_read_ms": raw]
        print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
    }
}
