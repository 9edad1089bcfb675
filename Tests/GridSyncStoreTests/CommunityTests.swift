import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// A community: the centre's roster decides whose changes every node applies.
@Suite struct CommunityTests {
    let clock = TestClock()
    let centre: Store
    let b1: Store
    let b2: Store

    init() throws {
        let c = clock
        centre = try Store.inMemory(name: "中心", role: .centre, foundCommunity: true, wallClock: { c.ms })
        b1 = try Store.inMemory(name: "一号楼", role: .building, grid: "1", building: "1", wallClock: { c.ms })
        b2 = try Store.inMemory(name: "二号楼", role: .building, grid: "1", building: "2", wallClock: { c.ms })
    }

    func tick(_ seconds: UInt64 = 1) { clock.ms += seconds * 1000 }

    /// The centre enrols both buildings; both join.
    func enrolBoth() throws {
        let community = try #require(try centre.community())
        try centre.rosterAdd(b1.node.id, name: "一号楼", role: .building, grid: "1", building: "1")
        try centre.rosterAdd(b2.node.id, name: "二号楼", role: .building, grid: "1", building: "2")
        for b in [b1, b2] { try b.join(community: community.id, centre: centre.node.id, address: nil) }
        // As `gridsync join` does: the profiles reach the centre, the key grants come back.
        for b in [b1, b2] { try Fixture.sync(b, centre) }
        for b in [b1, b2] { try Fixture.sync(centre, b) }
    }

    /// A change signed by `store`'s own key that its CLI would never make.
    func crafted(_ store: Store, _ ops: [Op]) throws -> SignedChange {
        try Fixture.crafted(store, clock, [ops])[0]
    }

    @Test func theCommunityIDDerivesFromTheCentreKeyAndCatchesTypos() throws {
        let community = try #require(try centre.community())
        #expect(community.id == CommunityID(centre: centre.node.id))
        #expect(community.id.isCentre(centre.node.id) && !community.id.isCentre(b1.node.id))
        #expect(try CommunityID(text: community.id.text.lowercased()) == community.id)
        var typo = Array(community.id.text)
        typo[3] = typo[3] == "A" ? "B" : "A"
        #expect(throws: GridSyncError.self) { try CommunityID(text: String(typo)) }
        // Joining with a centre whose key does not hash to the ID is refused.
        let e = #expect(throws: GridSyncError.self) { try b1.join(community: community.id, centre: b2.node.id, address: nil) }
        #expect(e?.code == .notPermitted)
        #expect(try b1.community() == nil)
    }

    @Test func anUnknownNodeIsQuarantinedAndReleasedWhenEnrolled() throws {
        let id = try b1.addRequest(Fixture.sampleRequest(grid: "1", building: "1"))
        let r = try Fixture.sync(b1, centre)
        #expect(r.applied == 0 && r.quarantined.map(\.reason) == [.notMember, .followsQuarantined])
        #expect(try centre.requests().isEmpty)
        // A stranger's changes are counted, not kept.
        let q = try centre.quarantine()
        #expect(q.count == 1 && q[0].state == "counted" && q[0].changes == 2 && q[0].origin == b1.node.id.text)
        #expect(q[0].seq == 1 && q[0].last_seq == 2 && q[0].reason == "not_member")
        #expect(try centre.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine") } == 0)
        #expect(!q.contains { $0.detail.contains("张三") })
        // Offered again (as a sender does, its changes not being in the ACK's vector): still one
        // line, still two changes.
        try Fixture.sync(b1, centre)
        #expect(try centre.quarantine().map(\.changes) == [2])

        // Enrolling the node forgets the count; the next sync applies what it sent.
        try centre.rosterAdd(b1.node.id, name: "一号楼", role: .building, grid: "1", building: "1")
        #expect(try centre.quarantine().isEmpty)
        // Its profile applies. The request it wrote before it belonged to a community carries
        // residents' data in clear, which no node of a community accepts: void, in the log.
        let again = try Fixture.sync(b1, centre)
        #expect(again.applied == 1 && again.voided == 1)
        #expect(again.quarantined.map(\.reason) == [.outOfScope])
        #expect(again.quarantined.first?.detail.en.contains("must be sealed") == true)
        #expect(throws: GridSyncError.self) { try centre.request(id) }
        #expect(try centre.vector()[b1.node.id] == 2)
    }

    @Test func aBuildingWritingAnotherBuildingsRequestIsRefusedLocallyAndQuarantinedRemotely() throws {
        try enrolBoth()
        try Fixture.sync(centre, b1)
        try Fixture.sync(centre, b2)
        // Locally: the CLI's store API refuses.
        let local = #expect(throws: GridSyncError.self) { try b1.addRequest(Fixture.sampleRequest(grid: "1", building: "2")) }
        #expect(local?.code == .notPermitted)

        // Forced through: a change signed by building 1 creating a request of building 2,
        // followed by a legitimate one of its own.
        let legit = try b1.addRequest(Fixture.sampleRequest(grid: "1", building: "1", title: "自己楼的"))
        let forged = try crafted(b1, [
            Op(collection: "requests", record: "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", field: "grid", value: .text("1"), pred: []),
            Op(collection: "requests", record: "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", field: "building", value: .text("2"), pred: []),
            Op(collection: "requests", record: "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", field: "title", value: .text("伪造"), pred: []),
        ])
        var batch = try b1.changes(missingFrom: try centre.vector())
        batch.append(forged)
        let path = NSTemporaryDirectory() + "gridsync-crafted-\(UUID().uuidString).bundle"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Fixture.writeBundle(batch.map(\.encoded), to: path)
        let report = try centre.importBundle(at: path).apply
        #expect(report.quarantined.map(\.reason) == [.outOfScope])
        #expect(try centre.request(legit).title == "自己楼的")
        #expect(try centre.requests().map(\.id) == [legit])
        let q = try #require(try centre.quarantine().first)
        #expect(q.reason == "out_of_scope" && q.origin == b1.node.id.text && q.from.hasPrefix("bundle "))
        #expect(q.detail.contains("楼栋 2") && !q.detail.contains("伪造"))

        // Building 2 judges it the same way when it comes straight from building 1.
        let r2 = try b2.apply(try b1.changes(missingFrom: try b2.vector()) + [forged])
        #expect(r2.quarantined.map(\.reason) == [.outOfScope])
        #expect(Set(try b2.requests().map(\.id)) == Set(try centre.requests().map(\.id)))
        #expect(try b2.requests().map(\.id) == [legit])
    }

