import Foundation
import GRDB
import GRDBSQLite
import GridSyncCore
import GridSyncStore

/// `request list` and its searches on a centre's store of N requests (sealed, as a centre's
/// own register is), beside the same queries on a plain libsqlite3 table of the same rows in
/// clear (the yardstick: what SQLite alone costs with nothing sealed).
struct SearchBenchmark {
    let requests: Int
    let baseDir: String

    final class Clock: @unchecked Sendable { var ms: UInt64 = 1_767_225_600_000 }  // 2026-01-01T00:00Z

    static let surnames = Array("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
    static let given = ["秀英", "建国", "桂兰", "志强", "玉梅", "淑珍", "国华", "丽娟", "海燕", "德明", "春花", "永红", "文杰", "雪梅", "立新", "保国"]
    static let titles = ["楼道灯不亮", "水管漏水", "上门理发", "代买药品", "噪音扰民", "垃圾清运", "电梯故障", "门禁损坏", "取暖不热", "助餐送餐",
                         "开具居住证明", "邻里纠纷调解", "独居老人探访", "下水道堵塞", "外墙渗水", "路灯损坏", "宠物扰民", "停车纠纷", "就业咨询", "法律咨询"]
    static let details = ["老人行动不便", "请尽快处理", "周末在家", "下午三点后", "家中无人", "已联系子女", "需要陪同", "多次反映", "情况紧急", "物业未回复"]

    struct Row { var grid, building, unit, room, resident, phone, title, detail: String; var due: String? }

    func rows() -> [Row] {
        var rng = SplitMix64(seed: 20261201)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        return (0..<requests).map { i in
            let b = Int(rng.next() % 40) + 1
            return Row(
                grid: "\((b - 1) / 5 + 1)", building: "\(b)", unit: "\(rng.next() % 6 + 1)", room: "\(rng.next() % 18 + 1)0\(rng.next() % 4 + 1)",
                resident: String(pick(Self.surnames)) + pick(Self.given), phone: "1\(pick(["38", "39", "86", "35", "52"]))\(String(format: "%08d", i * 7919 % 100_000_000))",
                title: pick(Self.titles), detail: pick(Self.details) + "，" + pick(Self.details),
                due: i % 3 == 0 ? String(format: "2026-%02d-%02d", Int(rng.next() % 12) + 1, Int(rng.next() % 28) + 1) : nil)
        }
    }

    func run() throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("gridsync-bench search: \(requests) requests on a centre (personal fields sealed), created over \(requests / 1000) days")
        let data = rows()
        let clock = Clock()
        let centre = try Store.create(path: dir + "/centre.db", name: "社区服务中心", role: .centre, grid: nil, building: nil, wallClock: { clock.ms })
        let (_, importSeconds) = try measure {
            var start = 0
            while start < data.count {
                let n = min(1_000, data.count - start)
                let batch = (start..<start + n).map { i in
                    let r = data[i]
                    return (row: i + 2, request: NewRequest(
                        grid: r.grid, building: r.building, unit: r.unit, room: r.room, resident: r.resident, phone: r.phone,
                        category: Schema.defaultCategories[i % 6], title: r.title, detail: r.detail, due: r.due))
                }
                let (_, problems) = try centre.importRequests(batch, skipBad: false, name: { $0 })
                guard problems.isEmpty else { throw BenchError("import refused \(problems.count) rows") }
                start += n
                clock.ms += 86_400_000  // a thousand a day
            }
        }
        print("register imported in \(String(format: "%.1f", importSeconds)) s")

        // The rebuild goes in steps (one write transaction each); the longest is what a sync
        // would wait for.
        var longestStep = 0.0, lastStep = Date()
        let (built, buildSeconds) = try measure {
            try centre.refreshSearchIndex(progress: { _, _ in
                longestStep = max(longestStep, Date().timeIntervalSince(lastStep))
                lastStep = Date()
            })
        }
        let indexBytes = try DatabaseQueue(path: dir + "/centre.db").read { db in
            try Int.fetchOne(db, sql: "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'request_search%'") ?? 0
        }
        print("search index: \(built) requests in \(String(format: "%.2f", buildSeconds)) s (\(format(Double(built) / buildSeconds)) requests/s), \(String(format: "%.1f", Double(indexBytes) / 1_048_576)) MiB (\(indexBytes / max(1, built)) bytes/request); longest write transaction \(String(format: "%.0f", longestStep * 1000)) ms")

        // One new request after the index was built: the next search catches up first.
        clock.ms += 60_000
        _ = try centre.addRequest(NewRequest(grid: "1", building: "1", resident: "新居民", phone: "13700000001", category: "居家养老", title: "新的需求"))
        let (_, catchUp) = try measure { try centre.refreshSearchIndex() }
        print("index catch-up after one new request: \(String(format: "%.1f", catchUp * 1000)) ms")

        let target = data[requests / 2]
        let queries: [(String, (inout RequestFilter) -> Void)] = [
            ("list, first page of 50", { _ in }),
            ("list --status submitted --building 7", { $0.status = .submitted; $0.building = "7" }),
            ("list --from … --to … (one week)", { $0.createdFrom = "2026-02-01"; $0.createdTo = "2026-02-07" }),
            ("list --due-from … --due-to … --sort due", { $0.dueFrom = "2026-06-01"; $0.dueTo = "2026-06-30"; $0.sort = .due }),
            ("--phone (whole number, as typed with spaces)", { $0.phone = String(target.phone.prefix(3)) + " " + String(target.phone.dropFirst(3).prefix(4)) + " " + String(target.phone.suffix(4)) }),
            ("--phone (last 4 digits)", { $0.phone = String(target.phone.suffix(4)) }),
            ("--resident (full name)", { $0.resident = target.resident }),
            ("--resident (surname only, 1 in 20)", { $0.resident = String(target.resident.prefix(1)) }),
            ("--text (a title word, 1 in 20)", { $0.text = "漏水" }),
            ("--text (a phrase, punctuation ignored)", { $0.text = "老人行动不便请尽快" }),
            ("--text + --building", { $0.text = "理发"; $0.building = "3" }),
        ]
        var figures: [String: Double] = [:]
        print(String(format: "%-48@ %10@ %10@ %8@", "query" as NSString, "median ms" as NSString, "max ms" as NSString, "matches" as NSString))
        for (name, edit) in queries {
            var f = RequestFilter()
            f.limit = 50
            edit(&f)
            var times: [Double] = []
            var total = 0
            for _ in 0..<11 {
                let (page, s) = try measure { try centre.requestPage(f) }
                total = page.total
                times.append(s * 1000)
            }
            times.removeFirst()  // warm-up
            times.sort()
            let median = times[times.count / 2]
            figures[name] = median
            print(String(format: "%-48@ %10.1f %10.1f %8d", name as NSString, median, times.last ?? 0, total))
        }

        // Yardstick: the same rows in clear in a plain table; the same questions by SQL alone.
        let raw = try RawSearch(path: dir + "/raw.db", rows: data)
        let phone = target.phone
        let rawQueries: [(String, String, [String])] = [
            ("raw: first page of 50", "SELECT * FROM r ORDER BY created DESC LIMIT 50", []),
            ("raw: phone = ? (indexed)", "SELECT * FROM r WHERE phone = ? LIMIT 50", [phone]),
            ("raw: phone LIKE '%1234' (scan)", "SELECT * FROM r WHERE phone LIKE ? LIMIT 50", ["%" + phone.suffix(4)]),
            ("raw: resident LIKE '王%' (scan)", "SELECT * FROM r WHERE resident LIKE ? ORDER BY created DESC LIMIT 50", [String(target.resident.prefix(1)) + "%"]),
            ("raw: text LIKE '%漏水%' (scan)", "SELECT * FROM r WHERE title LIKE ? OR detail LIKE ? ORDER BY created DESC LIMIT 50", ["%漏水%", "%漏水%"]),
            ("raw: count(*) of text LIKE '%漏水%'", "SELECT count(*) FROM r WHERE title LIKE ? OR detail LIKE ?", ["%漏水%", "%漏水%"]),
        ]
        for (name, sql, args) in rawQueries {
            var times: [Double] = []
            for _ in 0..<11 { times.append(try raw.time(sql, args) * 1000) }
            times.removeFirst()
            times.sort()
            figures[name] = times[times.count / 2]
            print(String(format: "%-48@ %10.1f %10.1f", name as NSString, times[times.count / 2], times.last ?? 0))
        }

        // What a passphrase costs: unlocking the key (scrypt) on every command.
        let locked = dir + "/locked.db"
        _ = try Store.create(path: locked, name: "一号楼", role: .building, grid: "1", building: "1", passphrase: "a long passphrase")
        let (_, unlock) = try measure { _ = try Store.open(path: locked, passphrase: { "a long passphrase" }) }
        let (_, plainOpen) = try measure { _ = try Store.open(path: dir + "/centre.db") }
        print("opening a store: \(String(format: "%.0f", plainOpen * 1000)) ms; with a passphrase (scrypt N=2^15 r=8 p=1): \(String(format: "%.0f", unlock * 1000)) ms")

        var json: [String: Any] = ["benchmark": "search", "requests": requests, "index_build_s": buildSeconds, "index_bytes": indexBytes,
                                   "catch_up_ms": catchUp * 1000, "open_ms": plainOpen * 1000, "open_with_passphrase_ms": unlock * 1000]
        json["median_ms"] = figures
        let line = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: line, as: UTF8.self))
    }
}

