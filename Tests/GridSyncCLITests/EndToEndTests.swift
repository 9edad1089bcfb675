import Foundation
import GridSyncCore
import GridSyncStore
import Testing

/// The whole user story on real store files, through the real binary.
@Suite struct EndToEndTests {
    func json(_ s: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(s.utf8)) }

    @Test func conflictingEditsMergeAndSettleThroughBundles() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("centre.db")]
        let b = ["--db", cli.path("b3.db")]
        let aID = try cli.ok(["init", "--name", "社区中心", "--role", "centre"] + a)
        #expect(aID.contains("节点 ID："))
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.enrol(b, in: a)

        let id = try cli.ok(["request", "add", "--resident", "张三", "--phone", "13800000000", "--category", "居家养老", "--title", "帮忙买菜", "--due", "2027-01-10"] + b)
        #expect(id.count == 32)
        try cli.ok(["bundle", "export", "--out", cli.path("b1.gsb")] + b)
        #expect(try cli.ok(["bundle", "import", cli.path("b1.gsb")] + a).contains("新增 1 个"))   // its profile came at enrolment

        // Both change the title while apart.
        try cli.ok(["request", "edit", String(id.prefix(6)), "--title", "中心：帮忙买菜和药"] + a)
        try cli.ok(["request", "edit", String(id.prefix(6)), "--title", "楼栋：买菜"] + b)

        // Exchange both ways, each exporting only what the other lacks.
        let vb = try cli.ok(["vector"] + b)
        let va = try cli.ok(["vector"] + a)
        try cli.ok(["bundle", "export", "--out", cli.path("a1.gsb"), "--since", vb] + a)
        try cli.ok(["bundle", "export", "--out", cli.path("b2.gsb"), "--since", va] + b)
        try cli.ok(["bundle", "import", cli.path("b2.gsb")] + a)
        try cli.ok(["bundle", "import", cli.path("a1.gsb")] + b)

        let ca = try cli.ok(["conflicts", "list", "--json"] + a)
        let cb = try cli.ok(["conflicts", "list", "--json"] + b)
        #expect(ca == cb)
        let list = try #require(try json(ca) as? [[String: Any]])
        #expect(list.count == 1)
        let conflict = list[0]
        #expect(conflict["field"] as? String == "title")
        #expect(conflict["record"] as? String == id)
        let values = try #require(conflict["values"] as? [[String: Any]])
        #expect(Set(values.compactMap { $0["value"] as? String }) == ["中心：帮忙买菜和药", "楼栋：买菜"])
        #expect(values.allSatisfy { $0["origin"] is String && $0["time"] is String })
        #expect(conflict["winner"] as? String == values[0]["value"] as? String)
        #expect(try cli.ok(["digest"] + a) == cli.ok(["digest"] + b))

        // The human list shows the conflict; settle it on the centre with the second value.
        let conflictID = try #require(conflict["id"] as? String)
        #expect(try cli.ok(["conflicts", "show", conflictID] + a).contains("← 当前值"))
        let loser = try #require(values[1]["value"] as? String)
        try cli.ok(["conflicts", "resolve", String(conflictID.prefix(5)), "--pick", "2"] + a)
        #expect((try json(try cli.ok(["conflicts", "list", "--json"] + a)) as? [Any])?.isEmpty == true)

        try cli.ok(["bundle", "export", "--out", cli.path("a2.gsb"), "--since", try cli.ok(["vector"] + b)] + a)
        try cli.ok(["bundle", "import", cli.path("a2.gsb")] + b)
        #expect(try cli.ok(["conflicts", "list"] + b).contains("没有冲突"))
        #expect(try cli.ok(["digest"] + a) == cli.ok(["digest"] + b))
        let shown = try #require(try json(try cli.ok(["request", "show", id, "--json"] + b)) as? [String: Any])
        #expect((shown["request"] as? [String: Any])?["title"] as? String == loser)
    }

    @Test func lifecycleAndListFilters() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let r1 = try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "李四", "--category", "物业", "--title", "楼道灯坏了", "--due", "2020-01-01"] + c)
        let r2 = try cli.ok(["request", "add", "--grid", "2", "--building", "8", "--resident", "王五", "--category", "法律咨询", "--title", "咨询遗产", "--urgent"] + c)
        let svc = try cli.ok(["service", "add", "--name", "物业维修", "--provider", "物业公司", "--kind", "unit", "--category", "物业"] + c)
        try cli.ok(["request", "accept", r1, "--note", "已电话联系"] + c)
        try cli.ok(["request", "assign", r1, "--service", String(svc.prefix(6))] + c)
        try cli.ok(["request", "start", r1] + c)
        try cli.ok(["request", "resolve", r1] + c)
        try cli.ok(["request", "rate", r1, "--satisfaction", "满意", "--comment", "很快"] + c)
        try cli.ok(["request", "note", r2, "下周回访"] + c)
        try cli.ok(["request", "reject", r2, "--note", "不属于社区职责", "--yes"] + c)

        func ids(_ extra: [String]) throws -> [String] {
            let list = try #require(try json(try cli.ok(["request", "list", "--json"] + extra + c)) as? [[String: Any]])
            return list.compactMap { $0["id"] as? String }
        }
        #expect(try ids(["--status", "rated"]) == [r1])
        #expect(try ids(["--status", "不予受理"]) == [r2])
        #expect(try ids(["--grid", "2"]) == [r2])
        #expect(try ids(["--category", "物业"]) == [r1])
        #expect(try ids(["--overdue"]).isEmpty)  // r1 is closed, so not overdue
        let list = try #require(try json(try cli.ok(["request", "list", "--json"] + c)) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["status"] as? String }) == ["rated", "rejected"])
        for key in ["id", "status", "grid", "building", "category", "title"] {
            #expect(list.allSatisfy { $0[key] != nil }, "missing \(key)")
        }
        let show = try cli.ok(["request", "show", r1] + c)
        #expect(show.contains("已评价") && show.contains("已电话联系") && show.contains("物业维修"))
        #expect(try cli.ok(["service", "list"] + c).contains("驻区单位"))
        try cli.ok(["service", "retire", svc] + c)
        #expect(try cli.run(["request", "assign", r2, "--service", svc] + c).status != 0)
    }

    @Test func badInputFailsClearlyWithoutPersonalData() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let db = ["--db", cli.path("c.db")]

        let none = try cli.run(["request", "list"] + db)
        #expect(none.status == 5)
        #expect(none.err.contains("gridsync init"))

        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + db)
        let phone = try cli.run(["request", "add", "--resident", "赵六", "--phone", "赵六的手机", "--category", "物业", "--title", "x"] + db)
        #expect(phone.status == 64)
        #expect(!phone.err.contains("赵六"))
        #expect(phone.err.split(separator: "\n").count == 1)

        let missing = try cli.run(["request", "add", "--category", "物业", "--title", "x"] + db)
        #expect(missing.status != 0 && missing.err.contains("--resident"))

        let scope = try cli.run(["request", "add", "--building", "4", "--resident", "赵六", "--category", "物业", "--title", "x"] + db)
        #expect(scope.status == 3)
        #expect(!scope.err.contains("赵六"))

        let id = try cli.ok(["request", "add", "--resident", "赵六", "--phone", "13900000000", "--category", "物业", "--title", "漏水"] + db)
        let transition = try cli.run(["request", "rate", id, "--satisfaction", "满意"] + db)
        #expect(transition.status == 3)
        #expect(transition.err.contains("已办结"))

        let unknown = try cli.run(["request", "show", "ffffffffffff0"] + db)
        #expect(unknown.status == 2)

        let badRating = try cli.run(["request", "rate", id, "--satisfaction", "great"] + db)
        #expect(badRating.status == 64)
        for r in [phone, scope, transition, unknown] {
            #expect(!r.err.contains("13900000000") && !r.err.contains("赵六"))
        }
    }

    @Test func aTamperedChangeIsQuarantinedAndTheRestOfTheBundleApplies() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")]
        let b = ["--db", cli.path("b.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + a)
        try cli.ok(["init", "--name", "网格一", "--role", "grid", "--grid", "1"] + b)
        try cli.enrol(b, in: a)
        for i in 0..<3 {
            try cli.ok(["request", "add", "--grid", "1", "--building", "2", "--resident", "孙七", "--category", "助残", "--title", "轮椅\(i)"] + a)
        }
        let good = cli.path("good.gsb")
        let known = try cli.ok(["vector"] + b)
        try known.write(toFile: cli.path("b.vector"), atomically: true, encoding: .utf8)
        try cli.ok(["bundle", "export", "--out", good, "--since", "@" + cli.path("b.vector")] + a)

        // A relay alters the first change in the signed part and rewrites the checksum so the
        // file looks intact.
        let reader = try ChangeBundle.Reader(path: good)
        var entries = try reader.changes(0..<reader.count).map(\.encoded)
        #expect(entries.count == 3)   // the three requests
        entries[0][try ChangeCodec.coreOffset(entries[0]) + 32 + 7] ^= 1   // inside the HLC
        let bad = cli.path("tampered.gsb")
        _ = try ChangeBundle.write(to: bad) { emit in for e in entries { try emit(e) } }

        let r = try cli.run(["bundle", "import", bad] + b)
        #expect(r.status == 3)
        #expect(r.err.hasPrefix("gridsync：错误：数据包中有 3 个变更被拒绝并隔离（1 bad_signature, 1 broken_chain, 1 follows_quarantined）"))
        #expect(!r.err.contains("孙七") && !r.err.contains("轮椅"))
        // The two changes before the altered one applied; nothing after it did.
        #expect(try cli.ok(["vector"] + b) == known)
        #expect(try cli.ok(["request", "list", "--json"] + b).filter { !$0.isWhitespace } == "[]")
        let listed = try #require(try Self.received(cli.ok(["quarantine", "list", "--json"] + b)))
        #expect(listed.compactMap { $0["reason"] as? String }.sorted() == ["bad_signature", "broken_chain", "follows_quarantined"])
        #expect(listed.allSatisfy { $0["from"] as? String == "bundle tampered.gsb" && $0["origin_name"] as? String == "中心" })
        #expect(listed.allSatisfy { $0["state"] as? String == "held" })
        let table = try cli.ok(["quarantine", "list"] + b)
        #expect(table.contains("签名无效") && table.contains("共 3 条——") && table.contains("暂扣"))

        // The genuine bundle still imports; the genuine changes leave the quarantine, the
        // altered one stays as evidence.
        #expect(try cli.ok(["bundle", "import", good] + b).contains("新增 3 个"))
        let after = try #require(try Self.received(cli.ok(["quarantine", "list", "--json"] + b)))
        #expect(after.compactMap { $0["reason"] as? String } == ["bad_signature"])
        #expect(try cli.ok(["request", "list", "--json"] + a) == cli.ok(["request", "list", "--json"] + b))
    }

    @Test func defaultStorePathAndIDJSON() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        try cli.ok(["init", "--name", "中心", "--role", "centre"])
        #expect(FileManager.default.fileExists(atPath: cli.dir + "/xdg/gridsync/gridsync.db"))
        let id = try #require(try json(try cli.ok(["id", "--json"])) as? [String: Any])
        let nodeID = try #require(id["node_id"] as? String)
        #expect(try NodeID(text: nodeID).text == nodeID)
        // The centre's community ID is derived from its key, in both outputs.
        let community = CommunityID(centre: try NodeID(text: nodeID)).text
        #expect(id["community_id"] as? String == community && id["centre_id"] as? String == nodeID)
        let viaEnv = try cli.run(["id"], env: ["GRIDSYNC_DB": cli.dir + "/xdg/gridsync/gridsync.db"])
        #expect(viaEnv.out.split(separator: "\n").map(String.init) == [nodeID, "社区 \(community)"])
    }

    /// The `received` list of `quarantine list --json`.
    static func received(_ json: String) throws -> [[String: Any]]? {
        (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["received"] as? [[String: Any]]
    }
}
