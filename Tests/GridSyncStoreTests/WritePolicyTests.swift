import Foundation
import GRDB
import GridSyncCore
import Testing

@testable import GridSyncStore

/// A community of a centre, a grid office (grid 1) and two building leads (1/3 and 1/4),
/// enrolled and in sync, on one adjustable clock.
struct Community {
    let clock = TestClock()
    let centre: Store
    let grid: Store
    let b3: Store
    let b4: Store
    var all: [Store] { [centre, grid, b3, b4] }

    init() throws {
        let c = clock
        centre = try Store.inMemory(name: "中心", role: .centre, foundCommunity: true, wallClock: { c.ms })
        grid = try Store.inMemory(name: "一网格", role: .grid, grid: "1", wallClock: { c.ms })
        b3 = try Store.inMemory(name: "三号楼", role: .building, grid: "1", building: "3", wallClock: { c.ms })
        b4 = try Store.inMemory(name: "四号楼", role: .building, grid: "1", building: "4", wallClock: { c.ms })
        let community = try #require(try centre.community())
        try centre.rosterAdd(grid.node.id, name: "一网格", role: .grid, grid: "1", building: nil)
        try centre.rosterAdd(b3.node.id, name: "三号楼", role: .building, grid: "1", building: "3")
        try centre.rosterAdd(b4.node.id, name: "四号楼", role: .building, grid: "1", building: "4")
        for s in [grid, b3, b4] { try s.join(community: community.id, centre: centre.node.id, address: nil) }
        try syncAll()
    }

    func tick(_ seconds: UInt64 = 1) { clock.ms += seconds * 1000 }

    /// Every store gets every change it lacks, through the centre.
    @discardableResult
    func syncAll() throws -> [ApplyReport] {
        var reports: [ApplyReport] = []
        for s in [grid, b3, b4] { reports.append(try Fixture.sync(s, centre)) }
        for s in [grid, b3, b4] { reports.append(try Fixture.sync(centre, s)) }
        return reports
    }

    /// A change signed by `store`'s key, next in its chain, that its CLI would not make.
    func crafted(_ store: Store, _ ops: [Op]) throws -> SignedChange {
        try Fixture.crafted(store, clock, [ops])[0]
    }

    /// Several hand-made changes of `store`, chained one after another.
    func craftedChain(_ store: Store, _ changes: [[Op]]) throws -> [SignedChange] {
        try Fixture.crafted(store, clock, changes)
    }
}

@Suite struct WritePolicyTests {
    // MARK: 1. An honest laptop settling a service conflict

    @Test func aBuildingCannotSettleAServiceConflictAndIsNeverCutOffByOne() throws {
        let c = try Community()
        var input = ServiceInput()
        input.name = "助老送餐"
        input.contact = "王老师"
        let service = try c.centre.addService(input)
        try c.syncAll()
        // Centre and grid edit the contact while apart; the building gets both.
        input = ServiceInput()
        input.contact = "李老师"
        _ = try c.centre.editService(service, input)
        input.contact = "赵老师"
        _ = try c.grid.editService(service, input)
        try c.syncAll()
        try Fixture.sync(c.grid, c.b3)
        let conflict = try #require(try c.b3.conflicts().first { $0.collection == "services" })
        // Refused at once, with the rule it breaks; nothing written.
        let before = try Snapshot(c.b3)
        let e = #expect(throws: GridSyncError.self) { try c.b3.resolveConflict(conflict.id, pick: 1, value: nil) }
        #expect(e?.code == .notPermitted)
        #expect(e?.localized.en.contains("services are written by the centre and grid nodes") == true)
        #expect(try Snapshot(c.b3) == before)

        // Forced through by a modified laptop: the change is void at the centre, and the
        // laptop's next request still arrives.
        let heads = try c.b3.read { db in try RecordStateStatements(db).load(RecordKey(collection: "services", record: service), db) }
        let pred = try #require(heads)["contact"].map { e in
            OpRef(origin: try c.b3.read { db in try OriginTable.load(db).nodeID(e.origin) }, seq: UInt64(e.seq))
        }
        let forced = try c.crafted(c.b3, [Op(collection: "services", record: service, field: "contact", value: .text("李老师"), pred: pred)])
        try c.b3.apply([forced])
        c.tick()
        let next = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3", title: "下一条"))
        let r = try Fixture.sync(c.b3, c.centre)
        #expect(r.quarantined.map(\.reason) == [.outOfScope] && r.quarantined.allSatisfy(\.inLog))
        #expect(r.voided == 1 && r.applied == 1)
        #expect(try c.centre.request(next).title == "下一条")
        #expect(try c.centre.vector()[c.b3.node.id] == (try c.b3.vector()[c.b3.node.id]))
        #expect(try c.centre.conflicts().contains { $0.record == service })  // still open there
        let q = try #require(try c.centre.quarantine().first)
        #expect(q.state == "void" && q.reason == "out_of_scope" && !q.detail.contains("李老师"))
        // What it tried, by record and field; and the centre relays the void change onwards.
        let detail = try c.centre.quarantineDetail(try #require(q.id))
        #expect(detail.writes == [.init(collection: "services", record: service, fields: ["contact"])])
        let toGrid = try Fixture.sync(c.centre, c.grid)
        #expect(toGrid.voided == 1 && toGrid.quarantined.map(\.reason) == [.outOfScope])
        #expect(try c.grid.request(next).title == "下一条")
    }

