import Foundation
import GRDBSQLite
import GridSyncCore

/// `gridsync request import` of a register of N rows, the release binary in its own process
/// on a fresh centre (personal fields sealed), beside the raw-SQLite yardstick: the same rows
/// inserted into a plain table in one transaction.
struct CSVImportBenchmark {
    let requests: Int
    let baseDir: String

    func run() throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gridsync").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("build the CLI beside the bench first: swift build -c release --product gridsync")
        }
        print("gridsync-bench csv: `gridsync request import` of \(requests) rows (\(binary)), on a centre (sealed)")
        var rng = SplitMix64(seed: 99)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        let statuses = ["待受理", "已受理", "已办结"]
        var rows: [[String]] = []
        rows.reserveCapacity(requests)
        for i in 0..<requests {
            let b = Int(rng.next() % 40) + 1
            let status = pick(statuses)
            let day = String(format: "2026-11-%02d", i % 28 + 1)
            rows.append([
                String(format: "XQ-%06d", i), "\((b - 1) / 5 + 1)", "\(b)", "\(rng.next() % 6 + 1)", "\(rng.next() % 18 + 1)0\(rng.next() % 4 + 1)",
                String(pick(SearchBenchmark.surnames)) + pick(SearchBenchmark.given), "1\(pick(["38", "39", "86"]))\(String(format: "%08d", i * 7919 % 100_000_000))",
                Schema.defaultCategories[i % 6], pick(SearchBenchmark.titles), pick(SearchBenchmark.details), status, "\(day) 09:00",
                status == "待受理" ? "" : "\(day) 10:00", status == "已办结" ? "\(day) 16:00" : "", "已电话联系",
            ])
        }
        let header = ["编号", "网格", "楼栋", "单元", "房号", "居民", "电话", "类别", "标题", "详情", "状态", "创建时间", "受理时间", "办结时间", "备注"]
        let csv = "\u{FEFF}" + ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let file = dir + "/register.csv"
        try Data(csv.utf8).write(to: URL(fileURLWithPath: file))
        print("register: \(csv.utf8.count / 1024) KiB")

        let db = dir + "/centre.db"
        _ = try Self.gridsync(binary, ["init", "--name", "社区服务中心", "--role", "centre", "--db", db])
        let (first, seconds) = try measure { try Self.gridsync(binary, ["request", "import", file, "--db", db]) }
        let (again, reSeconds) = try measure { try Self.gridsync(binary, ["request", "import", file, "--db", db]) }
        let rate = Double(requests) / seconds
        print("import:    \(String(format: "%.2f", seconds)) s, \(format(rate)) rows/s — \(first.trimmingCharacters(in: .whitespacesAndNewlines))")
        print("re-import: \(String(format: "%.2f", reSeconds)) s, \(format(Double(requests) / reSeconds)) rows/s — \(again.trimmingCharacters(in: .whitespacesAndNewlines))")

        // Yardstick: the same rows into a plain table, one transaction, one prepared statement.
        var raw: OpaquePointer?
        guard sqlite3_open(dir + "/raw.db", &raw) == SQLITE_OK else { throw RawSQLite.RawError("open") }
        defer { sqlite3_close(raw) }
        try RawSQLite.exec(raw, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
        try RawSQLite.exec(raw, "CREATE TABLE r (" + (0..<header.count).map { "c\($0)" }.joined(separator: ", ") + ")")
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(raw, "INSERT INTO r VALUES (" + Array(repeating: "?", count: header.count).joined(separator: ", ") + ")", -1, &stmt, nil) == SQLITE_OK else {
            throw RawSQLite.RawError("prepare")
        }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let (_, rawSeconds) = try measure {
            try RawSQLite.exec(raw, "BEGIN")
            for row in rows {
                for (j, v) in row.enumerated() { sqlite3_bind_text(stmt, Int32(j + 1), v, -1, transient) }
                guard sqlite3_step(stmt) == SQLITE_DONE else { throw RawSQLite.RawError("insert") }
                sqlite3_reset(stmt)
            }
            try RawSQLite.exec(raw, "COMMIT")
        }
        let rawRate = Double(requests) / rawSeconds
        print("raw SQLite insert of the same rows: \(format(rawRate)) rows/s; import ÷ raw = \(String(format: "%.3f", rate / rawRate))")
        // The floor sealing sets: a row of this register seals seven values (unit, room,
        // resident, phone, title, detail, its note), each with an HMAC nonce, ChaCha20-Poly1305
        // and the box's commitment — the same ScopeKey.seal every local write uses.
        let key = ScopeKey(secret: Array(repeating: 7, count: 32), scope: ScopeID.of(grid: "1", building: "3"), epoch: 1)
        let values = rows.prefix(20_000).flatMap { [$0[3], $0[4], $0[5], $0[6], $0[8], $0[9], $0[14]] }
        let (_, sealSeconds) = try measure {
            for (n, v) in values.enumerated() { _ = try key.seal(.text(v), collection: "requests", record: rows[n / 7][0], field: "title") }
        }
        let sealRate = Double(values.count) / sealSeconds
        print("sealing alone: \(format(sealRate)) values/s — at 7 a row, at most \(format(sealRate / 7)) rows/s before anything else")
        let json: [String: Any] = [
            "benchmark": "csv", "rows": requests, "import_s": seconds, "import_rows_per_s": rate, "reimport_s": reSeconds, "raw_rows_per_s": rawRate,
            "seal_values_per_s": sealRate,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Runs the CLI; its standard output, or an error with its standard error.
    static func gridsync(_ binary: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError("gridsync \(args.first ?? "") failed: \(String(decoding: e, as: UTF8.self))") }
        return String(decoding: o, as: UTF8.self)
    }
}
