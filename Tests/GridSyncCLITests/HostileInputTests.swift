import Foundation
import GridSyncCore
import GridSyncStore
import Testing

@testable import GridSyncCLI

#if canImport(Glibc)
    import Glibc
#endif

/// A careless or hostile user at the keyboard, through the real binary: wrong addresses and
/// paths, files that must not be replaced, spreadsheets with formulas, terminal escapes in
/// records, bytes that are not text. Every error path is driven with a known resident name and
/// phone, which must appear in no output.
@Suite struct HostileInputTests {
    static let name = "张阿姨"
    static let phone = "13800001234"

    /// Runs `gridsync` through the shell with umask 022 (a common default), so file modes
    /// prove themselves independent of it.
    static func shell(_ cli: CLI, _ script: String) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "umask 022; cd \"$DIR\"; " + script]
        var env = ProcessInfo.processInfo.environment
        env["G"] = CLI.binary
        env["DIR"] = cli.dir
        env["HOME"] = cli.dir
        env["XDG_DATA_HOME"] = cli.dir + "/xdg"
        env.removeValue(forKey: "GRIDSYNC_DB")
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    static func mode(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_mode & 0o7777) : nil
    }

    /// Nothing the user typed about a resident comes back in any output of `r`.
    static func expectNoPersonalData(_ r: CLI.Result, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in [name, phone] {
            #expect(!r.out.contains(secret) && !r.err.contains(secret), "\(r.out)\n\(r.err)", sourceLocation: sourceLocation)
        }
    }

    @Test func joinWithNobodyListeningFailsCleanly() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        let port = DaemonEndToEndTests.freePort()
        let community = CommunityID(centre: NodeKey().nodeID).text
        for _ in 0..<3 {
            let r = try cli.run(["join", "--centre", "127.0.0.1:\(port)", "--community", community] + b)
            #expect(r.status == 1, "\(r.err)")
            #expect(r.err.contains("无法连接社区中心 127.0.0.1:\(port)") && !r.err.contains("Fatal error"))
        }
        #expect(try cli.ok(["id", "--json"] + b).contains("\"community_id\" : null"))
    }

    @Test func storesAndKeysArePrivateWhateverTheUmask() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        // The default path, and a one-letter relative one.
        var r = try Self.shell(cli, "\"$G\" init --name 三号楼 --role building --grid 1 --building 3")
        #expect(r.status == 0, "\(r.err)")
        r = try Self.shell(
            cli,
            "GRIDSYNC_DB=c \"$G\" init --name 中心 --role centre && \"$G\" request add --db c --grid 1 --building 3 --resident 张阿姨 --category 物业 --title 门禁"
        )
        #expect(r.status == 0, "\(r.err)")
        let folder = cli.dir + "/xdg/gridsync"
        #expect(Self.mode(folder) == 0o700)
        for file in [folder + "/gridsync.db", folder + "/gridsync.db.key", cli.path("c"), cli.path("c.key")] {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
        // The WAL and shared-memory files exist while a store is open; SQLite gives them the
        // store's mode.
        let old = umask(0o022)
        defer { umask(old) }
        let open = try Store.open(path: cli.path("c"))
        _ = try open.addRequest(NewRequest(grid: "1", building: "3", resident: Self.name, category: "物业", title: "开着"))
        for file in [cli.path("c-wal"), cli.path("c-shm")] { #expect(Self.mode(file) == 0o600, "\(file)") }
        // A key others can read is refused, with the command that mends it.
        chmod(cli.path("c.key"), 0o644)
        r = try cli.run(["request", "list", "--db", cli.path("c")])
        #expect(r.status == 3 && r.err.contains("chmod 600 \(cli.path("c.key"))"))
        chmod(cli.path("c.key"), 0o600)
        // A store left 0644 by an older version is tightened when opened.
        chmod(cli.path("c"), 0o644)
        try cli.ok(["request", "list", "--db", cli.path("c")])
        #expect(Self.mode(cli.path("c")) == 0o600)
    }

    @Test func theDefaultStoreFollowsHome() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let r = try Self.shell(cli, "unset XDG_DATA_HOME; HOME=\"$DIR/home\" \"$G\" init --name 三号楼 --role building --grid 1 --building 3")
        #expect(r.status == 0, "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: cli.dir + "/home/.local/share/gridsync/gridsync.db"))
        #expect(Self.mode(cli.dir + "/home/.local/share/gridsync") == 0o700)
    }

    @Test func outputsNeverReplaceTheStoreItsKeyOrAFileWithoutForce() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let store = cli.path("c.db")
        let c = ["--db", store]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(
            [
                "request", "add", "--grid", "1", "--building", "3", "--resident", Self.name, "--phone", Self.phone, "--category", "物业",
                "--title", "门禁",
            ] + c)
        let digest = try cli.ok(["digest"] + c)
        let key = try String(contentsOfFile: store + ".key", encoding: .utf8)
        for args in [
            ["bundle", "export", "--out", store], ["bundle", "export", "--out", store + ".key", "--force"],
            ["request", "export", "--output", store + ".key"], ["request", "export", "--output", store, "--force"],
        ] {
            let r = try cli.run(args + c)
            #expect(r.status == 64, "\(args): \(r.err)")
        }
        #expect(try cli.ok(["digest"] + c) == digest)
        #expect(try String(contentsOfFile: store + ".key", encoding: .utf8) == key)
        // Another node's store is recognised too.
        try cli.ok(["init", "--name", "别的", "--role", "centre", "--db", cli.path("other.db")])
        #expect(try cli.run(["request", "export", "--output", cli.path("other.db"), "--force"] + c).status == 64)
        // An existing file: only with --force; the result is private.
        let out = cli.path("需求清单.csv")
        try "旧内容".write(toFile: out, atomically: true, encoding: .utf8)
        let refused = try cli.run(["request", "export", "--output", out] + c)
        #expect(refused.status == 64 && refused.err.contains("--force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "旧内容")
        try cli.ok(["request", "export", "--output", out, "--force"] + c)
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains(Self.name))
        #expect(Self.mode(out) == 0o600)
        try cli.ok(["bundle", "export", "--out", cli.path("a.gsb")] + c)
        #expect(Self.mode(cli.path("a.gsb")) == 0o600)
        // Bare and relative names, as people type them (a bare name once crashed the check).
        let relative = try Self.shell(cli, "\"$G\" bundle export --db c.db --out b.gsb && \"$G\" request export --db c.db --output ./d.csv && \"$G\" bundle export --db c.db --out c.db --force")
        #expect(relative.status == 64 && relative.err.contains("不能写到本节点的存储或密钥上"), "\(relative.err)")
        #expect(FileManager.default.fileExists(atPath: cli.path("b.gsb")) && FileManager.default.fileExists(atPath: cli.path("d.csv")))
        #expect(!FileManager.default.fileExists(atPath: cli.path("a.gsb") + ".partial-\(getpid())"))
    }

    @Test func formulaCellsAreNeutralisedAndImportKeepsTheText() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let titles = ["=HYPERLINK(\"http://x\",\"点我\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tTAB", "普通标题"]
        let csv = "网格,楼栋,居民,类别,标题\r\n" + titles.map { "1,3,\(Self.name),物业,\(CSVField.quote($0))" }.joined(separator: "\r\n") + "\r\n"
        try csv.write(toFile: cli.path("in.csv"), atomically: true, encoding: .utf8)
        try cli.ok(["request", "import", cli.path("in.csv")] + c)
        try cli.ok(["request", "export", "--output", cli.path("out.csv")] + c)
        try cli.ok(["report", "--format", "csv", "--by", "category"] + c).write(
            toFile: cli.path("report.csv"), atomically: true, encoding: .utf8)
        for file in ["out.csv", "report.csv"] {
            let cells = try Self.cells(cli.path(file))
            #expect(!cells.contains { ["=", "+", "-", "@", "\t", "\r"].contains($0.first.map(String.init) ?? "") }, "\(file)")
        }
        #expect(try Self.cells(cli.path("out.csv")).contains("'=HYPERLINK(\"http://x\",\"点我\")"))
        // Importing the export gives back exactly what was typed.
        let d = ["--db", cli.path("d.db")]
        try cli.ok(["init", "--name", "中心二", "--role", "centre"] + d)
        try cli.ok(["request", "import", cli.path("out.csv")] + d)
        let stored = try #require(
            try JSONSerialization.jsonObject(with: Data(cli.ok(["request", "list", "--json"] + d).utf8)) as? [[String: Any]])
        #expect(Set(stored.compactMap { $0["title"] as? String }) == Set(titles.map { $0.trimmingCharacters(in: .whitespaces) }))
    }

    /// Every cell of a CSV file, as the project's reader (tested in `ImportExportTests`) reads it.
    static func cells(_ path: String) throws -> [String] {
        try CSVReader.parse(Array(Data(contentsOf: URL(fileURLWithPath: path)))).flatMap(\.fields)
    }

    @Test func errorsNeverRepeatAResidentsNameOrPhone() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        // A spreadsheet without its header row; a phone in the due column.
        try "\(Self.name),\(Self.phone),物业,门禁\r\n".write(toFile: cli.path("noheader.csv"), atomically: true, encoding: .utf8)
        try "网格,楼栋,居民,类别,标题,期限\r\n1,3,\(Self.name),物业,门禁,\(Self.phone)\r\n".write(
            toFile: cli.path("baddue.csv"), atomically: true, encoding: .utf8)
        let runs = try [
            cli.run(["request", "import", cli.path("noheader.csv")] + c),
            cli.run(["request", "import", cli.path("baddue.csv")] + c),
            cli.run(["request", "show", Self.name] + c),
            cli.run(["request", "show", Self.phone] + c),
            cli.run(
                [
                    "request", "add", "--grid", "1", "--building", "3", "--resident", Self.name, "--phone", Self.phone, "--category",
                    Self.name, "--title", "x",
                ] + c),
            cli.run(
                [
                    "request", "add", "--grid", "1", "--building", "3", "--resident", Self.name, "--category", "物业", "--title", "x",
                    "--due", Self.phone,
                ] + c),
            cli.run(
                [
                    "request", "add", "--grid", "1", "--building", "3", "--resident", Self.name, "--phone",
                    String(repeating: "1", count: 40), "--category", "物业", "--title", "x",
                ] + c),
            cli.run(["conflicts", "show", Self.phone] + c),
            cli.run(["service", "show", Self.name] + c),
        ]
        for r in runs {
            #expect(r.status != 0)
            Self.expectNoPersonalData(r)
        }
        #expect(runs[6].status == 64)  // a too-long phone is bad input, not bad data
        #expect(runs[7].err.contains("gridsync conflicts list"))
        #expect(try cli.ok(["request", "list", "--json"] + c).filter { !$0.isWhitespace } == "[]")  // nothing was stored
    }

    @Test func controlCharactersAndBidiOverridesAreShownEscaped() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let id = try cli.ok(
            [
                "request", "add", "--grid", "1", "--building", "3", "--resident", "\u{1B}[2J\u{1B}[H\u{1B}[31m假", "--category", "物业",
                "--title", "标题\u{1B}]0;pwned\u{07}\u{202E}txt.exe", "--detail", "第一行\u{9B}31m",
            ] + c)
        try cli.ok(["request", "note", id, "跟进\u{1B}[8m隐藏"] + c)
        for out in [try cli.ok(["request", "list"] + c), try cli.ok(["request", "show", id] + c)] {
            #expect(
                !out.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B || $0.value == 0x202E }, "\(out)")
            #expect(out.contains("\\u{1B}"))
        }
        #expect(try cli.ok(["request", "show", id] + c).contains("\\u{202E}"))
        // JSON keeps the exact text (escaped by JSON itself).
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(cli.ok(["request", "show", id, "--json"] + c).utf8)) as? [String: Any])
        #expect(((json["request"] as? [String: Any])?["title"] as? String ?? json["title"] as? String)?.contains("\u{202E}") == true)
    }

    @Test func bytesThatAreNotTextAreRefusedAndNothingIsStored() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        var csv = Data("网格,楼栋,居民,类别,标题\r\n1,3,\(Self.name),物业,门".utf8)
        csv.append(0)
        csv.append(contentsOf: Array("禁\r\n".utf8))
        try csv.write(to: URL(fileURLWithPath: cli.path("nul.csv")))
        let r = try cli.run(["request", "import", cli.path("nul.csv")] + c)
        #expect(r.status == 4 && r.err.contains("第 2 行") && r.err.contains("NUL"))
        Self.expectNoPersonalData(r)
        // An argument in another encoding (GBK bytes from a misconfigured terminal).
        let gbk = try Self.shell(
            cli, "\"$G\" request add --db c.db --grid 1 --building 3 --resident \"$(printf '\\325\\305')\" --category 物业 --title x")
        #expect(gbk.status == 64, "\(gbk.err)")
        #expect(try cli.ok(["request", "list", "--json"] + c).filter { !$0.isWhitespace } == "[]")
    }
}