/// The yardstick's table: the same rows in clear, an index on phone, none on text.
final class RawSearch {
    private var db: OpaquePointer?

    init(path: String, rows: [SearchBenchmark.Row]) throws {
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw RawSQLite.RawError("open") }
        try RawSQLite.exec(db, "PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536")
        try RawSQLite.exec(db, "CREATE TABLE r (id INTEGER PRIMARY KEY, grid, building, unit, room, resident, phone, title, detail, due, created INTEGER)")
        try RawSQLite.exec(db, "CREATE INDEX r_phone ON r(phone); CREATE INDEX r_created ON r(created)")
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &stmt, nil) == SQLITE_OK else { throw RawSQLite.RawError("prepare") }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        try RawSQLite.exec(db, "BEGIN")
        for (i, r) in rows.enumerated() {
            sqlite3_bind_int64(stmt, 1, Int64(i))
            for (j, v) in [r.grid, r.building, r.unit, r.room, r.resident, r.phone, r.title, r.detail].enumerated() {
                sqlite3_bind_text(stmt, Int32(j + 2), v, -1, transient)
            }
            if let due = r.due { sqlite3_bind_text(stmt, 10, due, -1, transient) } else { sqlite3_bind_null(stmt, 10) }
            sqlite3_bind_int64(stmt, 11, Int64(i))
            guard sqlite3_step(stmt) == SQLITE_DONE else { throw RawSQLite.RawError("insert") }
            sqlite3_reset(stmt)
        }
        try RawSQLite.exec(db, "COMMIT")
    }

    deinit { sqlite3_close(db) }

    /// Seconds to run `sql` and step through every row.
    func time(_ sql: String, _ args: [String]) throws -> Double {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw RawSQLite.RawError("prepare \(sql)") }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, a) in args.enumerated() { sqlite3_bind_text(stmt, Int32(i + 1), a, -1, transient) }
        let (_, s) = measure {
            while sqlite3_step(stmt) == SQLITE_ROW { _ = sqlite3_column_count(stmt) }
        }
        return s
    }
}
