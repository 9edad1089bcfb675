import Foundation
import Testing

/// The privacy promise from the outside: a building lead's laptop, stolen with its key file,
/// yields only that building's residents — and with a passphrase, none at all.
@Suite struct PrivacyEndToEndTests {
    /// Building 4's residents, and building 3's.
    static let b4Residents = [("李四光", "13944440001"), ("王二小", "13944440002"), ("赵钱孙", "13944440003")]
    static let b3Residents = [("张三丰", "13833330001"), ("周芷若", "13833330002")]

    /// Every file the attacker finds in the laptop's store folder: store, WAL, SHM, key.
    static func folderBytes(_ folder: String) throws -> [(String, Data)] {
        try FileManager.default.contentsOfDirectory(atPath: folder).compactMap { name in
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return (name, data)
        }
    }

    static func found(_ needle: String, in files: [(String, Data)]) -> [String] {
        files.filter { $0.1.range(of: Data(needle.utf8)) != nil }.map(\.0)
    }

    @Test func aStolenLaptopAndItsKeyYieldOnlyItsOwnBuilding() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("centre/c.db")]
        let b3 = ["--db", cli.path("b3/b3.db")]
        let b4 = ["--db", cli.path("b4/b4.db")]
        let secret = cli.path("b3p.pass")
        try "口令是一二三四五六\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let locked = ["--db", cli.path("b3p/b3p.db")]
        let unlock = ["GRIDSYNC_PASSPHRASE_FILE": secret]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b3)
        try cli.ok(["init", "--name", "四号楼", "--role", "building", "--grid", "1", "--building", "4"] + b4)
        try cli.ok(["init", "--name", "三号楼备用", "--role", "building", "--grid", "1", "--building", "3", "--passphrase"] + locked, env: unlock)
        try cli.enrol(b3, in: c)
        try cli.enrol(b4, in: c)
        try cli.enrol(locked, in: c, env: unlock)
        let b4IDs = try Self.b4Residents.map { name, phone in
            try cli.ok(["request", "add", "--resident", name, "--phone", phone, "--room", "401", "--category", "物业", "--title", "\(name)家漏水"] + b4)
        }
        for (name, phone) in Self.b3Residents {
            try cli.ok(["request", "add", "--resident", name, "--phone", phone, "--category", "居家养老", "--title", "\(name)送餐"] + b3)
        }
        // Everything reaches everyone: the laptops hold each other's changes, and relay them.
        for (from, to) in [(b4, c), (b3, c), (c, b3), (c, b4), (c, locked)] {
            #expect(try cli.carry(from, to, file: "sync-\(UUID().uuidString).gsb", env: unlock).status == 0)
        }
        try cli.ok(["request", "note", b4IDs[0], "李四光说周三在家"] + b4)
        #expect(try cli.carry(b4, c, file: "note.gsb").status == 0)
        #expect(try cli.carry(c, b3, file: "note3.gsb").status == 0)
        #expect(try cli.ok(["request", "list", "--json"] + b3).components(separatedBy: "\"id\"").count - 1 == 5)

        // The attacker has building 3's whole folder, key file included.
        let files = try Self.folderBytes(cli.path("b3"))
        #expect(files.contains { $0.0.hasSuffix(".key") } && files.contains { $0.0.hasSuffix(".db") })
        for (name, phone) in Self.b4Residents {
            #expect(Self.found(name, in: files).isEmpty, "\(name) in \(Self.found(name, in: files))")
            #expect(Self.found(phone, in: files).isEmpty, "\(phone)")
        }
        #expect(Self.found("李四光说周三在家", in: files).isEmpty)
        // …and the laptop, used as it is meant to be, shows building 3's residents only.
        let list = try cli.ok(["request", "list", "--wide"] + b3, env: ["COLUMNS": "200"])
        for (name, _) in Self.b3Residents { #expect(list.contains(name)) }
        for (name, _) in Self.b4Residents { #expect(!list.contains(name)) }
        #expect(list.contains("🔒"))
        let json = try cli.ok(["request", "list", "--json"] + b3)
        for (_, phone) in Self.b3Residents { #expect(json.contains(phone)) }
        for (_, phone) in Self.b4Residents { #expect(!json.contains(phone)) }
        let export = try cli.ok(["request", "export"] + b3)
        for (name, _) in Self.b4Residents { #expect(!export.contains(name)) }
        // The centre reads all of them.
        let centreList = try cli.ok(["request", "list", "--json"] + c)
        for (name, _) in Self.b4Residents + Self.b3Residents { #expect(centreList.contains(name)) }

        // The same laptop with a passphrase, stolen without it: no resident of any building.
        let lockedFiles = try Self.folderBytes(cli.path("b3p"))
        for (name, phone) in Self.b4Residents + Self.b3Residents {
            #expect(Self.found(name, in: lockedFiles).isEmpty && Self.found(phone, in: lockedFiles).isEmpty, "\(name)")
        }
        let refused = try cli.run(["request", "list", "--json"] + locked, env: ["GRIDSYNC_PASSPHRASE_FILE": ""])
        #expect(refused.status == 3 && refused.err.contains("口令"), "\(refused.err)")
        let wrongFile = cli.path("wrong.pass")
        try "不是这个口令啊\n".write(toFile: wrongFile, atomically: true, encoding: .utf8)
        let wrong = try cli.run(["request", "list", "--json"] + locked, env: ["GRIDSYNC_PASSPHRASE_FILE": wrongFile])
        #expect(wrong.status == 3 && wrong.err.contains("口令不对"))
        #expect(!refused.out.contains("张三丰") && !wrong.out.contains("张三丰"))
        // Its owner, with the passphrase, reads building 3's residents.
        let opened = try cli.ok(["request", "list", "--json"] + locked, env: unlock)
        #expect(opened.contains("张三丰") && !opened.contains("李四光"))
        // The key file is not the seed in clear.
        let keyText = try String(contentsOfFile: cli.path("b3p/b3p.db.key"), encoding: .utf8)
        #expect(keyText.hasPrefix("GRIDSYNC NODE KEY v2 scrypt"))
        // Files are the owner's alone.
        for name in ["b3.db", "b3.db.key"] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: cli.path("b3/\(name)"))[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "\(name) mode \(String(mode, radix: 8))")
        }
    }

    @Test func anErasureFromTheCentreReachesALaptopByBundleAndAnOldBundleDoesNotUndoIt() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")], b3 = ["--db", cli.path("b3.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b3)
        try cli.enrol(b3, in: c)
        let id = try cli.ok(["request", "add", "--resident", "抹除我", "--phone", "13600000000", "--category", "证明开具", "--title", "开证明"] + b3)
        #expect(try cli.carry(b3, c, file: "up.gsb").status == 0)
        let old = cli.path("old.gsb")
        try cli.ok(["bundle", "export", "--out", old] + b3)
        // Only the centre erases, and only after asking (or with --yes).
        #expect(try cli.run(["request", "erase", id, "--yes"] + b3).status == 3)
        #expect(try cli.run(["request", "erase", id] + c).status != 0)
        try cli.ok(["request", "erase", id, "--yes"] + c)
        #expect(try cli.carry(c, b3, file: "down.gsb").status == 0)
        for s in [c, b3] {
            let shown = try cli.ok(["request", "show", id, "--json"] + s)
            #expect(!shown.contains("抹除我") && !shown.contains("13600000000") && shown.contains("\"erased\""))
            #expect(try cli.ok(["bundle", "import", old] + s).contains("新增 0 个"))
            #expect(!(try cli.ok(["request", "show", id, "--json"] + s)).contains("抹除我"))
        }
        #expect(try cli.ok(["digest"] + c) == cli.ok(["digest"] + b3))
        let files = try Self.folderBytes(cli.dir).filter { $0.0.hasPrefix("b3.db") || $0.0.hasPrefix("c.db") }
        #expect(Self.found("13600000000", in: files).isEmpty)
        // Retention from the command line: nothing else is due.
        #expect(try cli.ok(["request", "erase", "--due", "--after-months", "1", "--yes"] + c).contains("没有到期"))
    }
}
