import Foundation
import GridSyncCLI
import GridSyncCore
import Testing

/// The message catalogue: Chinese by default, English complete, chosen by the environment.
@Suite struct CatalogueTests {
    static func hasCJK(_ s: some StringProtocol) -> Bool {
        s.unicodeScalars.contains { (0x3000...0x9FFF).contains($0.value) || (0xFF00...0xFFEF).contains($0.value) }
    }

    @Test func theEnvironmentChoosesTheLanguage() {
        #expect(Language.from(environment: [:]) == .zh)
        #expect(Language.from(environment: ["LANG": "C.UTF-8"]) == .zh)
        #expect(Language.from(environment: ["LANG": "en_US.UTF-8"]) == .en)
        #expect(Language.from(environment: ["LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"]) == .zh)
        #expect(Language.from(environment: ["LC_ALL": "", "LC_MESSAGES": "en_GB", "LANG": "zh_CN"]) == .en)
        #expect(Language.from(environment: ["GRIDSYNC_LANG": "en", "LC_ALL": "zh_CN.UTF-8"]) == .en)
        #expect(Language.from(environment: ["GRIDSYNC_LANG": "zh", "LANG": "en_US.UTF-8"]) == .zh)
    }

    /// The sources of everything a person reads (the bench and tests are not).
    static func sources() throws -> [(path: String, text: String)] {
        let root = DeployFilesTests.root.appendingPathComponent("Sources")
        var out: [(String, String)] = []
        for module in ["GridSyncCore", "GridSyncWire", "GridSyncStore", "GridSyncNode", "GridSyncDistrict", "GridSyncDashboard", "GridSyncCLI"] {
            let dir = root.appendingPathComponent(module)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".swift") {
                out.append(("\(module)/\(name)", try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)))
            }
        }
        return out
    }

    /// Every catalogue entry in the sources (`Localized("…", en: "…")`, `L("…", en: "…")`, and
    /// any call taking the Chinese first and `en:` after): the Chinese has Chinese in it (or is
    /// the same word in both, like "ID"), the English has none.
    @Test func everyMessageIsInBothLanguages() throws {
        var count = 0
        for (path, text) in try Self.sources() {
            for e in CatalogueScanner(text).entries {
                count += 1
                #expect(Self.hasCJK(e.zh) || e.zh == e.en, "\(path):\(e.line): the Chinese of \"\(e.en)\" is not Chinese: \"\(e.zh)\"")
                #expect(!e.en.isEmpty && !Self.hasCJK(e.en), "\(path):\(e.line): the English has Chinese in it: \"\(e.en)\"")
            }
        }
        // The whole CLI goes through the catalogue: hundreds of entries, not a handful.
        #expect(count > 500, "\(count) entries")
    }

    /// No text a person reads bypasses the catalogue: a Chinese literal is the Chinese of an
    /// entry, or data (labels with English beside them, the words a register or a person types,
    /// the demo's sample residents), marked `// catalogue: data`; and in the CLI no help text,
    /// confirmation, validation error or printed line is a bare literal in one language.
    @Test func noUserFacingStringBypassesTheCatalogue() throws {
        var stray: [String] = []
        for (path, text) in try Self.sources() {
            let scan = CatalogueScanner(text)
            for l in scan.literals where Self.hasCJK(l.text) && !l.isChineseOfEntry && !scan.dataLines.contains(l.line) {
                stray.append("\(path):\(l.line): \"\(l.text.prefix(50))\"")
            }
            guard path.hasPrefix("GridSyncCLI/") else { continue }
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.components(separatedBy: "//")[0]
                for bare in ["help: \"", "abstract: \"", "discussion: \"", "ValidationError(\"", "confirm(\"", "prompt(\"", "Output.warn(\""]
                where code.contains(bare) {
                    stray.append("\(path):\(n + 1): \(bare)…")
                }
            }
            // What is printed, asked or refused holds no words outside the catalogue (values,
            // punctuation and indents only).
            let speaking: Set<String> = ["line", "warn", "confirm", "prompt", "ValidationError", "print", "GridSyncError"]
            for l in scan.literals where !l.isInEntry && !scan.dataLines.contains(l.line) && l.callees.contains(where: speaking.contains) {
                let words = l.text.replacingOccurrences(of: "\\(…)", with: " ").split(whereSeparator: { !$0.isLetter })
                if words.contains(where: { $0.count >= 2 }) { stray.append("\(path):\(l.line): \"\(l.text.prefix(50))\"") }
            }
        }
        #expect(stray.isEmpty, "not through the catalogue:\n\(stray.joined(separator: "\n"))")
    }

    /// Help, usage errors, store errors, tables, the status and the report: all Chinese by
    /// default, all English with GRIDSYNC_LANG=en (what the store holds — names, categories —
    /// is data and stays as written; these commands show none of it).
    @Test func helpErrorsTablesAndReportsSpeakOneLanguage() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "centre", "--role", "centre"] + c)
        let en = ["GRIDSYNC_LANG": "en", "COLUMNS": "100"], zh = ["GRIDSYNC_LANG": "zh", "COLUMNS": "100"]
        let runs: [[String]] = [
            ["--help"], ["request", "list", "--help"], ["request", "import", "--help"], ["roster", "revoke", "--help"],
            ["request", "add"] + c,  // a usage error (no --resident)
            ["request", "list", "--status", "done"] + c,  // a validation error
            ["request", "show", "abc"] + c,  // a store error
            ["roster", "list"] + c, ["status"] + c, ["report"] + c, ["conflicts", "list"] + c, ["quarantine", "list"] + c,
        ]
        for args in runs {
            let english = try cli.run(args, env: en), chinese = try cli.run(args, env: zh)
            #expect(english.status == chinese.status, "\(args)")
            let e = english.out + english.err, z = chinese.out + chinese.err
            #expect(!e.isEmpty && !Self.hasCJK(e), "\(args) in English:\n\(e)")
            #expect(Self.hasCJK(z), "\(args) in Chinese:\n\(z)")
            for word in ["OVERVIEW", "USAGE", "OPTIONS", "Error:", "error:", "Show help", "Usage:", "See '", "Total", "Response", "Node ID"] {
                #expect(!z.contains(word), "\(args) in Chinese says \"\(word)\":\n\(z)")
            }
            // Every line fits the terminal, Chinese counted two columns a character.
            for line in (english.out + chinese.out).split(separator: "\n") where !line.contains("gridsync.db") {
                #expect(DisplayWidth.of(String(line)) <= 100, "\(args): \(line)")
            }
        }
    }

    /// The scanner itself: what it must find and what it must not.
    @Test func theScannerTellsEntriesFromStrays() {
        let source = #"""
            let a = L("中文", en: "English")
            let b = Localized("前 \(x ?? "默认") 后", en: "before \(x ?? "default") after")
            let c = "孤立"  // a stray
            let d = say("叙述", en: "narration")
            // catalogue: data — sample
            let e = ["数据"]
            // catalogue: end
            let f = g("第一", "第二")
            /* "注释" */ let h = "x"
            """#
        let scan = CatalogueScanner(source)
        let cjk = scan.literals.filter { CatalogueTests.hasCJK($0.text) }
        #expect(cjk.filter { !$0.isChineseOfEntry && !scan.dataLines.contains($0.line) }.map(\.text) == ["孤立", "第一", "第二"])
        #expect(scan.entries.map(\.en) == ["English", "before \\(…) after", "narration"])
        #expect(!scan.literals.contains { $0.text.contains("注释") })
    }

    @Test func requestConfirmationsSpeakOneLanguage() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let id = String(try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "张三", "--category", "物业", "--title", "修灯"] + c).prefix(8))
        let zh = ["GRIDSYNC_LANG": "zh"], en = ["GRIDSYNC_LANG": "en"]
        let steps: [([String], String, String)] = [
            (["accept", id], "现为「已受理」", "is now accepted"),
            (["start", id], "现为「办理中」", "is now in progress"),
            (["note", id, "已上门"], "添加跟进记录", "Note added"),
            (["edit", id, "--title", "修楼道灯"], "已更新需求", "Updated request"),
            (["resolve", id], "现为「已办结」", "is now resolved"),
            (["rate", id, "--satisfaction", "基本满意"], "现为「已评价」：基本满意", "is now rated: basically satisfied"),
            (["reopen", id], "现为「办理中」", "is now in progress"),
            (["delete", id, "--yes"], "已删除需求", "Deleted request"),
            (["restore", id], "已恢复需求", "Restored request"),
        ]
        for (n, (args, chinese, english)) in steps.enumerated() {
            // Alternate the languages: each step is read in one of them.
            let inEnglish = n % 2 == 1
            let out = try cli.ok(["request"] + args + c, env: inEnglish ? en : zh)
            if inEnglish {
                #expect(out.contains(english) && !Self.hasCJK(out.replacingOccurrences(of: "已上门", with: "")), "\(args): \(out)")
            } else {
                #expect(out.contains(chinese) && !out.contains("Request") && !out.contains("is now"), "\(args): \(out)")
            }
        }
        // Lists and imports too.
        let listed = try cli.ok(["request", "list"] + c, env: en)
        #expect(listed.split(separator: "\n").last == "1 request" && !listed.contains("条需求"), "\(listed)")
        try Data("网格,楼栋,居民,类别,标题\n1,3,李四,物业,修门\n".utf8).write(to: URL(fileURLWithPath: cli.path("r.csv")))
        let dry = try cli.ok(["request", "import", cli.path("r.csv"), "--dry-run"] + c, env: en)
        #expect(dry.contains("Dry run, nothing was changed: would add 1 new") && !Self.hasCJK(dry), "\(dry)")
        let imported = try cli.ok(["request", "import", cli.path("r.csv")] + c, env: zh)
        #expect(imported.contains("已导入：新增 1 条") && !imported.contains("Imported"), "\(imported)")
        // The default, with nothing set, is Chinese.
        let plain = try cli.ok(["request", "note", id, "回访"] + c, env: ["GRIDSYNC_LANG": "", "LANG": "", "LC_ALL": "", "LC_MESSAGES": ""])
        #expect(plain.contains("已为需求") && !plain.contains("Note added"), "\(plain)")
    }
}