    @Test func refusalsOfChangesThisNodeNeverMadeAreNotRecorded() throws {
        let c = try Community()
        let made = try c.b3.vector()[c.b3.node.id]
        try c.b3.recordRefusals(by: "hostile", [(made, 16), (made + 1, 16), (UInt64.max, 16), (0, 16)])
        #expect(try c.b3.ownRefusals().map(\.seq) == [Int64(made)])
    }

    // MARK: 2. Notes of other buildings

    @Test func notesAreAppendOnlyInScopeAndTheirAuthorIsTheirOrigin() throws {
        let c = try Community()
        let r3 = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        let r4 = try c.b4.addRequest(Fixture.sampleRequest(grid: "1", building: "4"))
        let note = try c.b3.note(r3, text: "已上门")
        try c.syncAll()
        #expect(try c.centre.notes(ofRequest: r3).map(\.author) == [c.b3.node.id.text])

        let forged = try c.craftedChain(
            c.b4,
            [
                [Op(collection: "notes", record: note, field: "request", value: .text(r4), pred: [])],
                [Op(collection: "notes", record: note, field: "text", value: try Fixture.sealed(c.b4, "篡改", "notes", note, "text", building: "4"), pred: [])],
                [Op(collection: "notes", record: note, field: "_deleted", value: .int(1), pred: [])],
                [
                    Op(collection: "notes", record: "aa00aa00aa00aa00aa00aa00aa00aa00", field: "request", value: .text(r4), pred: []),
                    Op(
                        collection: "notes", record: "aa00aa00aa00aa00aa00aa00aa00aa00", field: "text",
                        value: try Fixture.sealed(c.b4, "中心说", "notes", "aa00aa00aa00aa00aa00aa00aa00aa00", "text", building: "4"), pred: []),
                    Op(
                        collection: "notes", record: "aa00aa00aa00aa00aa00aa00aa00aa00", field: "author",
                        value: .text(c.centre.node.id.text), pred: []),
                ],
                [
                    Op(collection: "notes", record: "bb00bb00bb00bb00bb00bb00bb00bb00", field: "request", value: .text(r3), pred: []),
                    Op(
                        collection: "notes", record: "bb00bb00bb00bb00bb00bb00bb00bb00", field: "text",
                        value: try Fixture.sealed(c.b4, "别楼的", "notes", "bb00bb00bb00bb00bb00bb00bb00bb00", "text", building: "4"), pred: []),
                ],
            ])
        for receiver in [c.centre, c.b3] {
            let r = try receiver.apply(try c.b4.changes(missingFrom: try receiver.vector()) + forged)
            #expect(r.quarantined.map(\.reason) == Array(repeating: .outOfScope, count: 5))
            #expect(r.quarantined.map(\.detail.en).contains { $0.contains("append-only") })
            #expect(r.quarantined.map(\.detail.en).contains { $0.contains("notes.author is filled in by every store itself") })
            #expect(try receiver.notes(ofRequest: r3).map(\.text) == ["已上门"])
            #expect(try receiver.notes(ofRequest: r4).isEmpty)
        }
        // Its own note on its own request applies, with itself as author (the forged changes
        // are in its own log too: the chain goes on after them).
        try c.b4.apply(forged)
        // A change that creates a request and a note on it, the note's ops first, applies.
        let both = try c.crafted(c.b4, [
            Op(collection: "notes", record: "cc00cc00cc00cc00cc00cc00cc00cc00", field: "request", value: .text("dd00dd00dd00dd00dd00dd00dd00dd00"), pred: []),
            Op(
                collection: "notes", record: "cc00cc00cc00cc00cc00cc00cc00cc00", field: "text",
                value: try Fixture.sealed(c.b4, "同一变更", "notes", "cc00cc00cc00cc00cc00cc00cc00cc00", "text", building: "4"), pred: []),
            Op(collection: "requests", record: "dd00dd00dd00dd00dd00dd00dd00dd00", field: "grid", value: .text("1"), pred: []),
            Op(collection: "requests", record: "dd00dd00dd00dd00dd00dd00dd00dd00", field: "building", value: .text("4"), pred: []),
            Op(collection: "requests", record: "dd00dd00dd00dd00dd00dd00dd00dd00", field: "status", value: .text("submitted"), pred: []),
        ])
        let r = try c.centre.apply(try c.b4.changes(missingFrom: try c.centre.vector()) + [both])
        #expect(r.quarantined.isEmpty && r.applied >= 1, "\(r.quarantined)")
        #expect(try c.centre.notes(ofRequest: "dd00dd00dd00dd00dd00dd00dd00dd00").map(\.text) == ["同一变更"])
        try c.b4.apply([both])

        _ = try c.b4.note(r4, text: "自己的")
        try Fixture.sync(c.b4, c.centre)
        #expect(try c.centre.notes(ofRequest: r4).map(\.author) == [c.b4.node.id.text])
    }

