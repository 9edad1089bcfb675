import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real daemons in real processes on 127.0.0.1: a centre and two buildings.
@Suite(.serialized) struct DaemonEndToEndTests {
    /// A port the kernel says is free right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    final class Daemon {
        let process = Process()
        let log: String

        init(cli: CLI, args: [String], name: String) throws {
            log = cli.path("\(name).log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["daemon"] + args
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
        }

        var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }

        func kill9() {
            guard process.isRunning else { return }
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        deinit { kill9() }
    }

    /// Polls until `condition` holds or `seconds` pass.
    static func eventually(_ seconds: Double, every: Double = 0.2, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: every)
        }
        return try condition()
    }

    /// The daemon keeps the search index up to the store, so the first search after a sync
    /// starts at once; `status` says whether it is.
    @Test func theDaemonKeepsTheSearchIndexCurrent() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        for n in 0..<3 { try cli.ok(["request", "add", "--grid", "1", "--building", "2", "--resident", "王\(n)", "--category", "物业", "--title", "修灯\(n)"] + c) }
        func current() throws -> Bool {
            let status = try cli.ok(["status", "--json"] + c)
            return try #require(try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])["search_index_current"] as? Bool == true
        }
        #expect(try !current())
        #expect(try cli.ok(["status"] + c).contains("检索索引 待更新"))
        let daemon = try Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(Self.freePort())"], name: "c")
        defer { daemon.stop() }
        #expect(try Self.eventually(10) { try current() }, "log: \(daemon.logText)")
        #expect(daemon.logText.contains("search index: 3 request(s) brought up to date"))
        #expect(try cli.ok(["status"] + c).contains("检索索引 最新"))
    }

    @Test func centreAndTwoBuildingsConvergeThroughStopsAndRestarts() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = Self.freePort()
        let c = ["--db", cli.path("c.db")]
        let a = ["--db", cli.path("a.db")]
        let b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "一号楼", "--role", "building", "--grid", "1", "--building", "1"] + a)
        try cli.ok(["init", "--name", "二号楼", "--role", "building", "--grid", "1", "--building", "2"] + b)
        try cli.enrol(a, in: c)
        try cli.enrol(b, in: c)
        let peer = ["--listen", "none", "--peer", "127.0.0.1:\(port)"]

        let centre = try Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(port)"], name: "c")
        #expect(Self.eventually(10) { centre.logText.contains("listening") }, "centre log: \(centre.logText)")
        var da = try Daemon(cli: cli, args: a + peer, name: "a")
        let db = try Daemon(cli: cli, args: b + peer, name: "b")
        defer { centre.stop(); da.stop(); db.stop() }

        // A request written on building 1 reaches building 2 through the centre (A and B never connect).
        let id = try cli.ok(["request", "add", "--resident", "周八", "--category", "物业", "--title", "电梯坏了"] + a)
        let relayed = Self.eventually(20) {
            (try? cli.run(["request", "show", id] + c))?.status == 0 && (try? cli.run(["request", "show", id] + b))?.status == 0
        }
        #expect(relayed, "logs:\n\(centre.logText)\n\(da.logText)\n\(db.logText)")

        // Stop building 1; everyone keeps writing; the same field is edited on both sides.
        da.stop()
        try cli.ok(["request", "edit", id, "--title", "一号楼：电梯坏了两天"] + a)
        try cli.ok(["request", "add", "--resident", "吴九", "--category", "助残", "--title", "轮椅坡道"] + a)
        try cli.ok(["request", "accept", id] + c)
        try cli.ok(["request", "edit", id, "--title", "中心：电梯维修"] + c)
        try cli.ok(["request", "add", "--resident", "郑十", "--category", "物业", "--title", "二号楼漏水"] + b)

        // Building 1 comes back; everything converges, conflict included, on all three.
        da = try Daemon(cli: cli, args: a + peer, name: "a2")
        let converged = try Self.eventually(30) {
            let digests = try [c, a, b].map { try cli.run(["digest"] + $0).out }
            return Set(digests).count == 1
        }
        #expect(converged)
        // The same conflict everywhere; its values shown to the nodes that may read building 1's
        // titles (the centre and building 1), counted on building 2.
        let conflicts = try [c, a, b].map { try cli.ok(["conflicts", "list", "--json"] + $0) }
        let lists = try conflicts.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [[String: Any]]) }
        #expect(Set(lists.map { $0.map { "\($0["id"] ?? "")/\($0["field"] ?? "")" } }).count == 1)
        #expect(lists[0].map { $0["field"] as? String } == ["title"])
        #expect(conflicts[0] == conflicts[1])
        #expect(conflicts[0].contains("一号楼：电梯坏了两天") && !conflicts[2].contains("电梯"))
        #expect(conflicts[2].contains("\"unreadable\""))
        #expect(try cli.ok(["request", "list", "--json"] + c).contains("轮椅坡道"))
        #expect(try !cli.ok(["request", "list", "--json"] + b).contains("轮椅坡道"))

        // The peer status catches up within the daemon's one-second write throttle.
        func peerList() throws -> [[String: Any]] {
            let peers = try cli.ok(["peers", "--json"] + a)
            return try #require(try JSONSerialization.jsonObject(with: Data(peers.utf8)) as? [[String: Any]])
        }
        #expect(try Self.eventually(5) { try peerList().first?["to_send"] as? Int == 0 })
        #expect(try peerList().first?["connected"] as? Bool == true)

        // SIGTERM stops cleanly.
        centre.stop()
        #expect(centre.process.terminationStatus == 0)
        let log = try String(contentsOfFile: centre.log, encoding: .utf8)
        #expect(log.contains("stopped"))
        for name in ["周八", "吴九", "郑十"] { #expect(!log.contains(name)) }
    }

    @Test func garbageFromAPeerGetsAnErrorAndTheDaemonKeepsServing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = Self.freePort()
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        // Plaintext: the test speaks the frame layer by hand.
        let centre = try Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(port)", "--plaintext-for-local-testing"], name: "c")
        defer { centre.stop() }
        #expect(Self.eventually(10) { (try? String(contentsOfFile: centre.log, encoding: .utf8))?.contains("listening") == true })

        // A frame claiming 1 GiB: the daemon answers ERROR (type 7, code 2) and closes.
        let fd = try Loopback.connect(port: port)
        Loopback.send(fd, [0x40, 0, 0, 0, 1])
        let received = Loopback.readAll(fd)
        close(fd)
        // HELLO, VECTOR, then ERROR(frame too large).
        let errorType: UInt8 = 7
        #expect(received.contains(errorType))
        var offset = 0
        var lastType: UInt8 = 0
        var lastPayload: [UInt8] = []
        while offset + 5 <= received.count {
            let len = Int(received[offset]) << 24 | Int(received[offset + 1]) << 16 | Int(received[offset + 2]) << 8 | Int(received[offset + 3])
            lastType = received[offset + 4]
            lastPayload = Array(received[(offset + 5)..<min(received.count, offset + 4 + len)])
            offset += 4 + len
        }
        #expect(lastType == errorType)
        #expect(lastPayload.prefix(2) == [0, 2])

        // Still serving: a real node syncs afterwards.
        let b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "网格", "--role", "grid", "--grid", "1"] + b)
        try cli.enrol(b, in: c)
        let grid = try Daemon(cli: cli, args: b + ["--listen", "none", "--peer", "127.0.0.1:\(port)", "--plaintext-for-local-testing"], name: "b")
        defer { grid.stop() }
        #expect(Self.eventually(15) { (try? cli.run(["digest"] + c).out) == (try? cli.run(["digest"] + b).out) })
    }
}

