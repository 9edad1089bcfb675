import Testing

@testable import GridSyncCLI

@Suite struct TextTableTests {
    @Test func displayWidthCountsCJKAsTwo() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("居家养老") == 8)
        #expect(DisplayWidth.of("三号楼A") == 7)
        #expect(DisplayWidth.of("ｶ") == 1)
        #expect(DisplayWidth.of("Ａ") == 2)
        #expect(DisplayWidth.of("e\u{301}") == 1)
    }

    @Test func columnsAlignByDisplayWidth() {
        var t = TextTable(["ID", "类别", "标题"])
        t.add(["1", "居家养老", "帮忙买菜"])
        t.add(["22", "其他", "x"])
        t.add(["333", "legal", "咨询"])
        let lines = t.render().split(separator: "\n").map(String.init)
        // The third column starts at the same display column on every line.
        let starts = lines.map { line -> Int in
            // Display column where the last run of non-space characters begins.
            var column = 0
            var start = 0
            var previous: Character = " "
            for ch in line {
                if ch != " " && previous == " " { start = column }
                column += DisplayWidth.of(String(ch))
                previous = ch
            }
            return start
        }
        #expect(Set(starts).count == 1, "\(lines)")
    }

    @Test func truncationRespectsWidth() {
        let cut = DisplayWidth.truncate("社区居家养老服务中心需求", to: 9)
        #expect(DisplayWidth.of(cut) <= 9)
        #expect(cut.hasSuffix("…"))
        #expect(DisplayWidth.truncate("short", to: 9) == "short")
    }

    @Test func aTableShrinksItsWidestColumnsToFit() {
        var t = TextTable(["ID", "居民", "标题"])
        t.add(["4f98a1b2", "欧阳娜娜", String(repeating: "帮忙买菜送到家门口", count: 4)])
        t.add(["0c1d2e3f", "张三", "短"])
        let lines = t.render(fitting: 40).split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 40 }, "\(lines)")
        #expect(lines[1].hasPrefix("4f98a1b2") && lines[1].hasSuffix("…"))
        #expect(lines[2].hasSuffix("短"))
        // Without a width nothing is cut.
        #expect(t.render().contains(String(repeating: "帮忙买菜送到家门口", count: 4)))
    }

    @Test func whatCannotShrinkEnoughIsLeftOutRightmostFirst() {
        var t = TextTable(["编号", "状态", "居民", "电话", "标题", "期限"])
        t.add(["4f98a1b2", "已受理", "欧阳娜娜", "13800001234", "帮忙买菜送到家门口", "2026-12-31"])
        // 30 columns hold the ID, the status and the kept due date only after leaving columns out.
        let lines = t.render(fitting: 30, keep: [1, 5]).split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 30 }, "\(lines)")
        #expect(lines[0].hasPrefix("编号") && lines[0].contains("状态") && lines[0].hasSuffix("期限"))
        #expect(!lines[0].contains("标题") && lines[1].hasSuffix("2026-12-31"))
        // Wide enough, nothing is left out.
        #expect(t.render(fitting: 200).split(separator: "\n")[0].contains("标题"))
    }

    @Test func listsFitEightyAndOneHundredTwentyColumnsWithoutWrapping() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        for i in 0..<3 {
            try cli.ok(["request", "add", "--grid", "1", "--building", "1\(i)号楼东单元", "--unit", "2", "--room", "150\(i)",
                        "--resident", "欧阳娜娜\(i)", "--phone", "138 0000 123\(i)", "--category", "居家养老",
                        "--title", String(repeating: "帮忙买菜送到家门口", count: 3), "--due", "2026-12-31", "--urgent"] + c)
        }
        for i in 0..<2 {
            let laptop = ["--db", cli.path("l\(i).db")]
            try cli.ok(["init", "--name", "一号楼", "--role", "building", "--grid", "1", "--building", "1"] + laptop)
            let id = String(try cli.ok(["id"] + laptop).split(separator: "\n")[0])
            try cli.ok(["roster", "add", id, "--name", "一号楼楼栋长工作电脑\(i)", "--role", "building", "--grid", "1", "--building", "1"] + c)
        }
        for columns in [80, 120] {
            for args in [["request", "list"], ["roster", "list"], ["service", "list"], ["report", "--by", "building"]] {
                let out = try cli.ok(args + c, env: ["COLUMNS": "\(columns)"])
                let widest = out.split(separator: "\n").map { DisplayWidth.of(String($0)) }.max() ?? 0
                #expect(widest <= columns, "\(args) at \(columns): \(widest)\n\(out)")
            }
            // The report splits into tables that fit rather than leave a column out.
            let report = try cli.ok(["report", "--by", "building"] + c, env: ["COLUMNS": "\(columns)"])
            for header in ["总数", "已撤回", "逾期", "满意率", "办结P90(h)"] { #expect(report.contains(header), "\(header) at \(columns)") }
            #expect(report.components(separatedBy: "10号楼东单元").count - 1 >= (columns == 80 ? 3 : 2), "each table names its rows")
            let list = try cli.ok(["request", "list"] + c, env: ["COLUMNS": "\(columns)"])
            #expect(list.contains("待受理") && list.contains("2026-12-31") && list.contains("紧急"), "status, due and urgency stay")
        }
        // --wide shows everything in full.
        let wide = try cli.ok(["request", "list", "--wide"] + c, env: ["COLUMNS": "80"])
        #expect(wide.contains(String(repeating: "帮忙买菜送到家门口", count: 3)) && wide.contains("138 0000 1230"))
    }
}
