import Foundation
import GRDB
import GridSyncCore
import Testing

@testable import GridSyncStore

/// Residents' data sealed per scope: relayed by every node, readable by the centre, the grid
/// and the building it belongs to, erasable everywhere (SPEC §2.7–2.9).
@Suite struct SealingTests {
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        Data(haystack).range(of: Data(needle.utf8)) != nil
    }

    /// Every byte a store holds for its records: change bodies, heads, current values.
    static func storedBytes(_ s: Store) throws -> [UInt8] {
        try s.read { db in
            var out: [UInt8] = []
            for sql in ["SELECT body FROM changes", "SELECT heads FROM record_state", "SELECT change FROM quarantine"] {
                for d in try Data.fetchAll(db, sql: sql) { out += Array(d) }
            }
            return out + (try tableBytes(["requests", "request_notes"], db))
        }
    }

    /// Every text and blob byte of `tables`.
    static func tableBytes(_ tables: [String], _ db: Database) throws -> [UInt8] {
        var out: [UInt8] = []
        for table in tables {
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                for (_, v) in row {
                    switch v.storage {
                    case .string(let t): out += Array(t.utf8)
                    case .blob(let d): out += Array(d)
                    default: break
                    }
                }
            }
        }
        return out
    }

    @Test func aBuildingReadsItsOwnResidentsAndRelaysAnothersUnread() throws {
        let c = try Community()
        let r3 = try c.b3.addRequest(NewRequest(grid: "1", building: "3", room: "301", resident: "张三丰", phone: "13811112222", category: "居家养老", title: "三楼买菜"))
        let r4 = try c.b4.addRequest(NewRequest(grid: "1", building: "4", room: "402", resident: "李四光", phone: "13933334444", category: "物业", title: "四楼修灯"))
        _ = try c.b4.note(r4, text: "李四光家已上门")
        try c.syncAll()
        try c.syncAll()
        // Building 3 holds building 4's request and note — sealed — and relays them.
        let mine = try c.b3.request(r3)
        #expect(mine.resident == "张三丰" && mine.phone == "13811112222" && mine.room == "301" && mine.unreadable.isEmpty)
        let theirs = try c.b3.request(r4)
        #expect(theirs.resident == nil && theirs.phone == nil && theirs.title == "")
        #expect(Set(theirs.unreadable) == ["room", "resident", "phone", "title"])
        #expect(theirs.category == "物业" && theirs.status == .submitted && theirs.building == "4")
        #expect(try c.b3.notes(ofRequest: r4).map(\.readable) == [false])
        let bytes = try Self.storedBytes(c.b3)
        for secret in ["李四光", "13933334444", "四楼修灯", "已上门"] { #expect(!Self.contains(bytes, secret), "\(secret)") }
        // Nor its own residents in clear: every personal value rests sealed.
        for secret in ["张三丰", "13811112222", "三楼买菜"] { #expect(!Self.contains(bytes, secret), "\(secret)") }
        // The centre and the grid office read both.
        for reader in [c.centre, c.grid] {
            #expect(try reader.request(r4).resident == "李四光" && reader.request(r3).phone == "13811112222")
            #expect(try reader.notes(ofRequest: r4).map(\.text) == ["李四光家已上门"])
        }
        // Relayed through building 3 to a fresh grid store, it still verifies and opens there.
        let fresh = try Store.inMemory(name: "对照", role: .centre)
        let report = try fresh.apply(try c.b3.changes(missingFrom: VersionVector()))
        #expect(report.quarantined.isEmpty && report.applied > 0)
        #expect(Set(try c.all.map { try $0.digest() }).count == 1)
    }

    @Test func aConflictOnASealedFieldIsTheSameEverywhereAndShownToReaders() throws {
        let c = try Community()
        let id = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        try c.syncAll()
        c.tick()
        var e1 = RequestEdit()
        e1.phone = "13800001111"
        _ = try c.b3.editRequest(id, e1)
        var e2 = RequestEdit()
        e2.phone = "13800002222"
        _ = try c.grid.editRequest(id, e2)
        // The same value written on two nodes at once is no conflict.
        var same = RequestEdit()
        same.resident = "张三（改）"
        _ = try c.b3.editRequest(id, same)
        _ = try c.grid.editRequest(id, same)
        try c.syncAll()
        try c.syncAll()
        for s in c.all {
            let conflicts = try s.conflicts()
            #expect(conflicts.map(\.field) == ["phone"], "\(s.node.name)")
        }
        let ids = Set(try c.all.map { try $0.conflicts().map(\.id) })
        #expect(ids.count == 1)
        for reader in [c.centre, c.grid, c.b3] {
            #expect(Set(try reader.conflicts()[0].values.map(\.value)) == [.text("13800001111"), .text("13800002222")])
        }
        #expect(try c.b4.conflicts()[0].values.map(\.value) == [.unreadable, .unreadable])
        #expect(Set(try c.all.map { try $0.digest() }).count == 1)
        // A node that cannot read the values cannot pick one (it would write nothing over them).
        let blind = #expect(throws: GridSyncError.self) { try c.b4.resolveConflict(ids.first![0], pick: 1, value: nil) }
        #expect(blind?.localized.en.contains("cannot read value 1") == true)
        // A reader settles it; every node sees it gone.
        _ = try c.b3.resolveConflict(ids.first![0], pick: nil, value: "13800003333")
        try c.syncAll()
        try c.syncAll()
        #expect(try c.all.allSatisfy { try $0.conflicts().isEmpty })
        #expect(try c.centre.request(id).phone == "13800003333")
    }

    @Test func aSealedValueCopiedElsewhereOrForAnotherScopeIsRefusedOrUnread() throws {
        let c = try Community()
        let r4 = try c.b4.addRequest(NewRequest(grid: "1", building: "4", resident: "李四", phone: "13900000000", category: "物业", title: "灯"))
        let r3 = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        try c.syncAll()
        try c.syncAll()
        // Building 3 copies building 4's sealed phone into its own request: refused everywhere
        // (sealed for another scope than where the record lies), its chain goes on.
        let stolen = try c.b3.read { db in try FieldValue(try Row.fetchOne(db, sql: "SELECT phone FROM requests WHERE id = ?", arguments: [r4])![0] as DatabaseValue) }
        let copy = try c.crafted(c.b3, [Op(collection: "requests", record: r3, field: "phone", value: stolen, pred: [])])
        try c.b3.apply([copy])
        for receiver in [c.centre, c.grid] {
            let r = try receiver.apply([copy])
            #expect(r.quarantined.map(\.reason) == [.outOfScope])
            #expect(r.quarantined[0].detail.en.contains("sealed for another scope"))
        }
        // A value sealed for its own scope but copied from another record does not open there.
        let own = try c.b3.read { db in try FieldValue(try Row.fetchOne(db, sql: "SELECT resident FROM requests WHERE id = ?", arguments: [r3])![0] as DatabaseValue) }
        let other = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3", title: "另一件"))
        let moved = try c.crafted(c.b3, [Op(collection: "requests", record: other, field: "phone", value: own, pred: [])])
        try c.b3.apply([moved])
        try c.centre.apply(try c.b3.changes(missingFrom: try c.centre.vector()))
        #expect(try c.centre.request(other).unreadable == ["phone"])
        // A box altered after signing is refused by every node, reader or not: its commitment,
        // computed on receipt, is not the one the origin signed.
        let honest = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3", title: "真的"))
        let sc = try #require(try c.b3.changes(missingFrom: try c.b4.vector()).last)
        var bytes = sc.encoded
        bytes[3] ^= 1  // inside the first box
        try c.b4.apply(try c.b3.changes(missingFrom: try c.b4.vector()).dropLast())
        let r = try c.b4.apply([try SignedChange(encoded: bytes)])
        #expect(r.quarantined.map(\.reason) == [.badSignature] && r.quarantined[0].detail.en.contains("signature"))
        #expect(try c.b4.quarantine().contains { $0.seq == Int64(sc.change.seq) && $0.reason == QuarantineReason.badSignature.rawValue })
        #expect(throws: GridSyncError.self) { try c.b4.request(honest) }
        // The honest copy then applies; the altered one stays held, as evidence of who sent it.
        #expect(try c.b4.apply([sc]).applied == 1)
        #expect(try c.b4.request(honest).category == "居家养老")
        #expect(try c.b4.quarantine().filter { $0.seq == Int64(sc.change.seq) }.map(\.reason) == [QuarantineReason.badSignature.rawValue])
        // The altered copy offered again, now that the honest one is held, is dropped — not a
        // fork, and the batch goes on.
        let again = try c.b4.apply([try SignedChange(encoded: bytes)])
        #expect(again.alteredCopies == 1 && again.duplicates == 0 && again.quarantined.isEmpty)
        let raw = try c.b4.apply(encoded: [bytes], from: "relay")
        #expect(raw.0.alteredCopies == 1)
    }

    @Test func aRelayThatDropsBoxesLosesNothingOnceAnHonestCopyArrives() throws {
        let c = try Community()
        let id = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        let changes = try c.b3.changes(missingFrom: try c.grid.vector())
        // A hostile relay strips every box and passes the changes on: they still verify.
        let stripped = try changes.map { sc in try sc.replacingBody(try ChangeCodec.redact(sc.body, where: { _ in true }) ?? sc.body) }
        try c.grid.apply(stripped)
        #expect(try c.grid.request(id).resident == nil)
        // The honest copy is a duplicate, but its boxes fill the gaps.
        let r = try c.grid.apply(changes)
        #expect(r.duplicates == changes.count && r.repairedBoxes > 0)
        #expect(try c.grid.request(id).resident == "张三" && c.grid.request(id).phone == "13800000000")
        try c.syncAll()
        try c.syncAll()
        #expect(Set(try c.all.map { try $0.digest() }).count == 1)
        #expect(try c.centre.request(id).resident == "张三")
    }

    @Test func aRevokedLaptopReadsNothingWrittenAfterTheRotation() throws {
        let c = try Community()
        let before = try c.centre.addRequest(NewRequest(grid: "1", building: "3", resident: "吊销前居民", category: "物业", title: "前"))
        try c.syncAll()
        #expect(try c.b3.request(before).resident == "吊销前居民")
        c.tick(60)
        try c.centre.rosterRevoke(c.b3.node.id)
        let epochs = try c.centre.read { db in try c.centre.keyring(db).currentEpoch }
        #expect(epochs["1"] == 2)
        try c.syncAll()
        c.tick(60)
        let after = try c.centre.addRequest(NewRequest(grid: "1", building: "3", resident: "吊销后居民", phone: "13700000000", category: "物业", title: "后"))
        let fromGrid = try c.grid.addRequest(NewRequest(grid: "1", building: "3", resident: "网格写的", category: "物业", title: "网格"))
        try c.syncAll()
        // The revoked laptop is fed everything written afterwards (a stolen bundle, say).
        let stolen = try Store.inMemory(name: "x", role: .centre)
        try stolen.apply(try c.centre.changes(missingFrom: VersionVector()))
        try c.b3.apply(try c.centre.changes(missingFrom: try c.b3.vector()))
        for id in [after, fromGrid] {
            let r = try c.b3.request(id)
            #expect(r.resident == nil && r.unreadable.contains("resident"), "\(id)")
        }
        #expect(try c.b3.request(before).resident == "吊销前居民")  // kept what it could read
        // Building 4, still a member, reads the new epoch's writes of its own building only;
        // the grid office and the centre read all.
        #expect(try c.grid.request(after).resident == "吊销后居民" && c.centre.request(fromGrid).resident == "网格写的")
        let b4Writes = try c.b4.addRequest(Fixture.sampleRequest(grid: "1", building: "4", title: "新纪元"))
        try c.syncAll()
        #expect(try c.centre.request(b4Writes).title == "新纪元")
        #expect(try c.b4.read { db in try c.b4.keyring(db).currentEpoch["1"] } == 2)
    }

    @Test func anErasureIsFinalOnEveryNodeAndAnOldBundleDoesNotUndoIt() throws {
        let dir = TempDir()
        let c = try Community()
        let id = try c.b3.addRequest(NewRequest(grid: "1", building: "3", room: "303", resident: "王抹除", phone: "13655556666", category: "证明开具", title: "开证明"))
        _ = try c.b3.note(id, text: "王抹除的跟进")
        try c.syncAll()
        try c.syncAll()
        // An old bundle, taken before the erasure.
        let old = dir.file("old.bundle")
        try c.b3.exportBundle(to: old)
        // A laptop offline all along holds the changes too.
        let oldChanges = try c.b3.changes(missingFrom: VersionVector())
        let offline = try Store.inMemory(name: "离线", role: .centre)
        try offline.apply(oldChanges)

        let e = #expect(throws: GridSyncError.self) { try c.b3.eraseRequest(id) }
        #expect(e?.code == .notPermitted)
        try c.centre.eraseRequest(id)
        #expect(throws: GridSyncError.self) { try c.centre.eraseRequest(id) }
        try c.syncAll()
        try c.syncAll()
        for s in c.all {
            let r = try s.request(id)
            #expect(r.resident == nil && r.phone == nil && r.room == nil && r.title == "" && r.unreadable.isEmpty, "\(s.node.name)")
            #expect(r.category == "证明开具" && r.status == .submitted)
            #expect(try s.notes(ofRequest: id).map(\.text) == [""])
            #expect(try s.history(ofRecord: id).filter { $0.field == "resident" }.map(\.value) == [.erased])
            let bytes = try Self.storedBytes(s)
            let boxes = try s.read { db in try Data.fetchAll(db, sql: "SELECT body FROM changes") }.map { Array($0) }
            #expect(try boxes.allSatisfy { body in
                try ChangeCodec.decode(body).ops.allSatisfy { op in op.record != id || op.value.sealed?.box == nil }
            })
            #expect(!Self.contains(bytes, "王抹除"))
        }
        #expect(Set(try c.all.map { try $0.digest() }).count == 1)
        #expect(oldChanges.contains { $0.change.ops.contains { $0.record == id && $0.value.sealed?.box != nil } })
        // Replaying the old bundle brings nothing back.
        for s in [c.centre, c.b3] {
            let r = try s.importBundle(at: old)
            #expect(r.apply.applied == 0)
            #expect(try s.request(id).resident == nil)
        }
        // The offline laptop gets the erasure when it syncs, and drops what it had.
        try offline.apply(try c.centre.changes(missingFrom: try offline.vector()))
        let stored = try offline.read { db in try Row.fetchAll(db, sql: "SELECT phone, resident FROM requests WHERE id = ?", arguments: [id]) }
        #expect(stored.count == 1 && stored[0][0] == DatabaseValue.null && stored[0][1] == DatabaseValue.null)
        // A node that gets the old changes with boxes and the erasure in one batch never stores
        // the boxes.
        let late = try Store.inMemory(name: "后来", role: .centre)
        // (`offline` held exactly the old changes, so its vector names what came after them.)
        let after = try c.centre.changes(missingFrom: try Store.inMemory(name: "旧", role: .centre).applying(oldChanges).vector())
        #expect(after.contains { $0.change.ops.contains { $0.field == Schema.erasedField } })
        try late.apply(oldChanges + after)
        #expect(try late.request(id).resident == nil)
        #expect(!Self.contains(try Self.storedBytes(late), "王抹除"))
        #expect(try late.read { db in try Data.fetchAll(db, sql: "SELECT body FROM changes") }.allSatisfy { body in
            (try? ChangeCodec.decode(Array(body)).ops.allSatisfy { $0.value.sealed?.box == nil || $0.record != id }) ?? false
        })
        // Relayed changes of an erased record still verify on a fresh node.
        let fresh = try Store.inMemory(name: "新", role: .centre)
        #expect(try fresh.apply(try c.b4.changes(missingFrom: VersionVector())).quarantined.isEmpty)
        #expect(try fresh.requests().map(\.clearPart) == c.b4.requests().map(\.clearPart))
        // Nobody writes a resident's data into it again; its clear fields still move on.
        let again = #expect(throws: GridSyncError.self) { try c.centre.note(id, text: "王抹除又来了") }
        #expect(again?.localized.en.contains("was erased") == true && again?.localized.bothLanguages.contains("王抹除") == false)
        var edit = RequestEdit()
        edit.phone = "13600000000"
        #expect(throws: GridSyncError.self) { try c.centre.editRequest(id, edit) }
        #expect(try c.centre.transition(id, .accept) == .accepted)
    }

    @Test func retentionErasesWhatIsDueAndNothingElse() throws {
        let c = try Community()
        let old = try c.centre.addRequest(Fixture.sampleRequest(grid: "1", building: "3", title: "旧的"))
        _ = try c.centre.transition(old, .accept)
        _ = try c.centre.transition(old, .resolve)
        let open = try c.centre.addRequest(Fixture.sampleRequest(grid: "1", building: "3", title: "未办结"))
        c.tick(40 * 86_400)
        let recent = try c.centre.addRequest(Fixture.sampleRequest(grid: "1", building: "3", title: "新近"))
        _ = try c.centre.transition(recent, .accept)
        _ = try c.centre.transition(recent, .resolve)
        #expect(try c.centre.requestsDueForErasure(afterMonths: 1) == [old])
        #expect(try c.centre.eraseDue(afterMonths: 1) == 1)
        #expect(try c.centre.eraseDue(afterMonths: 1) == 0)
        try c.syncAll()
        #expect(try c.b3.request(old).resident == nil && c.b3.request(old).status == .resolved)
        #expect(try c.b3.request(open).resident == "张三" && c.b3.request(recent).resident == "张三")
        #expect(throws: GridSyncError.self) { try c.centre.requestsDueForErasure(afterMonths: 0) }
    }

    @Test func aDeletedRequestKeepsNoPersonalDataInItsTableAndARestoreBringsItBack() throws {
        let c = try Community()
        let id = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        try c.b3.deleteRequest(id)
        let row = try c.b3.read { db in try Row.fetchOne(db, sql: "SELECT resident, phone, title, category FROM requests WHERE id = ?", arguments: [id]) }
        #expect(row?[0] == DatabaseValue.null && row?[1] == DatabaseValue.null && row?[2] == DatabaseValue.null)
        #expect((row?[3] as String?) == "居家养老")
        _ = try c.b3.restoreRequest(id)
        #expect(try c.b3.request(id).resident == "张三")
    }

    @Test func personalDataInClearFromAMemberIsVoid() throws {
        let c = try Community()
        let id = try c.b3.addRequest(Fixture.sampleRequest(grid: "1", building: "3"))
        try c.syncAll()
        let forged = try c.craftedChain(c.b3, [
            [Op(collection: "requests", record: id, field: "resident", value: .text("明文"), pred: [])],
            [Op(collection: "requests", record: id, field: Schema.erasedField, value: .int(1), pred: [])],
        ])
        try c.b3.apply(forged)
        let r = try c.centre.apply([forged[0]])
        #expect(r.quarantined.map(\.reason) == [.outOfScope] && r.quarantined[0].detail.en.contains("must be sealed"))
        #expect(try c.centre.request(id).resident == "张三")
        // And no one but the centre erases.
        let r2 = try c.centre.apply([forged[1]])
        #expect(r2.quarantined.map(\.reason) == [.outOfScope] && r2.quarantined[0].detail.en.contains("only the centre erases"))
        #expect(try c.centre.request(id).resident == "张三")
        // A value sealed under epoch 0 or for a scope no place has is void too — not a
        // malformed change that would stop every relay's batch.
        var odd = try #require(try Fixture.sealed(c.b3, "x", "requests", id, "phone", building: "3").sealed)
        odd.epoch = 0
        var stranger = try #require(try Fixture.sealed(c.b3, "x", "requests", id, "detail", building: "3").sealed)
        stranger.scope = "not-a-scope"
        let oddChanges = try c.craftedChain(c.b3, [
            [Op(collection: "requests", record: id, field: "phone", value: .sealed(odd), pred: [])],
            [Op(collection: "requests", record: id, field: "detail", value: .sealed(stranger), pred: [])],
        ])
        try c.b3.apply(oddChanges)
        let r3 = try c.centre.apply(oddChanges)
        #expect(r3.quarantined.map(\.reason) == [.outOfScope, .outOfScope] && r3.voided == 2)
        #expect(r3.quarantined[0].detail.en.contains("epoch 0") && r3.quarantined[1].detail.en.contains("another scope"))
    }
}
