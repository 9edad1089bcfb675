import Foundation
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

    /// Every entry of the catalogue file: its Chinese text has Chinese in it, its English none.
    @Test func everyMessageIsInBothLanguages() throws {
        let source = try String(contentsOf: DeployFilesTests.root.appendingPathComponent("Sources/GridSyncCLI/Catalogue.swift"), encoding: .utf8)
        let entries = source.components(separatedBy: "Localized(\"").dropFirst()
        #expect(entries.count >= 6)
        for entry in entries {
            let zh = entry.prefix { $0 != "\"" }
            let afterEn = try #require(entry.range(of: "en: \""), "\(entry.prefix(40))")
            let en = entry[afterEn.upperBound...].prefix { $0 != "\"" }
            #expect(Self.hasCJK(zh), "\(zh)")
            #expect(!en.isEmpty && !Self.hasCJK(en), "\(en)")
        }
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