    // MARK: 3. Record IDs of one collection never touch another's

    @Test func aRequestNamedLikeARosterCategoryOrProfileRecordBlocksNothing() throws {
        let c = try Community()
        let newcomer = try Store.inMemory(
            name: "五号楼", role: .building, grid: "1", building: "5", wallClock: { [clock = c.clock] in clock.ms })
        let squatted = [newcomer.node.id.text, newcomer.node.id.rosterRecord, Store.categoryID("垃圾分类")]
        // Building 3 writes in-scope requests under those IDs; every receiver accepts them.
        for id in squatted {
            var ops = [("grid", "1"), ("building", "3"), ("status", "submitted")].map {
                Op(collection: "requests", record: id, field: $0.0, value: .text($0.1), pred: [])
            }
            ops.append(Op(collection: "requests", record: id, field: "title", value: try Fixture.sealed(c.b3, "占位", "requests", id, "title", building: "3"), pred: []))
            let r = try c.b3.apply([try c.crafted(c.b3, ops)])
            #expect(r.applied == 1)
        }
        let toCentre = try Fixture.sync(c.b3, c.centre)
        #expect(toCentre.applied == 3 && toCentre.quarantined.isEmpty)

        // The centre enrols the newcomer and adds the category: both work, and the newcomer's
        // profile and everything else reach everyone.
        try c.centre.rosterAdd(newcomer.node.id, name: "五号楼", role: .building, grid: "1", building: "5")
        try c.centre.addCategory("垃圾分类")
        try newcomer.join(community: try #require(try c.centre.community()).id, centre: c.centre.node.id, address: nil)
        try Fixture.sync(newcomer, c.centre)
        try c.syncAll()
        try Fixture.sync(c.centre, newcomer)
        #expect(try c.centre.roster().contains { $0.node_id == newcomer.node.id.text && $0.building == "5" })
        #expect(try newcomer.categories().contains("垃圾分类") && (try c.b4.categories()).contains("垃圾分类"))
        #expect(
            try c.b4.read { db in try String.fetchOne(db, sql: "SELECT name FROM nodes WHERE id = ?", arguments: [newcomer.node.id.text]) }
                == "五号楼")
        for s in c.all { #expect(try Set(s.requests().map(\.id)).isSuperset(of: squatted)) }
        let digests = try (c.all + [newcomer]).map { try $0.digest() }
        #expect(Set(digests).count == 1)
    }

    // MARK: 4. A bounded quarantine

    @Test func strangersAreCountedNotStoredAndHeldChangesHaveLimits() throws {
        let c = try Community()
        let stranger = NodeKey()
        var changes: [SignedChange] = []
        var prev = Change.zeroHash
        let filler = String(repeating: "x", count: 1_000)
        for seq in 1...1_500 {
            let ch = Change(
                origin: stranger.nodeID, seq: UInt64(seq), hlc: HLC(milliseconds: c.clock.ms, counter: UInt16(seq)), prevHash: prev,
                ops: [Op(collection: "requests", record: String(format: "%032x", seq), field: "detail", value: .text(filler), pred: [])])
            let sc = stranger.sign(ch)
            prev = sc.hash
            changes.append(sc)
        }
        let pages = { (s: Store) in try s.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 } }
        let before = try pages(c.centre)
        let r = try c.centre.apply(changes)
        #expect(r.quarantined.count == 1_500 && r.applied == 0)
        // ~1.5 MB offered; the store grows by a few pages only.
        #expect(try pages(c.centre) - before < 20)
        let q = try c.centre.quarantine()
        #expect(q.count == 1 && q[0].state == "counted" && q[0].changes == 1_500 && q[0].last_seq == 1_500)

        // A revoked member's later changes are held whole, at most 256 of them; the rest counted.
        try c.centre.rosterRevoke(c.b4.node.id)
        c.tick()
        for i in 0..<300 { _ = try c.b4.addRequest(Fixture.sampleRequest(grid: "1", building: "4", title: "吊销后 \(i)")) }
        let r2 = try Fixture.sync(c.b4, c.centre)
        #expect(r2.quarantined.count == 300 && r2.quarantined[0].reason == .revoked)
        let held = try c.centre.quarantine().filter { $0.origin == c.b4.node.id.text }
        #expect(held.filter { $0.state == "held" }.count == Limits.maxQuarantinedPerOrigin)
        #expect(held.filter { $0.state == "counted" }.map(\.changes) == [300 - Limits.maxQuarantinedPerOrigin])

        // A roster change retries only the changes of the nodes it names.
        let stillHeld = try c.centre.read { db in try QuarantineTable.retryable(db, origins: [c.b3.node.id]) }
        #expect(stillHeld.isEmpty)
        let b4Held = try c.centre.read { db in try QuarantineTable.retryable(db, origins: [c.b4.node.id]) }
        #expect(b4Held.count == Limits.maxQuarantinedPerOrigin)
    }