/// CSV quoting for building test files.
enum CSVField {
    static func quote(_ s: String) -> String {
        s.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// A laptop whose disk is full: every command says so in words and leaves nothing half-written.
/// Needs root (it mounts a 4 MiB tmpfs); `.ci/run` runs as root.
@Suite(.serialized) struct FullDiskTests {
    static let canMount = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/mount")

    @Test(.enabled(if: canMount, "needs root to mount a small tmpfs"))
    func aFullDiskIsReportedInWordsAndChangesNothing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let mnt = cli.path("small")
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        #expect(try Tool.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]).status == 0)
        defer { _ = try? Tool.run("/usr/bin/umount", [mnt]) }
        let c = ["--db", mnt + "/c.db"]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(
            ["request", "add", "--grid", "1", "--building", "3", "--resident", HostileInputTests.name, "--category", "物业", "--title", "门禁"]
                + c)
        let digest = try cli.ok(["digest"] + c)
        // Fill what is left.
        _ = try Tool.run("/bin/sh", ["-c", "cat /dev/zero > \(mnt)/filler 2>/dev/null; true"])
        let detail = String(repeating: "详", count: 3_000)
        var results: [CLI.Result] = []
        for _ in 0..<3 {
            results.append(
                try cli.run(
                    [
                        "request", "add", "--grid", "1", "--building", "3", "--resident", HostileInputTests.name, "--phone",
                        HostileInputTests.phone, "--category", "物业", "--title", "满了", "--detail", detail,
                    ] + c))
        }
        results.append(try cli.run(["bundle", "export", "--out", mnt + "/out.gsb"] + c))
        results.append(try cli.run(["request", "export", "--output", mnt + "/out.csv"] + c))
        let full = results.filter { $0.status != 0 }
        #expect(!full.isEmpty)
        for r in full {
            #expect(r.status == 1, "\(r.err)")
            #expect(r.err.contains("磁盘") && !r.err.contains("NSCocoaErrorDomain") && !r.err.contains("SQLite error"), "\(r.err)")
            HostileInputTests.expectNoPersonalData(r)
        }
        #expect(!FileManager.default.fileExists(atPath: mnt + "/out.gsb") || results[3].status == 0)
        // Space again: the store is intact, and holds what it held plus whatever succeeded.
        try FileManager.default.removeItem(atPath: mnt + "/filler")
        #expect(try cli.ok(["request", "list", "--json"] + c).contains("门禁"))
        if results.prefix(3).allSatisfy({ $0.status != 0 }) { #expect(try cli.ok(["digest"] + c) == digest) }
        let integrity = try Tool.run(
            "/usr/bin/env",
            [
                "python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
                mnt + "/c.db",
            ])
        #expect(integrity.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }
}
