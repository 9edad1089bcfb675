import Foundation
import GridSyncCore
import GridSyncStore

/// Local write rate, bundle import of N requests × 10 fields into an empty store, re-import of
/// the same bundle, and the raw-SQLite upsert yardstick for the same rows.
struct ImportBenchmark {
    let requests: Int
    let baseDir: String
    /// Inside a community: enrolled origins, per-change authorisation, sealed personal fields.
    var community = false
    static let fields = Workload.fields
    static let origins = 8

    func run() throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ops = requests * Self.fields.count
        print("gridsync-bench import: \(requests) requests × \(Self.fields.count) fields = \(ops) field ops, \(Self.origins) origins"
            + (community ? ", inside a community (roster, authorisation, 6 of 10 fields sealed)" : ", outside any community"))
        let setup = community ? try CommunitySetup.make(centrePath: dir + "/centre.db", origins: Self.origins, seed: 42) : nil

        // 1. Local writes through the store API, each its own signed change and transaction
        // (a centre: in its own community, so its personal fields are sealed).
        let local = try setup?.centre ?? Store.create(path: dir + "/local.db", name: "中心", role: .centre, grid: nil, building: nil)
        let localCount = 2_000
        let (_, localSeconds) = try measure {
            for n in 0..<localCount {
                _ = try local.addRequest(NewRequest(
                    grid: "\(n % 8 + 1)", building: "\(n % 100 + 1)", resident: "居民\(n)", phone: "1380000\(n)",
                    category: "居家养老", title: "上门助餐服务需求第\(n)号"))
            }
        }
        let localPerSecond = Double(localCount) / localSeconds
        print("local writes (request add, one change each):   \(format(localPerSecond)) changes/s  (\(format(localPerSecond * 13)) field ops/s)")

        // 2. Build the bundle: each change creates one request with 10 fields.
        let (bundle, buildSeconds) = try measure { try buildBundle(dir: dir, setup: setup) }
        let size = (try FileManager.default.attributesOfItem(atPath: bundle.path)[.size] as? NSNumber)?.intValue ?? 0
        print("bundle: \(bundle.changes) changes, \(size) bytes (\(String(format: "%.1f", Double(size) / Double(ops))) bytes/op), built in \(String(format: "%.1f", buildSeconds)) s")

        // 3. Import into an empty store, then import the same bundle again.
        // Outside any community the bundle's changes come from made-up origins; inside, the
        // target is a grid office that joined and holds the roster.
        let target = try setup?.member(dir + "/target.db", name: "一网格", role: .grid)
            ?? Store.create(path: dir + "/target.db", name: "新电脑", role: .grid, grid: "1", building: nil)
        let cpuBefore = cpuSeconds()
        let (first, importSeconds) = try measure { try target.importBundle(at: bundle.path) }
        let cpuAfter = cpuSeconds()
        precondition(first.apply.ops == ops && first.apply.quarantined.isEmpty, "imported \(first.apply.ops) ops, expected \(ops); \(first.apply.quarantined.count) refused")
        let importRate = Double(ops) / importSeconds
        print("import into empty store:  \(format(importRate)) field ops/s  (\(String(format: "%.2f", importSeconds)) s wall, \(String(format: "%.2f", cpuAfter.user - cpuBefore.user)) s user, \(String(format: "%.2f", cpuAfter.system - cpuBefore.system)) s system)")
        let (second, reimportSeconds) = try measure { try target.importBundle(at: bundle.path) }
        precondition(second.apply.applied == 0 && second.apply.duplicates == bundle.changes)
        let reimportRate = Double(ops) / reimportSeconds
        print("re-import (all duplicates): \(format(reimportRate)) field ops/s  (\(String(format: "%.2f", reimportSeconds)) s)")

        // 4. Yardstick: raw libsqlite3 upsert of the same (record, field) rows, same order.
        let keys = bundle.recordIDs.flatMap { r in Self.fields.map { (r, $0) } }
        let rawRate = try RawSQLite.upsertRate(path: dir + "/raw.db", keys: keys) { n in "值\(n)的内容，大约四十字节的字段取值示例" }
        let sortedRate = try RawSQLite.upsertRate(path: dir + "/raw-sorted.db", keys: keys.sorted { $0 < $1 }) { n in "值\(n)的内容，大约四十字节的字段取值示例" }
        print("raw libsqlite3 upsert, same order:   \(format(rawRate)) rows/s")
        print("raw libsqlite3 upsert, sorted keys:  \(format(sortedRate)) rows/s")
        print("import / raw upsert (same order): \(String(format: "%.2f", importRate / rawRate))")
        print("peak RSS: \(String(format: "%.0f", peakRSSMiB())) MiB")

        let summary: [String: Any] = [
            "requests": requests, "ops": ops,
            "local_writes_per_s": Int(localPerSecond),
            "import_ops_per_s": Int(importRate), "import_s": (importSeconds * 1000).rounded() / 1000,
            "reimport_ops_per_s": Int(reimportRate),
            "raw_upsert_rows_per_s": Int(rawRate), "raw_upsert_sorted_rows_per_s": Int(sortedRate),
            "import_vs_raw": (importRate / rawRate * 100).rounded() / 100,
            "bundle_bytes_per_op": (Double(size) / Double(ops) * 10).rounded() / 10,
            "peak_rss_mib": Int(peakRSSMiB()),
            "community": community,
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    struct BuiltBundle {
        var path: String
        var changes: Int
        var recordIDs: [String]
    }

    /// Changes from several origins, interleaved as a centre would have received them, with
    /// values of everyday length (1–60 bytes of Chinese text and digits).
    func buildBundle(dir: String, setup: CommunitySetup?) throws -> BuiltBundle {
        let values: (Int, Int) -> FieldValue = { field, n in
            let values = [
                "\(n % 8 + 1)", "\(n % 100 + 1)", "\(n % 6 + 1)", "\(n % 30 + 101)", "居民\(n)",
                "1380\(String(format: "%07d", n))", "居家养老", "上门助餐服务需求第\(n)号",
                "老人行动不便，需要每天中午送餐上门，第\(n)户", "submitted",
            ]
            return .text(values[field])
        }
        let workload = setup.map { Workload(community: $0.origins, seed: 42, values: values) } ?? Workload(origins: Self.origins, seed: 42, values: values)
        let path = dir + "/full.gsb"
        let count = try ChangeBundle.write(to: path) { emit in
            var left = requests
            while left > 0 {
                let n = min(10_000, left)
                for change in workload.next(n) { try emit(change.encoded) }
                left -= n
            }
        }
        return BuiltBundle(path: path, changes: count, recordIDs: workload.recordIDs)
    }
}
