import Foundation
import GridSyncCore
import GridSyncStore
import Testing

/// The write policy as users meet it, through the real binary: a building lead settling a
/// service conflict is told no at once and keeps syncing; a refused change is shown on both
/// ends; the quarantine can be inspected, retried and discarded.
@Suite(.serialized) struct WritePolicyEndToEndTests {
    typealias Daemon = DaemonEndToEndTests.Daemon

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// Copies what `to` lacks from `from` through a bundle file, as a user would.

    @Test func aBuildingLeadCannotSettleAServiceConflictAndKeepsSyncing() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")], g = ["--db", cli.path("g.db")], b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "一网格", "--role", "grid", "--grid", "1"] + g)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.enrol(g, in: c)
        try cli.enrol(b, in: c)
        let service = try cli.ok(["service", "add", "--name", "助老送餐", "--provider", "社区食堂", "--contact", "王老师"] + c)
        #expect(try cli.carry(c, g, file: "c-g.gsb").status == 0)
        #expect(try cli.carry(c, b, file: "c-b.gsb").status == 0)
        // Centre and grid office edit the contact while apart; the laptop gets both.
        try cli.ok(["service", "edit", service, "--contact", "李老师"] + c)
        try cli.ok(["service", "edit", service, "--contact", "赵老师"] + g)
        #expect(try cli.carry(c, b, file: "c-b2.gsb").status == 0)
        #expect(try cli.carry(g, b, file: "g-b.gsb").status == 0)
        let conflicts = try #require(try Self.json(cli.ok(["conflicts", "list", "--json"] + b)) as? [[String: Any]])
        let conflict = try #require(conflicts.first { $0["collection"] as? String == "services" }?["id"] as? String)

        // Both ways of writing the service are refused at once, exit 3, store unchanged.
        let digest = try cli.ok(["digest"] + b)
        #expect(try cli.run(["service", "edit", service, "--contact", "钱老师"] + b).status == 3)
        let resolve = try cli.run(["conflicts", "resolve", conflict, "--pick", "1"] + b)
        #expect(resolve.status == 3)
        #expect(resolve.err.contains("服务清单由社区中心和网格节点写入"))
        #expect(!resolve.err.contains("李老师") && !resolve.err.contains("赵老师"))
        #expect(try cli.ok(["digest"] + b) == digest)

