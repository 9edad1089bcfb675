import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon as a stranger on the network and a careless IT person meet it: connections that
/// never authenticate, unreachable peers, a config that forgets the centre, a second daemon on
/// the same store, and readers beside a long write.
@Suite(.serialized) struct DaemonHardeningTests {
    typealias Daemon = DaemonEndToEndTests.Daemon

    /// Whether the daemon closed `fd` within `seconds` (a read returns end of file).
    static func closedWithin(_ fd: Int32, _ seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var byte: UInt8 = 0
        while Date() < deadline {
            let n = recv(fd, &byte, 1, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return true }
        }
        return false
    }

    /// A centre and an enrolled laptop that joined over TLS (so `join` recorded the address).
    static func community(_ cli: CLI, port: Int) throws -> (c: [String], b: [String], centre: Daemon) {
        let c = ["--db", cli.path("c.db")], b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        let centre = try Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(port)"], name: "c")
        #expect(DaemonEndToEndTests.eventually(10) { centre.logText.contains("with mutual TLS") })
        let ids = try JSONSerialization.jsonObject(with: Data(cli.ok(["id", "--json"] + c).utf8)) as? [String: Any]
        let bID = try #require(
            (try JSONSerialization.jsonObject(with: Data(cli.ok(["id", "--json"] + b).utf8)) as? [String: Any])?["node_id"] as? String)
        try cli.ok(["roster", "add", bID, "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + c)
        try cli.ok(["join", "--centre", "127.0.0.1:\(port)", "--community", try #require(ids?["community_id"] as? String)] + b)
        return (c, b, centre)
    }

    @Test func strangersThatNeverAuthenticateAreCutAndLeaveNoRows() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = DaemonEndToEndTests.freePort()
        let (c, b, centre) = try Self.community(cli, port: port)
        defer { centre.stop() }
        // Twelve connections that send nothing: eight are let wait, the rest closed at once.
        let fds = try (0..<12).map { _ in try Loopback.connect(port: port, timeout: 0.2) }
        defer { for fd in fds { close(fd) } }
        Thread.sleep(forTimeInterval: 0.5)
        let closedAtOnce = fds.filter { Self.closedWithin($0, 1) }.count
        #expect(closedAtOnce == 4)
        #expect(DaemonEndToEndTests.eventually(5) { centre.logText.contains("too many not yet identified") })
        // The eight that waited are cut at the deadline (10 s).
        #expect(fds.allSatisfy { Self.closedWithin($0, 14) })
        // An enrolled laptop still syncs, and `peers` lists it alone, by its roster name.
        let laptop = try Daemon(cli: cli, args: b + ["--listen", "none"], name: "b")
        defer { laptop.stop() }
        let id = try cli.ok(["request", "add", "--resident", "张阿姨", "--phone", "13800001234", "--category", "物业", "--title", "门禁"] + b)
        #expect(
            DaemonEndToEndTests.eventually(20) { (try? cli.run(["request", "show", id] + c))?.status == 0 },
            "\(centre.logText)\n\(laptop.logText)")
        let peers = try #require(try JSONSerialization.jsonObject(with: Data(cli.ok(["peers", "--json"] + c).utf8)) as? [[String: Any]])
        #expect(peers.count == 1 && peers.first?["name"] as? String == "三号楼", "\(peers)")
        for secret in ["张阿姨", "13800001234"] { #expect(!centre.logText.contains(secret) && !laptop.logText.contains(secret)) }
    }

    @Test func aLaptopDialsTheJoinedCentreAndSaysWhyAPeerIsUnreachable() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = DaemonEndToEndTests.freePort()
        let closed = DaemonEndToEndTests.freePort()
        let (c, b, centre) = try Self.community(cli, port: port)
        defer { centre.stop() }
        // A config naming only a peer that is not there: the laptop still reaches the centre.
        try "listen = \"none\"\npeers = [\"127.0.0.1:\(closed)\"]\n".write(toFile: cli.path("b.toml"), atomically: true, encoding: .utf8)
        let laptop = try Daemon(cli: cli, args: b + ["--config", cli.path("b.toml")], name: "b")
        defer { laptop.stop() }
        let id = try cli.ok(["request", "add", "--resident", "张阿姨", "--category", "物业", "--title", "门禁"] + b)
        #expect(DaemonEndToEndTests.eventually(20) { (try? cli.run(["request", "show", id] + c))?.status == 0 }, "\(laptop.logText)")
        #expect(
            DaemonEndToEndTests.eventually(10) {
                laptop.logText.contains("cannot connect to 127.0.0.1:\(closed)") && laptop.logText.contains("trying again in")
            }, "\(laptop.logText)")
        // A second daemon on the same store is refused, naming the first.
        let second = try cli.run(["daemon", "--listen", "none"] + b)
        #expect(second.status == 1 && second.err.contains("已有守护进程在使用此存储"), "\(second.err)")
    }

    @Test func readsDoNotWaitForAnotherProcesssWrite() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "张阿姨", "--category", "物业", "--title", "门禁"] + c)
        // Another process holds a write transaction for 15 s (longer than the 10 s busy timeout).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(15)",
            cli.path("c.db"),
        ]
        let pipe = Pipe()
        holder.standardOutput = pipe
        try holder.run()
        defer { holder.terminate() }
        _ = pipe.fileHandleForReading.availableData  // "held"
        let started = Date()
        for args in [["request", "list"], ["digest"], ["status"], ["conflicts", "list"]] {
            let r = try cli.run(args + c)
            #expect(r.status == 0, "\(args): \(r.err)")
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