import GridSyncCore
import GridSyncStore

/// kill -9 of the receiving daemon mid-sync.
@Suite(.serialized) struct DaemonCrashTests {
    @Test func killedMidSyncLosesNothingAndResumes() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = DaemonEndToEndTests.freePort()
        let centrePath = cli.path("c.db")
        let laptop = ["--db", cli.path("l.db")]
        // A server holding 4,000 changes (40,000 field ops) from another node. Neither store
        // belongs to a community (grid and building nodes that never joined one), so both
        // accept changes from any key: this test is about crashes, CommunityTests about trust.
        let centre = try Store.create(path: centrePath, name: "网格", role: .grid, grid: "1", building: nil)
        let key = NodeKey()
        var prev = Change.zeroHash
        var changes: [SignedChange] = []
        for seq in 1...4_000 {
            let ops = (0..<10).map { Op(collection: "requests", record: "r\(seq)", field: "f\($0)", value: .text("值\(seq)-\($0)"), pred: []) }
            let c = key.sign(Change(origin: key.nodeID, seq: UInt64(seq), hlc: HLC(milliseconds: 1_700_000_000_000 + UInt64(seq), counter: 0), prevHash: prev, ops: ops))
            prev = c.hash
            changes.append(c)
        }
        _ = try centre.apply(changes)
        try cli.ok(["init", "--name", "电脑", "--role", "building", "--grid", "1", "--building", "1"] + laptop)