        // The lead's next request reaches the centre: nothing was cut off.
        let id = try cli.ok(
            ["request", "add", "--resident", "张阿姨", "--phone", "13800001234", "--category", "居家养老", "--title", "每周送餐上门"] + b)
        let imported = try cli.carry(b, c, file: "b-c.gsb")
        #expect(imported.status == 0, "\(imported.err)")
        #expect(try cli.run(["request", "show", id] + c).status == 0)
        // The grid office settles it instead, once it has the centre's edit.
        #expect(try cli.carry(c, g, file: "c-g2.gsb").status == 0)
        try cli.ok(["conflicts", "resolve", conflict, "--pick", "1"] + g)
    }

    @Test func aHeldChangeCanBeShownRetriedAndDiscardedByTheCentreOnly() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")], b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.enrol(b, in: c)
        #expect(try cli.carry(c, b, file: "c-b.gsb").status == 0)
        #expect(try cli.carry(b, c, file: "b-c.gsb").status == 0)
        let bID = try #require((try Self.json(cli.ok(["id", "--json"] + b)) as? [String: Any])?["node_id"] as? String)
        try cli.ok(["roster", "revoke", bID, "--yes"] + c)
        Thread.sleep(forTimeInterval: 0.01)
        try cli.ok(["request", "add", "--resident", "张阿姨", "--phone", "13800001234", "--category", "居家养老", "--title", "吊销之后"] + b)
        let imported = try cli.carry(b, c, file: "b-c2.gsb")
        #expect(imported.status == 3 && imported.err.contains("1 revoked"))

        let listing = try #require(try Self.json(cli.ok(["quarantine", "list", "--json"] + c)) as? [String: Any])
        let entry = try #require((listing["received"] as? [[String: Any]])?.first)
        #expect(entry["state"] as? String == "held" && entry["reason"] as? String == "revoked")
        let number = try #require(entry["id"] as? Int)
        let shown = try cli.ok(["quarantine", "show", String(number)] + c)
        #expect(shown.contains("requests") && shown.contains("title") && shown.contains("resident"))
        #expect(!shown.contains("张阿姨") && !shown.contains("13800001234") && !shown.contains("吊销之后"))
        // Retried, still refused: exit 3, still held.
        #expect(try cli.run(["quarantine", "release", String(number)] + c).status == 3)
        #expect(try cli.run(["quarantine", "show", "999"] + c).status == 2)
        // Only the centre discards.
        #expect(try cli.run(["quarantine", "discard", String(number)] + b).status == 3)
        try cli.ok(["quarantine", "discard", String(number)] + c)
        #expect(try cli.ok(["quarantine", "list"] + c).contains("隔离区为空"))
    }

    @Test func theSenderOfARefusedChangeShowsItInStatusQuarantineAndMetrics() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = DaemonEndToEndTests.freePort()
        let mport = DaemonEndToEndTests.freePort()
        let c = ["--db", cli.path("c.db")], b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.enrol(b, in: c)
        #expect(try cli.carry(c, b, file: "c-b.gsb").status == 0)
        // A modified laptop signs a change writing the roster into its own log, then writes a
        // request as usual.
        do {
            let store = try Store.open(path: cli.path("b.db"))
            let mine = try store.changes(missingFrom: VersionVector()).filter { $0.change.origin == store.node.id }
            let last = try #require(mine.last)
            let forged = store.nodeKey.sign(
                Change(
                    origin: store.node.id, seq: last.change.seq + 1, hlc: HLC(milliseconds: Store.systemClock(), counter: 0),
                    prevHash: last.hash,
                    ops: [Op(collection: "roster", record: store.node.id.rosterRecord, field: "role", value: .text("grid"), pred: [])]))
            #expect(try store.apply([forged]).voided == 1)
        }
        let id = try cli.ok(["request", "add", "--resident", "张阿姨", "--category", "居家养老", "--title", "之后的需求"] + b)

        let centre = try Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(port)"], name: "c")
        defer { centre.stop() }
        let laptop = try Daemon(
            cli: cli, args: b + ["--listen", "none", "--peer", "127.0.0.1:\(port)", "--metrics", "127.0.0.1:\(mport)"], name: "b")
        defer { laptop.stop() }
        #expect(
            DaemonEndToEndTests.eventually(20) { (try? cli.run(["request", "show", id] + c))?.status == 0 },
            "logs:\n\(centre.logText)\n\(laptop.logText)")
        #expect(
            DaemonEndToEndTests.eventually(10) {
                ((try? Self.json(cli.ok(["status", "--json"] + b))) as? [String: Any])?["own_refused"] as? Int == 1
            }, "laptop log:\n\(laptop.logText)")
        let listing = try #require(try Self.json(cli.ok(["quarantine", "list", "--json"] + b)) as? [String: Any])
        let own = try #require(listing["own_refused"] as? [[String: Any]])
        #expect(own.count == 1 && own.first?["code"] as? Int == 16)
        #expect(try cli.ok(["status"] + b).contains("被对端拒绝"))
        #expect(
            DaemonEndToEndTests.eventually(10) {
                MetricsEndpointTests.value(
                    "gridsync_own_refused_changes", in: (try? MetricsEndpointTests.get(port: mport, path: "/metrics").body) ?? "") == 1
            })
        // On the centre: one void change, in the log, and the chain went on.
        let received = try #require(try EndToEndTests.received(cli.ok(["quarantine", "list", "--json"] + c)))
        #expect(received.map { $0["state"] as? String } == ["void"])
    }

    @Test func aLaptopRestoredFromACopyTakesItsChangesBackFromTheCentresDaemon() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = DaemonEndToEndTests.freePort()
        let c = ["--db", cli.path("c.db")], b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.enrol(b, in: c)
        #expect(try cli.carry(c, b, file: "c-b.gsb").status == 0)
        // The backup (no process has the store open: the WAL is folded in).
        for suffix in ["", ".key"] {
            try FileManager.default.copyItem(atPath: cli.path("b.db") + suffix, toPath: cli.path("backup.db") + suffix)
        }
        let lost = try cli.ok(["request", "add", "--resident", "张阿姨", "--category", "物业", "--title", "备份之后"] + b)
        #expect(try cli.carry(b, c, file: "b-c.gsb").status == 0)
        // The laptop dies; its copy is put back.
        for suffix in ["", ".key"] {
            try FileManager.default.removeItem(atPath: cli.path("b.db") + suffix)
            try FileManager.default.copyItem(atPath: cli.path("backup.db") + suffix, toPath: cli.path("b.db") + suffix)
        }
        #expect(try cli.run(["request", "show", lost] + b).status == 2)
        let centre = try Daemon(cli: cli, args: c + ["--listen", "127.0.0.1:\(port)"], name: "c")
        defer { centre.stop() }
        let laptop = try Daemon(cli: cli, args: b + ["--listen", "none", "--peer", "127.0.0.1:\(port)"], name: "b")
        defer { laptop.stop() }
        #expect(DaemonEndToEndTests.eventually(20) { (try? cli.run(["request", "show", lost] + b))?.status == 0 }, "\(laptop.logText)")
        let fresh = try cli.ok(["request", "add", "--resident", "张阿姨", "--category", "物业", "--title", "恢复之后"] + b)
        #expect(
            DaemonEndToEndTests.eventually(20) { (try? cli.run(["request", "show", fresh] + c))?.status == 0 },
            "\(centre.logText)\n\(laptop.logText)")
        #expect(!centre.logText.contains("fork") && !laptop.logText.contains("fork"))
    }
}
