import Foundation
import Testing

@testable import GridSyncCLI

/// `request import` / `request export` through the real binary, and the CSV reader's edges.
@Suite struct ImportExportTests {
    static let bom = "\u{FEFF}"

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func badRowsImportNothingAndAreAllReported() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let before = try cli.ok(["digest"] + c)
        try Self.write(Self.bom + """
            网格,楼栋,居民,电话,类别,标题,紧急\r
            1,3,张三,13800000000,居家养老,帮忙买菜,否\r
            2,5,李四,12,物业,楼道灯坏了,否\r
            2,5,王五,13900000000,不存在,测试,否\r
            2,5,赵六,13900000001,物业,漏水,也许\r

            """, to: cli.path("in.csv"))
        let r = try cli.run(["request", "import", cli.path("in.csv")] + c)
        #expect(r.status == 4)
        #expect(r.err.contains("第 3 行") && r.err.contains("电话"))
        #expect(r.err.contains("第 4 行") && r.err.contains("类别"))
        #expect(r.err.contains("第 5 行") && r.err.contains("紧急"))
        #expect(!r.err.contains("第 2 行"))
        #expect(!r.err.contains("李四") && !r.err.contains("王五") && !r.err.contains("139"), "no personal data in errors")
        #expect(try cli.ok(["digest"] + c) == before, "nothing imported")
        let skipped = try cli.run(["request", "import", cli.path("in.csv"), "--skip-bad-rows"] + c)
        #expect(skipped.status == 0 && skipped.out.contains("新增 1 条") && skipped.out.contains("跳过 3 行错误"))
    }

    @Test func exportImportRoundTripsStatusTimesAndNotes() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")]
        let b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + a)
        try cli.ok(["init", "--name", "新中心", "--role", "centre"] + b)
        try Self.write("""
            grid,building,unit,room,resident,phone,category,title,detail,due,urgent
            1,3,2,1502,张三,13800000000,居家养老,"帮忙买菜, 每周两次","老人说：""谢谢""
            第二行",2026-12-31,yes
            2,8,,,李四,,物业,楼道灯坏了,,,

            """, to: cli.path("in.csv"))
        #expect(try cli.ok(["request", "import", cli.path("in.csv")] + a).contains("已导入：新增 2 条"))
        // Give the register a history: accepted, resolved, rated, with notes.
        let ids = try cli.ok(["request", "list", "--json"] + a)
        let first = try #require(ids.split(separator: "\"").first { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        for step in [["accept", String(first), "--note", "已联系家属"], ["resolve", String(first)], ["rate", String(first), "--satisfaction", "基本满意", "--comment", "还行"]] {
            try cli.ok(["request"] + step + a)
        }
        try cli.ok(["request", "note", String(first), "下周回访"] + a)
        try cli.ok(["request", "export", "--output", cli.path("a.csv")] + a)
        #expect(try cli.ok(["request", "import", cli.path("a.csv")] + b).contains("新增 2 条"))
        try cli.ok(["request", "export", "--output", cli.path("b.csv")] + b)
        // The whole register — numbers, status, times, rating, notes — comes out as it went in.
        let exported = try String(contentsOfFile: cli.path("a.csv"), encoding: .utf8)
        #expect(exported == (try String(contentsOfFile: cli.path("b.csv"), encoding: .utf8)))
        #expect(exported.contains("已评价") && exported.contains("基本满意") && exported.contains("还行") && exported.contains("已联系家属\n下周回访"))
        let raw = try Data(contentsOf: URL(fileURLWithPath: cli.path("a.csv")))
        #expect(Array(raw.prefix(3)) == [0xEF, 0xBB, 0xBF])
        // So does every figure of the report.
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM"
        let month = f.string(from: Date())  // the register was made just now
        // (Durations are kept to the second a sheet writes, so they are left out of the comparison.)
        func figures(_ db: [String]) throws -> NSDictionary {
            let json = try JSONSerialization.jsonObject(with: Data(try cli.ok(["report", "--month", month, "--json"] + db).utf8))
            let total = try #require((json as? [String: Any])?["total"] as? [String: Any])
            return total.filter { !$0.key.contains("_hours_") } as NSDictionary
        }
        let figuresA = try figures(a)
        #expect(figuresA["total"] as? Int == 2)
        #expect(figuresA == (try figures(b)))
        // Importing the same export again changes nothing, on either store.
        for db in [a, b] {
            let before = try cli.ok(["digest"] + db)
            #expect(try cli.ok(["request", "import", cli.path("a.csv")] + db).contains("新增 0 条、更新 0 条、不变 2 条"))
            #expect(try cli.ok(["digest"] + db) == before)
        }
    }

    @Test func aRegistersNumbersMakeReimportUpdateNotDuplicate() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let header = Self.bom + "编号,网格,楼栋,居民,电话,类别,标题,状态,创建时间,受理时间,办结时间,满意度,备注,来源\n"
        try Self.write(header + """
            XQ-001,1,3,王秀英,138 0000 1234,居家养老,楼道灯不亮,已受理,2026/11/3 9:05,2026-11-03 10:00,,,已电话联系,电话
            XQ-002,1,5,李建国,,物业,水管漏水,待受理,2026-11-20,,,,,

            """, to: cli.path("r.csv"))
        // An unknown column is named, and refused until it is skipped.
        let refused = try cli.run(["request", "import", cli.path("r.csv")] + c)
        #expect(refused.status == 64 && refused.err.contains("来源") && refused.err.contains("--skip-unknown-columns"))
        let empty = try cli.ok(["digest"] + c)
        // A dry run says what would happen and changes nothing.
        let dry = try cli.ok(["request", "import", cli.path("r.csv"), "--skip-unknown-columns", "--dry-run"] + c)
        #expect(dry.contains("试运行") && dry.contains("新增 2 条") && dry.contains("新增跟进记录 1 条"))
        #expect(try cli.ok(["digest"] + c) == empty)
        #expect(try cli.ok(["request", "import", cli.path("r.csv"), "--skip-unknown-columns"] + c).contains("新增 2 条"))
        #expect(try cli.ok(["request", "import", cli.path("r.csv"), "--skip-unknown-columns"] + c).contains("新增 0 条、更新 0 条、不变 2 条"))
        // The register moves on: the same rows update, nothing doubles.
        try Self.write(header + """
            XQ-001,1,3,王秀英,13800001234,居家养老,楼道灯不亮,已评价,2026/11/3 9:05,2026-11-03 10:00,2026-11-05 16:30,满意,"已电话联系
            已修好",电话
            XQ-002,1,5,李建国,,物业,水管漏水,待受理,2026-11-20,,,,,

            """, to: cli.path("r.csv"))
        let dry2 = try cli.ok(["request", "import", cli.path("r.csv"), "--skip-unknown-columns", "--dry-run"] + c)
        #expect(dry2.contains("更新 1 条") && dry2.contains("状态") && dry2.contains("办结时间") && dry2.contains("满意度"))
        #expect(!dry2.contains("：电话") && !dry2.contains("、电话"), "the phone is the same number, however written")
        #expect(try cli.ok(["request", "import", cli.path("r.csv"), "--skip-unknown-columns"] + c).contains("更新 1 条"))
        let list = try cli.ok(["request", "list", "--json"] + c)
        #expect(list.components(separatedBy: "\"id\"").count - 1 == 2)
        #expect(list.contains("\"status\" : \"rated\"") && list.contains("\"satisfaction\" : \"satisfied\""))
        let report = try cli.ok(["report", "--month", "2026-11"] + c)
        #expect(report.contains("已评价") && !report.contains("总数  0"))
        // Bad cells are named by line and column, without their values.
        try Self.write(header + "XQ-003,1,3,赵六,,居家养老,修灯,已办结,2026-13-01,,,,,\nXQ-004,1,3,钱七,,居家养老,修门,已评价,,,,,,\n", to: cli.path("bad.csv"))
        let bad = try cli.run(["request", "import", cli.path("bad.csv"), "--skip-unknown-columns"] + c)
        #expect(bad.status == 4 && bad.err.contains("第 2 行") && bad.err.contains("创建时间") && bad.err.contains("第 3 行") && bad.err.contains("满意度"))
        #expect(!bad.err.contains("赵六") && !bad.err.contains("钱七"))
    }

    @Test func listsPageTablesButGiveScriptsEverything() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try Self.write("网格,楼栋,居民,类别,标题\n" + (0..<60).map { "1,3,居民\($0),物业,事项\($0)\n" }.joined(), to: cli.path("60.csv"))
        try cli.ok(["request", "import", cli.path("60.csv")] + c)
        let table = try cli.ok(["request", "list"] + c)
        #expect(table.contains("第 1–50 条，共 60 条需求；下一页：--offset 50"))
        #expect(table.split(separator: "\n").count == 52)  // header, 50 rows, the footer
        func count(_ args: [String]) throws -> Int {
            try cli.ok(["request", "list", "--json"] + args + c).components(separatedBy: "\"id\"").count - 1
        }
        #expect(try count([]) == 60)
        #expect(try count(["--limit", "10", "--offset", "55"]) == 5)
        #expect(try cli.ok(["request", "list", "--offset", "50"] + c).contains("第 51–60 条，共 60 条需求"))
    }

    @Test func theSameFileWithoutNumbersIsNotImportedTwiceSilently() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try Self.write("网格,楼栋,居民,电话,类别,标题\n1,3,张三,138 0000 0000,物业,修灯\n1,3,李四,,物业,修门\n", to: cli.path("a.csv"))
        #expect(try cli.ok(["request", "import", cli.path("a.csv")] + c).contains("新增 2 条"))
        let once = try cli.ok(["digest"] + c)
        let again = try cli.run(["request", "import", cli.path("a.csv")] + c)
        #expect(again.status == 4 && again.err.contains("第 2 行") && again.err.contains("第 3 行") && again.err.contains("重复导入"))
        #expect(!again.err.contains("张三") && !again.err.contains("李四"))
        #expect(try cli.ok(["digest"] + c) == once)
        // The same number written another way is the same row; a new row still comes in.
        try Self.write("网格,楼栋,居民,电话,类别,标题\n1,3,张三,13800000000,物业,修灯\n1,3,王五,,物业,修窗\n", to: cli.path("b.csv"))
        #expect(try cli.ok(["request", "import", cli.path("b.csv"), "--skip-bad-rows"] + c).contains("新增 1 条"))
        #expect(try cli.ok(["request", "import", cli.path("a.csv"), "--allow-duplicates"] + c).contains("新增 2 条"))
        #expect(try cli.ok(["request", "list", "--json"] + c).components(separatedBy: "\"id\"").count - 1 == 5)
    }

    @Test func headerProblemsAreClear() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try Self.write("网格,楼栋,居民,类别,标题,来源\n1,3,张三,物业,灯,x\n", to: cli.path("h.csv"))
        let unknown = try cli.run(["request", "import", cli.path("h.csv")] + c)
        #expect(unknown.status == 64 && unknown.err.contains("来源"))
        #expect(try cli.ok(["request", "import", cli.path("h.csv"), "--skip-unknown-columns"] + c).contains("新增 1 条"))
        try Self.write("网格,楼栋,居民,类别\n1,3,张三,物业\n", to: cli.path("m.csv"))
        let missing = try cli.run(["request", "import", cli.path("m.csv")] + c)
        #expect(missing.status == 64 && missing.err.contains("标题"))
        let none = try cli.run(["request", "import", cli.path("nope.csv")] + c)
        #expect(none.status == 2)
    }

    @Test func readerHandlesQuotesLineEndsAndRefusesMalformedInput() throws {
        let ok = try CSVReader.parse(Array("a,\"b,c\",\"d\"\"e\"\r\n\"multi\nline\",,x\n\n".utf8))
        #expect(ok.map(\.fields) == [["a", "b,c", "d\"e"], ["multi\nline", "", "x"]])
        #expect(ok.map(\.line) == [1, 2])
        let lines = try CSVReader.parse(Array("h\n\"a\nb\"\nc".utf8))
        #expect(lines.map(\.line) == [1, 2, 4])
        for bad in ["a,\"b\n", "a,b\"c\n", "\"a\"b,c\n"] {
            #expect(throws: (any Error).self, "\(bad.debugDescription)") { try CSVReader.parse(Array(bad.utf8)) }
        }
        #expect(throws: (any Error).self) { try CSVReader.parse([0x61, 0xFF, 0x0A]) }  // not UTF-8
        let wide = Array((String(repeating: "x,", count: CSVReader.maxFields) + "x\n").utf8)
        #expect(throws: (any Error).self) { try CSVReader.parse(wide) }
        let long = Array((String(repeating: "x", count: CSVReader.maxFieldBytes + 1) + "\n").utf8)
        #expect(throws: (any Error).self) { try CSVReader.parse(long) }
    }
}
