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
}