        let server = try DaemonEndToEndTests.Daemon(cli: cli, args: ["--db", centrePath, "--listen", "127.0.0.1:\(port)", "--plaintext-for-local-testing"], name: "c")
        defer { server.stop() }
        #expect(DaemonEndToEndTests.eventually(10) { server.logText.contains("listening") })
        let peer = ["--listen", "none", "--peer", "127.0.0.1:\(port)", "--plaintext-for-local-testing"]
        let first = try DaemonEndToEndTests.Daemon(cli: cli, args: laptop + peer, name: "l1")
        // Kill it as soon as it has applied something, before it can have finished.
        let laptopStore = try Store.open(path: cli.path("l.db"))
        #expect(DaemonEndToEndTests.eventually(10, every: 0.005) { ((try? laptopStore.vector()[key.nodeID]) ?? 0) > 0 })
        first.kill9()
        // The killed store is intact; whatever it holds are whole changes (each batch is one
        // transaction), which the restart below must build on without a gap.
        #expect(try laptopStore.integrityCheck() == ["ok"])

        let second = try DaemonEndToEndTests.Daemon(cli: cli, args: laptop + peer, name: "l2")
        defer { second.stop() }
        #expect(DaemonEndToEndTests.eventually(30) { (try? laptopStore.vector()[key.nodeID]) == 4_000 })
        // Both directions done: the same content on both sides.
        #expect(DaemonEndToEndTests.eventually(15) { (try? laptopStore.digest()) == (try? centre.digest()) })
    }
}

import GridSyncWire
import NIOCore

/// A peer speaking the protocol by hand over a real socket.
@Suite(.serialized) struct DaemonBadPeerTests {
    @Test func aGapGetsAnErrorCodeWhileEarlierBatchesStayApplied() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        // A grid node outside any community: it takes changes from any key, so the hand-made
        // ones below are judged on continuity alone.
        let (port, centre) = try Self.plaintextServer(cli, ["--name", "网格", "--role", "grid", "--grid", "1"])
        let c = ["--db", cli.path("c.db")]
        defer { centre.stop() }

        let key = NodeKey()
        let chain = Self.handChain(key, count: 5, record: "bad")
        var out = ByteBuffer()
        for m: Message in [
            .hello(Message.Hello(node: key.nodeID, role: .grid, name: "手写的节点")),
            .vector(VersionVector()),
            .changes(Message.Batch(id: 1, caughtUp: false, changes: chain[0..<3].map(\.encoded))),
            .changes(Message.Batch(id: 2, caughtUp: true, changes: [chain[4].encoded])),  // skips seq 4
        ] {
            MessageFrameEncoder.write(m, to: &out)
        }

        let fd = try Loopback.connect(port: port)
        defer { close(fd) }
        Loopback.send(fd, out.readBytes(length: out.readableBytes)!)
        var received = ByteBuffer(bytes: Loopback.readAll(fd))
        var messages: [Message] = []
        while let m = try MessageFrameDecoder.next(&received) { messages.append(m) }
        let acks = messages.compactMap { m -> UInt64? in if case .ack(let b, _) = m { return b } else { return nil } }
        #expect(acks == [1])
        guard case .error(let error)? = messages.last else {
            Issue.record("expected ERROR last, got \(messages.map(\.kind))")
            return
        }
        #expect(error.code == .seqGap)