    // MARK: 5. A laptop restored from a backup

    @Test func aRestoredLaptopTakesItsChangesBackBeforeWritingAndAForkSaysWhatToDo() throws {
        let dir = TempDir()
        let c = try Community()
        let path = dir.file("b5.db")
        let laptop = try Store.create(
            path: path, name: "五号楼", role: .building, grid: "1", building: "5", wallClock: { [clock = c.clock] in clock.ms })
        try c.centre.rosterAdd(laptop.node.id, name: "五号楼", role: .building, grid: "1", building: "5")
        try laptop.join(community: try #require(try c.centre.community()).id, centre: c.centre.node.id, address: nil)
        try Fixture.sync(laptop, c.centre)
        try Fixture.sync(c.centre, laptop)
        // The backup, taken now.
        try laptop.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        for (n, copy) in [(1, "backup1.db"), (2, "backup2.db")] {
            _ = n
            try FileManager.default.copyItem(atPath: path, toPath: dir.file(copy))
            try FileManager.default.copyItem(atPath: KeyFile.path(forStore: path), toPath: KeyFile.path(forStore: dir.file(copy)))
        }
        c.tick()
        let lost = try laptop.addRequest(Fixture.sampleRequest(grid: "1", building: "5", title: "备份之后"))
        try Fixture.sync(laptop, c.centre)

        // Restored: as soon as it hears from the centre what it holds (the daemon passes on the
        // centre's VECTOR), it refuses to write until it has its own changes back.
        let restored = try Store.open(path: dir.file("backup1.db"), wallClock: { [clock = c.clock] in clock.ms })
        try restored.noteOwnChangesSeen(upTo: try c.centre.vector()[laptop.node.id])
        #expect(try restored.ownChangesMissing() == 1)
        let e = #expect(throws: GridSyncError.self) { try restored.addRequest(Fixture.sampleRequest(grid: "1", building: "5")) }
        #expect(e?.code == .notPermitted && e?.localized.en.contains("restored from an older copy") == true)
        try Fixture.sync(c.centre, restored)
        #expect(try restored.ownChangesMissing() == 0 && (try restored.request(lost)).title == "备份之后")
        c.tick()
        let fresh = try restored.addRequest(Fixture.sampleRequest(grid: "1", building: "5", title: "恢复之后"))
        let r = try Fixture.sync(restored, c.centre)
        #expect(r.applied == 1)
        #expect(try c.centre.request(fresh).title == "恢复之后")

        // Another peer's vector is only recorded, and stops nothing (any node could claim a
        // huge seq to block this one).
        let other = try Store.open(path: dir.file("backup2.db"), wallClock: { [clock = c.clock] in clock.ms })
        var update = PeerUpdate(direction: "out")
        update.peerVector = VersionVector([laptop.node.id: 1_000_000])
        try other.updatePeer("b3:7420", update)
        #expect(try other.ownChangesMissing() == 0)
        _ = try other.addRequest(Fixture.sampleRequest(grid: "1", building: "5", title: "照写"))

        // A copy that wrote before hearing anything has forked: a clear message, nothing changed.
        let forked = try Store.inMemory(
            name: "五号楼", role: .building, grid: "1", building: "5", key: laptop.key, wallClock: { [clock = c.clock] in clock.ms })
        try forked.join(community: try #require(try c.centre.community()).id, centre: c.centre.node.id, address: nil)
        let snapshot = try Snapshot(forked)
        let fork = #expect(throws: GridSyncError.self) { try Fixture.sync(c.centre, forked) }
        #expect(fork?.code == .fork && fork?.localized.en.contains("A laptop restored from a backup") == true)
        #expect(try Snapshot(forked) == snapshot)
    }

    // MARK: 6. Clocks

    @Test func aClockYearsAheadCannotWriteAndDoesNotWinAfterItIsFixed() throws {
        let c = try Community()
        let id = try c.centre.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        try c.syncAll()
        // In a community: a write 10 years past the centre's newest change is refused.
        let real = c.clock.ms
        c.clock.ms = real + 10 * 365 * 24 * 3600 * 1000
        var edit = RequestEdit()
        edit.title = "未来"
        let e = #expect(throws: GridSyncError.self) { try c.b3.editRequest(id, edit) }
        #expect(e?.code == .notPermitted && e?.localized.en.contains("more than 90 days after the newest change from the centre") == true)
        c.clock.ms = real

        // Outside a community nothing says the date is wrong; once fixed, the clock starts
        // again from the wall clock, so a later concurrent edit elsewhere wins.
        let clock = TestClock()
        let a = try Store.inMemory(name: "甲", role: .centre, wallClock: { clock.ms })
        let b = try Store.inMemory(name: "乙", role: .centre, wallClock: { clock.ms })
        let rid = try a.addRequest(Fixture.sampleRequest())
        try Fixture.sync(a, b)
        let now = clock.ms
        clock.ms = now + 10 * 365 * 24 * 3600 * 1000
        edit.title = "十年后"
        _ = try b.editRequest(rid, edit)
        clock.ms = now + 60_000  // fixed
        edit.title = "修好之后"
        _ = try b.editRequest(rid, edit)
        clock.ms = now + 120_000
        edit.title = "甲后写"
        _ = try a.editRequest(rid, edit)
        let bLast = try b.read { db in
            try Int64.fetchOne(
                db,
                sql:
                    "SELECT max(hlc) FROM changes c JOIN origins o ON o.idx = c.origin WHERE o.node_id = ? AND c.seq = (SELECT max_seq FROM origins WHERE node_id = ?)",
                arguments: [b.node.id.text, b.node.id.text])
        }
        #expect(HLC(raw: UInt64(bitPattern: try #require(bLast))).milliseconds == now + 60_000)
        try Fixture.sync(a, b)
        try Fixture.sync(b, a)
        #expect(try a.request(rid).title == "甲后写" && (try b.request(rid)).title == "甲后写")

        // An absurd hlc is held as a bad clock everywhere, whoever sends it.
        let absurd = c.b3.key.sign(
            Change(
                origin: c.b3.node.id, seq: try c.b3.vector()[c.b3.node.id] + 1, hlc: HLC(raw: .max),
                prevHash: try #require(try c.b3.read { db in try OriginTable.load(db).state(c.b3.node.id)?.lastHash }),
                ops: [Op(collection: "requests", record: id, field: "title", value: .text("x"), pred: [])]))
        for receiver in [c.centre, c.grid] {
            let r = try receiver.apply([absurd])
            #expect(r.quarantined.map(\.reason) == [.badClock] && r.applied == 0)
        }
    }

    // MARK: 7. Re-scoping

    @Test func aRescopedLaptopWritesWithTheRostersScope() throws {
        let c = try Community()
        try c.centre.rosterAdd(c.b3.node.id, name: "三号楼", role: .building, grid: "1", building: "5")
        try Fixture.sync(c.centre, c.b3)
        #expect(try c.b3.localWriter().scopeText.en == "a building node of grid 1, building 5")
        let e = #expect(throws: GridSyncError.self) { try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3")) }
        #expect(e?.code == .notPermitted && e?.localized.en.contains("outside the scope of a building node of grid 1, building 5") == true)
        // Without a place, a request lands in the roster's building, and the centre takes it.
        let id = try c.b3.addRequest(NewRequest(grid: nil, building: nil, resident: "张三", category: "物业", title: "新楼"))
        #expect(try c.b3.request(id).building == "5")
        let r = try Fixture.sync(c.b3, c.centre)
        #expect(r.quarantined.isEmpty)
        #expect(try c.centre.request(id).building == "5")
        // Revoked: the laptop knows it at once.
        try c.centre.rosterRevoke(c.b3.node.id)
        try Fixture.sync(c.centre, c.b3)
        let revoked = #expect(throws: GridSyncError.self) {
            try c.b3.addRequest(NewRequest(grid: nil, building: nil, resident: "张三", category: "物业", title: "x"))
        }
        #expect(revoked?.localized.en.contains("revoked by the centre") == true)
    }

    // MARK: Migration v5

    @Test func migrationV5KeepsRecordsAndConflictsUnderTheirCollection() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: "v4-community-roster")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO origins (idx, node_id, public_key, max_seq, last_hash) VALUES (1, 'n', x'01', 2, x'00');
                    INSERT INTO record_state (record, collection, heads) VALUES ('r1', 'requests', x'00'), ('s1', 'services', x'00');
                    INSERT INTO change_records (record, pos) VALUES ('r1', 1), ('r1', 2), ('s1', 2);
                    INSERT INTO open_conflicts (id, record, field) VALUES ('old', 'r1', 'title');
                    INSERT INTO conflict_values (conflict, origin, seq, hlc, value) VALUES ('old', 1, 1, 5, 'a'), ('old', 1, 2, 6, 'b');
                    """)
        }
        try Migrations.migrator.migrate(queue)
        let id = ConflictID.make(collection: "requests", record: "r1", field: "title")
        let (records, history, ids, values) = try queue.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT collection, record FROM record_state ORDER BY record").map {
                    "\($0[0] as String)/\($0[1] as String)"
                },
                try Int.fetchOne(db, sql: "SELECT count(*) FROM change_records WHERE collection = 'requests' AND record = 'r1'"),
                try String.fetchAll(db, sql: "SELECT id FROM open_conflicts"),
                try String.fetchAll(db, sql: "SELECT value FROM conflicts WHERE conflict = ? ORDER BY seq", arguments: [id])
            )
        }
        #expect(records == ["requests/r1", "services/s1"])
        #expect(history == 2)
        #expect(ids == [id])
        #expect(values == ["a", "b"])
    }

    @Test func conflictIDsHashTheCollectionRecordAndField() {
        // The worked example of Protocol/SPEC.md §2.4.
        #expect(ConflictID.make(collection: "requests", record: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", field: "title") == "7c8dbf92d59b")
        #expect(ConflictID.make(collection: "services", record: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", field: "title") != "7c8dbf92d59b")
    }

    // MARK: Every table column comes from the schema

    @Test func everyCollectionsTableHasExactlyTheSchemasColumns() throws {
        let store = try Store.inMemory(name: "x", role: .centre)
        try store.read { db in
            for schema in Schema.all {
                // Columns added by later migrations come after `deleted`; the upserts name them.
                let columns = try db.columns(in: schema.table).map(\.name)
                #expect(columns.sorted() == (["id"] + schema.fields + ["deleted"]).sorted(), "table \(schema.table)")
                #expect(columns.count == schema.fields.count + 2, "table \(schema.table)")
            }
        }
    }
}
