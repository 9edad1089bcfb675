import Foundation
import Testing

@testable import GridSyncCLI

/// Irreversible steps ask first, a mistaken delete can be undone, and IDs can be typed short.
@Suite struct SafetyTests {
    static func json(_ s: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(s.utf8)) }

    /// Runs `gridsync ARGS` on a pseudo-terminal (util-linux `script`), answering `answer`.
    static func onTerminal(_ cli: CLI, _ args: [String], answer: String) throws -> (status: Int32, output: String) {
        let command = ([CLI.binary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let r = try Tool.run("/usr/bin/script", ["-qec", command, "/dev/null"], input: Data((answer + "\n").utf8), holdInput: 0.5)
        return r
    }

    @Test func deleteAsksRefusesWithoutATerminalAndCanBeUndone() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let id = try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "张阿姨", "--category", "物业", "--title", "门禁"] + c)
        let digest = try cli.ok(["digest"] + c)
        // No terminal and no --yes: refused, nothing changed.
        let refused = try cli.run(["request", "delete", id] + c)
        #expect(refused.status == 64 && refused.err.contains("--yes"))
        #expect(try cli.ok(["digest"] + c) == digest)
        // On a terminal: "n" keeps it, "y" deletes it.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
            let no = try Self.onTerminal(cli, ["request", "delete", id] + c, answer: "n")
            #expect(no.status != 0 && no.output.contains("删除需求") && no.output.contains("已取消"), "\(no.output)")
            #expect(try cli.ok(["digest"] + c) == digest)
            let yes = try Self.onTerminal(cli, ["request", "delete", id] + c, answer: "y")
            #expect(yes.status == 0 && yes.output.contains("request restore"), "\(yes.output)")
        } else {
            try cli.ok(["request", "delete", id, "--yes"] + c)
        }
        let gone = try cli.run(["request", "show", id] + c)
        #expect(gone.status == 2 && gone.err.contains("gridsync request restore"))
        // Restored: the request is back, as it was.
        try cli.ok(["request", "restore", String(id.prefix(6))] + c)
        #expect(try cli.ok(["request", "show", id] + c).contains("门禁"))
        #expect(try cli.run(["request", "restore", id] + c).status == 64)
        // Reject asks too.
        #expect(try cli.run(["request", "reject", id, "--note", "不属于社区职责"] + c).status == 64)
        try cli.ok(["request", "reject", id, "--note", "不属于社区职责", "--yes"] + c)
    }

    @Test func anAmbiguousPrefixListsTheCandidates() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        // Seventeen IDs of hex digits: two must share their first digit.
        var ids: [String] = []
        for i in 0..<17 { ids.append(try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "居民", "--category", "物业", "--title", "第\(i)"] + c)) }
        let first = try #require(Dictionary(grouping: ids) { $0.prefix(1) }.first { $0.value.count > 1 })
        let r = try cli.run(["request", "show", String(first.key)] + c)
        #expect(r.status == 2)
        for id in first.value.prefix(5) { #expect(r.err.contains(String(id.prefix(5))), "\(r.err)") }
    }

    @Test func revokeTakesTheShortNodeIDAndAsks() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")], b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.enrol(b, in: c)
        let bID = try #require((try Self.json(cli.ok(["id", "--json"] + b)) as? [String: Any])?["node_id"] as? String)
        let short = String(bID.prefix(7))
        #expect(try cli.run(["roster", "revoke", short] + c).status == 64)   // asks; no terminal
        #expect(try cli.run(["roster", "revoke", "ZZZZZZZ", "--yes"] + c).status == 2)
        for typo in ["张阿姨", "13800001234"] {
            let r = try cli.run(["roster", "revoke", typo, "--yes"] + c)
            #expect(r.status == 64 && !r.err.contains(typo), "\(r.err)")
        }
        try cli.ok(["roster", "revoke", short.lowercased(), "--yes"] + c)
        #expect(try cli.ok(["roster", "list"] + c).contains("已吊销"))
        #expect(try cli.ok(["--version"]).hasPrefix("gridsync "))
    }

    @Test func aBadStatusShowsTheListCommandsUsageAndCompletionsOfferValues() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let r = try cli.run(["request", "list", "--status", "bogus", "--db", cli.path("none.db")])
        #expect(r.status == 64 && r.err.contains("--status 应为以下之一") && r.err.contains("gridsync request list"), "\(r.err)")
        let bash = try cli.ok(["--generate-completion-script", "bash"])
        #expect(bash.contains("in_progress") && bash.contains("居家养老"))
    }

    @Test func requestListFitsEightyAndOneHundredTwentyColumnsAndWideShowsAll() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let title = "老人独居需要每周两次送餐上门并测量血压，家属在外地无法照顾"
        for i in 0..<6 {
            try cli.ok([
                "request", "add", "--grid", "1", "--building", "1\(i)", "--unit", "2", "--room", "30\(i)", "--resident", "欧阳娜娜\(i)",
                "--category", "矛盾纠纷调解", "--title", title, "--due", "2026-12-31", "--urgent",
            ] + c)
        }
        var titleShown: [Int: Int] = [:]
        for width in [80, 120] {
            let out = try cli.run(["request", "list"] + c, env: ["COLUMNS": String(width)]).out
            let lines = out.split(separator: "\n").map(String.init)
            #expect(lines.allSatisfy { DisplayWidth.of($0) <= width }, "at \(width):\n\(out)")
            #expect(lines[0].contains("居民") && lines[0].contains("房号") && lines[1].contains("2-30"))
            #expect(lines[1].contains("2026-12-31") && lines[1].contains("待受理"), "at \(width): \(lines[1])")
            titleShown[width] = lines[1].components(separatedBy: "…").first.map { DisplayWidth.of($0) } ?? 0
        }
        #expect((titleShown[120] ?? 0) > (titleShown[80] ?? 0))
        let wide = try cli.run(["request", "list", "--wide"] + c, env: ["COLUMNS": "80"]).out
        #expect(wide.contains(title) && wide.contains("欧阳娜娜5"))
    }
}