        // Batch 1 stayed applied; batch 2 did not.
        let vector = try VersionVector(text: try cli.ok(["vector"] + c))
        #expect(vector[key.nodeID] == 3)
        // And no resident data, nor the peer's values, went into the log.
        #expect(!centre.logText.contains("值3"))
    }

    /// A daemon in plaintext on a free port, for a store made with `init ARGS`.
    static func plaintextServer(_ cli: CLI, _ initArgs: [String]) throws -> (Int, DaemonEndToEndTests.Daemon) {
        let port = DaemonEndToEndTests.freePort()
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init"] + initArgs + c)
        let server = try DaemonEndToEndTests.Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(port)", "--plaintext-for-local-testing"], name: "c")
        #expect(DaemonEndToEndTests.eventually(10) { server.logText.contains("listening") })
        return (port, server)
    }

    /// `count` changes of `key`, each setting the title of its own request `PREFIXn`.
    static func handChain(_ key: NodeKey, count: Int, record prefix: String) -> [SignedChange] {
        var prev = Change.zeroHash
        return (1...count).map { seq in
            let c = key.sign(Change(
                origin: key.nodeID, seq: UInt64(seq), hlc: HLC(milliseconds: 1_700_000_000_000 + UInt64(seq), counter: 0), prevHash: prev,
                ops: [Op(collection: "requests", record: "\(prefix)\(seq)", field: "title", value: .text("值\(seq)"), pred: [])]))
            prev = c.hash
            return c
        }
    }

    /// Sends `messages` on a fresh connection to 127.0.0.1:`port`, reads until the daemon
    /// closes or `seconds` pass, and returns what it sent back.
    static func exchange(port: Int, _ messages: [Message], seconds: Int = 3) throws -> [Message] {
        var out = ByteBuffer()
        for m in messages { MessageFrameEncoder.write(m, to: &out) }
        let fd = try Loopback.connect(port: port, timeout: Double(seconds))
        defer { close(fd) }
        Loopback.send(fd, out.readBytes(length: out.readableBytes)!)
        var received = ByteBuffer(bytes: Loopback.readAll(fd))
        var result: [Message] = []
        while let m = try MessageFrameDecoder.next(&received) { result.append(m) }
        return result
    }

    @Test func changesFromAStrangerAreRefusedWithCodesAndTheConnectionStaysOpen() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        // A centre (so a community with a roster), in plaintext so the test can speak by hand.
        let (port, centre) = try Self.plaintextServer(cli, ["--name", "中心", "--role", "centre"])
        let c = ["--db", cli.path("c.db")]
        defer { centre.stop() }

        let key = NodeKey()
        let chain = Self.handChain(key, count: 3, record: "stranger")
        let replies = try Self.exchange(port: port, [
            .hello(Message.Hello(node: key.nodeID, role: .building, name: "陌生节点")),
            .vector(VersionVector()),
            .changes(Message.Batch(id: 1, caughtUp: true, changes: chain.map(\.encoded))),
        ])
        // REFUSED comes before the ACK of the same batch; no ERROR: the session went on until
        // the read timed out.
        let kinds = replies.map(\.kind)
        let refusedAt = try #require(kinds.firstIndex(of: .refused), "replies: \(kinds)")
        let ackAt = try #require(kinds.firstIndex(of: .ack), "replies: \(kinds)")
        #expect(refusedAt < ackAt)
        #expect(!kinds.contains(.error))
        guard case .refused(let batch, let refused) = replies[refusedAt] else { return }
        #expect(batch == 1)
        #expect(refused.map(\.code) == [.notMember, .followsQuarantined, .followsQuarantined])
        #expect(refused.map(\.seq) == [1, 2, 3] && refused.allSatisfy { $0.origin == key.nodeID })
        let listed = try cli.ok(["quarantine", "list", "--json"] + c)
        #expect(listed.components(separatedBy: "\"not_member\"").count == 2)
        #expect(listed.contains("peer \(key.nodeID.short) (陌生节点)"))
        #expect(centre.logText.contains("quarantined change 1 of node \(key.nodeID.short)"))
    }

    @Test func aChangeAlteredOnTheWayIsRefusedAsBadlySignedAndTheRestApplies() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let (port, server) = try Self.plaintextServer(cli, ["--name", "网格", "--role", "grid", "--grid", "1"])
        let c = ["--db", cli.path("c.db")]
        defer { server.stop() }

        // A relay forwards another node's three changes and alters the last one's value.
        let origin = NodeKey(), relay = NodeKey()
        var chain = Self.handChain(origin, count: 3, record: "relayed").map(\.encoded)
        chain[2][40] ^= 1
        let replies = try Self.exchange(port: port, [
            .hello(Message.Hello(node: relay.nodeID, role: .grid, name: "中转")),
            .vector(VersionVector()),
            .changes(Message.Batch(id: 1, caughtUp: true, changes: chain)),
        ])
        guard let refused = replies.compactMap({ m -> [Message.Refusal]? in if case .refused(_, let r) = m { r } else { nil } }).first else {
            Issue.record("no REFUSED in \(replies.map(\.kind))")
            return
        }
        #expect(refused.map(\.code) == [.badSignature] && refused.map(\.seq) == [3])
        #expect(!replies.map(\.kind).contains(.error))
        let vector = try VersionVector(text: try cli.ok(["vector"] + c))
        #expect(vector[origin.nodeID] == 2)
        #expect(try cli.ok(["quarantine", "list", "--json"] + c).contains("bad_signature"))
    }

    /// A hand-driven protocol connection to 127.0.0.1.
    final class FrameSocket {
        let fd: Int32
        private var pending = ByteBuffer()

        init(port: Int) throws {
            fd = try Loopback.connect(port: port, timeout: 0.2)
        }

        func send(_ messages: Message...) {
            var out = ByteBuffer()
            for m in messages { MessageFrameEncoder.write(m, to: &out) }
            Loopback.send(fd, out.readBytes(length: out.readableBytes)!)
        }

        /// Reads until a message satisfies `until` or `seconds` pass; returns all read.
        func receive(seconds: Double, until: (Message) -> Bool) throws -> [Message] {
            var got: [Message] = []
            let deadline = Date().addingTimeInterval(seconds)
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while Date() < deadline {
                let n = recv(fd, &chunk, chunk.count, 0)
                if n == 0 { break }
                if n > 0 { pending.writeBytes(chunk[0..<n]) }
                while let m = try MessageFrameDecoder.next(&pending) {
                    got.append(m)
                    if until(m) { return got }
                }
            }
            return got
        }

        func close() { Glibc.close(fd) }
    }

    /// Found by the fault-injection suite (seed 20261124): a laptop reconnected while its old
    /// connection was still open; the old one closing removed the new session from the daemon's
    /// table, so the centre stopped pushing live changes to that laptop until it reconnected.
    @Test func aNewerConnectionFromTheSamePeerKeepsReceivingWhenTheOlderOneCloses() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let (port, server) = try Self.plaintextServer(cli, ["--name", "网格", "--role", "grid", "--grid", "1"])
        let c = ["--db", cli.path("c.db")]
        defer { server.stop() }
        let serverVector = try VersionVector(text: try cli.ok(["vector"] + c))

        let laptop = NodeKey()
        let hello = Message.hello(Message.Hello(node: laptop.nodeID, role: .building, name: "一号楼"))
        func caughtUp(_ m: Message) -> Bool { if case .changes(let b) = m { b.caughtUp } else { false } }
        let old = try FrameSocket(port: port)
        old.send(hello, .vector(serverVector))
        #expect(try old.receive(seconds: 5, until: caughtUp).contains(where: caughtUp))
        let new = try FrameSocket(port: port)
        new.send(hello, .vector(serverVector))
        #expect(try new.receive(seconds: 5, until: caughtUp).contains(where: caughtUp))
        old.close()
        Thread.sleep(forTimeInterval: 0.5)

        // A write on the server must reach the newer connection live.
        try cli.ok(["request", "add", "--grid", "1", "--building", "2", "--resident", "周一", "--category", "物业", "--title", "推送"] + c)
        func carriesChanges(_ m: Message) -> Bool { if case .changes(let b) = m { !b.changes.isEmpty } else { false } }
        let pushed = try new.receive(seconds: 5, until: carriesChanges)
        #expect(pushed.contains(where: carriesChanges), "received: \(pushed.map(\.kind))")
        new.close()
    }
}