    @Test func onlyTheCentreWritesTheRosterAndOnlyCentreAndGridWriteServices() throws {
        try enrolBoth()
        try Fixture.sync(centre, b1)
        // The real roster record of building 1 (member-…), its role raised to grid, with preds
        // naming the centre's heads: as a modified laptop would forge it.
        let record = b1.node.id.rosterRecord
        let heads = try #require(try b1.read { db in try RecordStateStatements(db).load(RecordKey(collection: "roster", record: record), db) })
        let pred = heads["role"].map { OpRef(origin: centre.node.id, seq: UInt64($0.seq)) }
        #expect(!pred.isEmpty)
        let selfEnrol = try crafted(b1, [Op(collection: "roster", record: record, field: "role", value: .text("grid"), pred: pred)])
        let r1 = try centre.apply(try b1.changes(missingFrom: try centre.vector()) + [selfEnrol])
        #expect(r1.quarantined.map(\.reason) == [.outOfScope])
        #expect(try centre.roster().first { $0.node_id == b1.node.id.text }?.role == "building")
        // Building 1's own copy judges it the same way.
        try b1.apply([selfEnrol])
        #expect(try b1.roster().first { $0.node_id == b1.node.id.text }?.role == "building")

        let b2own = try b2.changes(missingFrom: try centre.vector())
        try centre.apply(b2own)
        let service = try crafted(b2, [Op(collection: "services", record: "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e", field: "name", value: .text("冒名服务"), pred: [])])
        let r2 = try centre.apply([service])
        #expect(r2.quarantined.map(\.reason) == [.outOfScope])
        #expect(try centre.services().isEmpty)
    }

    @Test func aRevokedNodeIsRefusedFromTheMomentOfRevocation() throws {
        try enrolBoth()
        try Fixture.sync(centre, b1)
        tick()
        let before = try b1.addRequest(Fixture.sampleRequest(grid: "1", building: "1", title: "吊销前"))
        tick(60)
        try centre.rosterRevoke(b1.node.id)
        tick(60)
        let after = try b1.addRequest(Fixture.sampleRequest(grid: "1", building: "1", title: "吊销后"))
        let r = try Fixture.sync(b1, centre)
        #expect(r.applied == 1)   // the request made before revocation (its profile came at enrolment)
        #expect(r.quarantined.map(\.reason) == [.revoked])
        #expect(try centre.request(before).title == "吊销前")
        #expect(throws: GridSyncError.self) { try centre.request(after) }
        #expect(try centre.roster().first { $0.node_id == b1.node.id.text }?.status == "revoked")
        let membership = try centre.membership()
        #expect(membership.refusal(of: b1.node.id)?.contains("was revoked at") == true)
        #expect(membership.refusal(of: b2.node.id) == nil && membership.refusal(of: centre.node.id) == nil)
        #expect(membership.refusal(of: NodeKey().nodeID)?.contains("is not on the community's roster") == true)
        // Building 2 learns the revocation from the centre and refuses building 1 the same way.
        try Fixture.sync(centre, b2)
        let r2 = try b2.apply(try b1.changes(missingFrom: try b2.vector()))
        #expect(r2.quarantined.map(\.reason) == [.revoked])
        // Re-enrolling a revoked key is refused.
        #expect(throws: GridSyncError.self) { try centre.rosterAdd(b1.node.id, name: "一号楼", role: .building, grid: "1", building: "1") }
    }

    @Test func rosterCommandsAreTheCentresAlone() throws {
        try enrolBoth()
        let e = #expect(throws: GridSyncError.self) { try b1.rosterAdd(b2.node.id, name: "x", role: .building, grid: "1", building: "2") }
        #expect(e?.code == .notPermitted)
        #expect(throws: GridSyncError.self) { try centre.rosterAdd(b2.node.id, name: "x", role: .building, grid: "1", building: nil) }
        #expect(throws: GridSyncError.self) { try centre.rosterRevoke(NodeKey().nodeID) }
    }

    @Test func aBuildingMayEditInTheSameBatchARequestTheCentreCreatedForIt() throws {
        try enrolBoth()
        let id = try centre.addRequest(Fixture.sampleRequest(grid: "1", building: "2", title: "中心登记"))
        try Fixture.sync(centre, b2)
        var edit = RequestEdit()
        edit.title = "二号楼补充"
        _ = try b2.editRequest(id, edit)
        // A third node receives the centre's creation and the building's edit in one batch.
        let b1Batch = try centre.changes(missingFrom: try b1.vector()) + b2.changes(missingFrom: try centre.vector())
        let r = try b1.apply(b1Batch)
        #expect(r.quarantined.isEmpty, "\(r.quarantined)")
        // Building 1 applies both but reads neither title: they are sealed for building 2.
        #expect(try b1.request(id).unreadable.contains("title"))
        try centre.apply(try b2.changes(missingFrom: try centre.vector()))
        #expect(try centre.request(id).title == "二号楼补充")
        #expect(try b1.request(id).clearPart == centre.request(id).clearPart)
    }
}
