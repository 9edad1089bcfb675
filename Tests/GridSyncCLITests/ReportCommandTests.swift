import Foundation
import Testing

@testable import GridSyncCLI

/// `gridsync report` through the real binary: the three formats, and bad options.
@Suite struct ReportCommandTests {
    @Test func tableCSVAndJSON() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let r1 = try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "李四", "--category", "物业", "--title", "楼道灯坏了"] + c)
        let r2 = try cli.ok(["request", "add", "--grid", "2", "--building", "8", "--resident", "王五", "--category", "法律咨询", "--title", "咨询遗产"] + c)
        try cli.ok(["request", "accept", r1] + c)
        try cli.ok(["request", "resolve", r1] + c)
        try cli.ok(["request", "rate", r1, "--satisfaction", "满意"] + c)
        try cli.ok(["request", "withdraw", r2] + c)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(["report", "--format", "json"] + c).utf8)) as? [String: Any])
        let total = try #require(json["total"] as? [String: Any])
        #expect(total["total"] as? Int == 2)
        #expect((total["resolution_rate"] as? [String: Int]) == ["numerator": 1, "denominator": 1])
        #expect((total["satisfaction_rate"] as? [String: Int]) == ["numerator": 1, "denominator": 1])
        #expect(total["by_status"] as? [String: Int] == ["rated": 1, "withdrawn": 1] && json["response_hours"] as? Int == 24)
        // --json, as on every read command, is the same document.
        #expect(try cli.ok(["report", "--json"] + c) == (try cli.ok(["report", "--format", "json"] + c)))

        let table = try cli.ok(["report", "--by", "category"] + c)
        #expect(table.contains("响应率") && table.contains("满意率") && table.contains("100.0%"))
        // Rows line up by display width: in the counts table, the 总数 column starts at the same
        // display column on the header line and on every row, whatever the width of the category.
        let lines = table.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("类别") })
        #expect(lines[header + 1].hasPrefix("法律咨询") && lines[header + 2].hasPrefix("物业") && lines[header + 3].hasPrefix("全部"))
        func column(_ line: String, before index: String.Index) -> Int { DisplayWidth.of(String(line[..<index])) }
        let totalAt = try #require(lines[header].range(of: "总数"))
        let totalColumn = column(lines[header], before: totalAt.lowerBound)
        for row in lines[(header + 1)...(header + 3)] {
            let digit = row.firstIndex { $0.isNumber }
            let firstDigit = try #require(digit)
            #expect(column(row, before: firstDigit) == totalColumn, "misaligned: \(row)")
        }

        let csv = try cli.run(["report", "--by", "grid", "--format", "csv"] + c)
        #expect(csv.status == 0)
        #expect(Array(csv.out.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF], "CSV must start with a UTF-8 BOM for Excel and WPS")
        let rows = csv.out.dropFirst().components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 4)  // header, grid 1, grid 2, total
        #expect(rows[0].hasPrefix("网格,总数,待受理"))
        #expect(rows[3].hasPrefix("全部,2,"))
    }

    @Test func badOptionsExitNonZeroWithAHint() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let bad = try cli.run(["report", "--from", "2026-02-30"] + c)
        #expect(bad.status != 0 && bad.err.contains("YYYY-MM-DD"))
        let reversed = try cli.run(["report", "--from", "2026-12-01", "--to", "2026-11-01"] + c)
        #expect(reversed.status != 0 && reversed.err.contains("--from"))
        let by = try cli.run(["report", "--by", "street"] + c)
        #expect(by.status == 64)
    }

    @Test func monthAndBuildingsInNumericOrder() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        for b in ["10", "2", "1", "11"] {
            try cli.ok(["request", "add", "--grid", "1", "--building", b, "--resident", "居民", "--category", "物业", "--title", "x"] + c)
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["report", "--by", "building", "--json"] + c).utf8)) as? [String: Any])
        let groups = (json["rows"] as? [[String: Any]])?.compactMap { $0["group"] as? String }
        #expect(groups == ["1/1", "1/2", "1/10", "1/11"])
        // A month: this one holds the four requests, one long ago holds none.
        let now = Date()
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = .current
        let thisMonth = String(format: "%04d-%02d", cal.component(.year, from: now), cal.component(.month, from: now))
        let this = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["report", "--month", thisMonth, "--json"] + c).utf8)) as? [String: Any])
        #expect((this["total"] as? [String: Any])?["total"] as? Int == 4)
        #expect((this["from"] as? String)?.hasSuffix("-01") == true)
        let old = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["report", "--month", "2001-02", "--json"] + c).utf8)) as? [String: Any])
        #expect((old["total"] as? [String: Any])?["total"] as? Int == 0 && old["to"] as? String == "2001-02-28")
        #expect((old["previous"] as? [String: Any])?["from"] as? String == "2001-01-01")
        // The month after this one sets this one's figures beside its own.
        let next = cal.date(byAdding: .month, value: 1, to: now) ?? now
        let nextMonth = String(format: "%04d-%02d", cal.component(.year, from: next), cal.component(.month, from: next))
        let table = try cli.ok(["report", "--month", nextMonth] + c)
        #expect(table.contains("与上期比较") && table.contains("\(thisMonth)-01"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("总数") && $0.contains(" 0 ") && $0.contains(" 4 ") && $0.hasSuffix("-4") })
        for bad in [["--month", "2026-13"], ["--month", "11/2026"], ["--month", "2026-11", "--from", "2026-11-01"], ["--json", "--format", "csv"]] {
            #expect(try cli.run(["report"] + bad + c).status == 64, "\(bad)")
        }
    }

    @Test func byServiceCountsTheResidentsEachServiceServed() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let meals = try cli.ok(["service", "add", "--name", "助老送餐", "--provider", "社区食堂", "--kind", "unit"] + c)
        let repair = try cli.ok(["service", "add", "--name", "上门维修", "--provider", "物业公司"] + c)
        func add(_ title: String) throws -> String {
            try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "居民", "--category", "居家养老", "--title", title] + c)
        }
        for (i, service) in [meals, meals, meals, repair].enumerated() {
            let id = try add("派单\(i)")
            try cli.ok(["request", "accept", id] + c)
            try cli.ok(["request", "assign", id, "--service", service] + c)
            if i < 2 { try cli.ok(["request", "resolve", id] + c) }
            if i == 0 { try cli.ok(["request", "rate", id, "--satisfaction", "满意"] + c) }
        }
        let byPerson = try add("个人")
        try cli.ok(["request", "accept", byPerson] + c)
        try cli.ok(["request", "assign", byPerson, "--person", "李师傅"] + c)
        _ = try add("未派单")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["report", "--by", "service", "--json"] + c).utf8)) as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        func row(_ group: String) -> [String: Any]? { rows.first { $0["group"] as? String == group } }
        #expect(Set(rows.compactMap { $0["group"] as? String }) == ["助老送餐（社区食堂）", "上门维修（物业公司）", "未派单到服务"])
        #expect(row("助老送餐（社区食堂）")?["total"] as? Int == 3)
        #expect((row("助老送餐（社区食堂）")?["resolution_rate"] as? [String: Int])?["numerator"] == 2)   // 服务人次
        #expect((row("上门维修（物业公司）")?["resolution_rate"] as? [String: Int])?["numerator"] == 0)
        #expect(row("未派单到服务")?["total"] as? Int == 2)
        let table = try cli.ok(["report", "--by", "service"] + c)
        #expect(table.contains("服务人次") && table.contains("助老送餐（社区食堂）"))
    }
}
