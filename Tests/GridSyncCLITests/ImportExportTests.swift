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
        #expect(r.err.contains("line 3:") && r.err.contains("电话"))
        #expect(r.err.contains("line 4:") && r.err.contains("类别"))
        #expect(r.err.contains("line 5:") && r.err.contains("紧急"))
        #expect(!r.err.contains("line 2:"))
        #expect(!r.err.contains("李四") && !r.err.contains("王五") && !r.err.contains("139"), "no personal data in errors")
        #expect(try cli.ok(["digest"] + c) == before, "nothing imported")
        let skipped = try cli.run(["request", "import", cli.path("in.csv"), "--skip-bad-rows"] + c)
        #expect(skipped.status == 0 && skipped.out.contains("imported 1"))
    }

    @Test func exportImportRoundTrips() throws {
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
        #expect(try cli.ok(["request", "import", cli.path("in.csv")] + a).contains("imported 2"))
        try cli.ok(["request", "export", "--output", cli.path("a.csv")] + a)
        try cli.ok(["request", "import", cli.path("a.csv")] + b)
        try cli.ok(["request", "export", "--output", cli.path("b.csv")] + b)
        // The columns import reads (网格 … 紧急) are identical; 编号 and times are each store's own.
        func importable(_ path: String) throws -> [[String]] {
            let records = try CSVReader.read(path: path)
            #expect(records.first?.fields.first == "编号")
            return records.map { Array($0.fields[2...12]) }
        }
        // Rows imported together share a creation time, and export orders those by ID: compare as sets.
        let first = try importable(cli.path("a.csv"))
        #expect(first.count == 3)
        #expect(Set(first) == Set(try importable(cli.path("b.csv"))))
        #expect(first.contains(["1", "3", "2", "1502", "张三", "13800000000", "居家养老", "帮忙买菜, 每周两次", "老人说：\"谢谢\"\n第二行", "2026-12-31", "是"]))
        let raw = try Data(contentsOf: URL(fileURLWithPath: cli.path("a.csv")))
        #expect(Array(raw.prefix(3)) == [0xEF, 0xBB, 0xBF])
    }

    @Test func headerProblemsAreClear() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try Self.write("网格,楼栋,居民,类别,标题,备注\n1,3,张三,物业,灯,x\n", to: cli.path("h.csv"))
        let unknown = try cli.run(["request", "import", cli.path("h.csv")] + c)
        #expect(unknown.status == 64 && unknown.err.contains("备注"))
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
