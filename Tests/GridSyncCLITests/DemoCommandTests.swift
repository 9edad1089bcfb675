import Foundation
import Testing

/// `gridsync demo`, the README's first command, run as a user runs it.
@Suite(.serialized) struct DemoCommandTests {
    @Test func theDemoRunsToConvergenceAndLeavesIdenticalStores() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let dir = cli.path("demo")
        let r = try cli.run(["demo", "--dir", dir])
        #expect(r.status == 0, "demo failed:\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("✔ 三个节点的数据完全一致"))
        #expect(r.out.contains("2号电梯异响，已报维保公司"))   // the conflict, listed and then settled
        #expect(r.out.contains("gridsync_peers_connected 2.0"))

        // Checked independently of what the demo printed: the stores it kept are identical, with
        // no conflict left and every request present.
        let stores = ["centre.db", "building1.db", "building2.db"].map { ["--db", "\(dir)/\($0)"] }
        let digests = try stores.map { try cli.ok(["digest"] + $0) }
        #expect(Set(digests).count == 1)
        for s in stores {
            #expect(try cli.ok(["conflicts", "list", "--json"] + s).filter { !$0.isWhitespace } == "[]")
            let list = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["request", "list", "--json"] + s).utf8)) as? [[String: Any]])
            #expect(list.count == 9)
        }
        // The daemons stopped: no log says otherwise, and each says it stopped.
        for name in ["centre", "building1", "building2"] {
            let log = try String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)
            #expect(log.contains("stopped"), "\(name).log: \(log)")
            #expect(!log.contains("王秀英") && !log.contains("13800001111"))
        }
    }

    @Test func aNonEmptyDirectoryIsRefused() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let dir = cli.path("busy")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: dir + "/keep.txt", contents: Data("x".utf8)))
        let r = try cli.run(["demo", "--dir", dir])
        #expect(r.status == 64)
        #expect(r.err.contains("不是空的"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["keep.txt"])
    }
}
