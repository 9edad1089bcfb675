import Foundation
import GRDB
import GridSyncCore
import Testing

@testable import GridSyncStore

@Suite struct StoreTests {
    /// The single-store behaviours below (lifecycle, refused transitions, bad input, IDs,
    /// edits) run on each kind of store: in memory, on disk as the CLI opens it (one
    /// connection), and on disk as the daemon opens it (a WAL pool).
    static func stores(_ dir: TempDir) throws -> [Store] {
        let name = "store-\(UUID().uuidString).db"
        _ = try Store.create(path: dir.file(name), name: "中心", role: .centre, grid: nil, building: nil)
        return [
            try Store.inMemory(name: "中心", role: .centre),
            try Store.open(path: dir.file(name)),
            try Store.open(path: dir.file(name), concurrent: true),
        ]
    }

    @Test func createOpenAndRefuseToOverwrite() throws {
        let dir = TempDir()
        let path = dir.file("a.db")
        let created = try Store.create(path: path, name: "三号楼", role: .building, grid: "1", building: "3")
        let opened = try Store.open(path: path)
        #expect(opened.node == created.node)
        let e = #expect(throws: GridSyncError.self) {
            try Store.create(path: path, name: "x", role: .centre, grid: nil, building: nil)
        }
        #expect(e?.code == .alreadyInitialized)
        let perms = try FileManager.default.attributesOfItem(atPath: path + ".key")[.posixPermissions] as? NSNumber
        #expect(perms?.intValue == 0o600)
        let missing = #expect(throws: GridSyncError.self) { try Store.open(path: dir.file("none.db")) }
        #expect(missing?.code == .notInitialized)
    }

    @Test func notAStoreIsReportedClearly() throws {
        let dir = TempDir()
        let path = dir.file("junk.db")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        try KeyFile.write(NodeKey(), to: path + ".key")
        let e = #expect(throws: GridSyncError.self) { try Store.open(path: path) }
        #expect(e?.localized.en.contains("not a GridSync store") == true)
    }

    @Test func requestLifecycleEndToEnd() throws {
        let dir = TempDir()
        for s in try Self.stores(dir) {
            let id = try s.addRequest(Fixture.sampleRequest())
            #expect(try s.request(id).status == .submitted)
            #expect(try s.transition(String(id.prefix(6)), .accept) == .accepted)
            let service = try s.addService({ var i = ServiceInput(); i.name = "助老送餐"; return i }())
            #expect(try s.assign(id, service: service, person: nil) == .assigned)
            #expect(try s.transition(id, .start, note: "已上门") == .inProgress)
            #expect(try s.transition(id, .resolve) == .resolved)
            #expect(try s.rate(id, satisfaction: .basicallySatisfied, comment: "还行") == .rated)
            let r = try s.request(id)
            #expect(r.assignedService == service)
            #expect(r.satisfaction == "basically_satisfied")
            #expect(r.resolvedAt != nil && r.acceptedAt != nil)
            #expect(try s.notes(ofRequest: id).map(\.text) == ["已上门"])
            let history = try s.history(ofRecord: id)
            #expect(history.filter { $0.field == "status" }.map(\.value) == [
                .text("submitted"), .text("accepted"), .text("assigned"), .text("in_progress"), .text("resolved"), .text("rated"),
            ])
            #expect(try s.transition(id, .reopen) == .inProgress)
            #expect(try s.request(id).closedAt == nil)
        }
    }

    @Test func invalidTransitionLeavesTheStoreUnchanged() throws {
        let dir = TempDir()
        for s in try Self.stores(dir) {
            let id = try s.addRequest(Fixture.sampleRequest())
            let before = try Snapshot(s)
            let e = #expect(throws: GridSyncError.self) { try s.rate(id, satisfaction: .satisfied, comment: nil) }
            #expect(e?.code == .invalidTransition)
            #expect(try Snapshot(s) == before)
        }
    }

    @Test func missingAndBadFieldsAreRefusedWithoutEchoingPersonalData() throws {
        let dir = TempDir()
        for s in try Self.stores(dir) {
            var r = Fixture.sampleRequest()
            r.resident = "  "
            #expect(throws: GridSyncError.self) { try s.addRequest(r) }
            r = Fixture.sampleRequest()
            r.phone = "王五的电话"
            let e = #expect(throws: GridSyncError.self) { try s.addRequest(r) }
            #expect(e?.localized.bothLanguages.contains("王五") == false)
            r = Fixture.sampleRequest()
            r.category = "不存在"
            #expect(throws: GridSyncError.self) { try s.addRequest(r) }
            r = Fixture.sampleRequest()
            r.due = "2026-02-30"
            #expect(throws: GridSyncError.self) { try s.addRequest(r) }
            #expect(try s.requests().isEmpty)
        }
    }

    @Test func unknownAndAmbiguousIDs() throws {
        let dir = TempDir()
        for s in try Self.stores(dir) {
            var ids: [String] = []
            for _ in 0..<40 { ids.append(try s.addRequest(Fixture.sampleRequest())) }
            let e = #expect(throws: GridSyncError.self) { try s.transition("ffffffffffffffffffffffffffffffff0", .accept) }
            #expect(e?.code == .notFound)
            // 40 random IDs over 16 first digits: some first digit repeats.
            let firsts = Dictionary(grouping: ids, by: { $0.prefix(1) })
            let shared = firsts.first { $0.value.count > 1 }!.key
            let a = #expect(throws: GridSyncError.self) { try s.request(String(shared)) }
            #expect(a?.code == .ambiguous)
            #expect(throws: GridSyncError.self) { try s.request("a%") }
        }
    }

    @Test func buildingNodesWriteOnlyTheirOwnBuilding() throws {
        let b = try Store.inMemory(name: "三号楼", role: .building, grid: "1", building: "3")
        let own = try b.addRequest(NewRequest(grid: nil, building: nil, resident: "李四", category: "物业", title: "漏水"))
        #expect(try b.request(own).building == "3")
        let e = #expect(throws: GridSyncError.self) { try b.addRequest(Fixture.sampleRequest(building: "4")) }
        #expect(e?.code == .notPermitted)
        let s = #expect(throws: GridSyncError.self) { try b.addService({ var i = ServiceInput(); i.name = "x"; return i }()) }
        #expect(s?.code == .notPermitted)
        #expect(throws: GridSyncError.self) { try b.addCategory("新类别") }
    }

    @Test func centreAddsCategoriesThatReplicate() throws {
        let c = try Store.inMemory(name: "中心", role: .centre)
        let b = try Store.inMemory(name: "三号楼", role: .building, grid: "1", building: "3")
        try c.addCategory("垃圾分类")
        #expect(throws: GridSyncError.self) { try c.addCategory("垃圾分类") }
        #expect(try c.categories().last == "垃圾分类")
        #expect(throws: GridSyncError.self) { try b.addRequest(Fixture.sampleRequest(grid: "1", building: "3").with(category: "垃圾分类")) }
        try Fixture.sync(c, b)
        _ = try b.addRequest(Fixture.sampleRequest().with(category: "垃圾分类"))
    }

    @Test func editWritesOnlyChangedFields() throws {
        let dir = TempDir()
        for s in try Self.stores(dir) {
            let id = try s.addRequest(Fixture.sampleRequest())
            var e = RequestEdit()
            e.title = "帮忙买菜"
            e.detail = "每周二"
            _ = try s.editRequest(id, e)
            let fields = try s.history(ofRecord: id).suffix(2).map(\.field)
            #expect(fields == ["detail", "_deleted"])
            var clear = RequestEdit()
            clear.detail = ""
            _ = try s.editRequest(id, clear)
            #expect(try s.request(id).detail == nil)
        }
    }

    @Test func editConcurrentWithDeleteIsAVisibleConflict() throws {
        let a = try Store.inMemory(name: "中心", role: .centre)
        let b = try Store.inMemory(name: "网格", role: .grid, grid: "1")
        let id = try a.addRequest(Fixture.sampleRequest())
        try Fixture.sync(a, b)
        _ = try a.deleteRequest(id)
        var e = RequestEdit()
        e.title = "改了标题"
        _ = try b.editRequest(id, e)
        try Fixture.sync(a, b)
        try Fixture.sync(b, a)
        let conflicts = try a.conflicts()
        #expect(conflicts.map(\.field) == ["_deleted"])
        #expect(conflicts == (try b.conflicts()))
        #expect(Set(conflicts[0].values.map(\.value)) == [.int(0), .int(1)])
        // Keep the record.
        let keep = conflicts[0].values.firstIndex { $0.value == .int(0) }! + 1
        _ = try a.resolveConflict(conflicts[0].id, pick: keep, value: nil)
        try Fixture.sync(a, b)
        #expect(try b.conflicts().isEmpty)
        #expect(try b.request(id).title == "改了标题")
        #expect(try a.digest() == b.digest())
    }

    @Test func concurrentStatusChangesPreferTheLaterStage() throws {
        let a = try Store.inMemory(name: "中心", role: .centre)
        let b = try Store.inMemory(name: "网格", role: .grid, grid: "1")
        let id = try a.addRequest(Fixture.sampleRequest())
        _ = try a.transition(id, .accept)
        try Fixture.sync(a, b)
        _ = try b.transition(id, .resolve)
        Thread.sleep(forTimeInterval: 0.005)
        _ = try a.transition(id, .withdraw)
        try Fixture.sync(a, b)
        try Fixture.sync(b, a)
        #expect(try a.request(id).status == .withdrawn)
        #expect(try b.request(id).status == .withdrawn)
        let c = try a.conflicts().first { $0.field == "status" }
        #expect(c?.winner == .text("withdrawn"))
        #expect(c?.values.count == 2)
    }

    @Test func resolvingByValueValidatesIt() throws {
        let a = try Store.inMemory(name: "中心", role: .centre)
        let b = try Store.inMemory(name: "网格", role: .grid, grid: "1")
        let id = try a.addRequest(Fixture.sampleRequest())
        try Fixture.sync(a, b)
        var e1 = RequestEdit()
        e1.due = "2027-01-01"
        _ = try a.editRequest(id, e1)
        var e2 = RequestEdit()
        e2.due = "2027-02-01"
        _ = try b.editRequest(id, e2)
        try Fixture.sync(b, a)
        let c = try a.conflicts()[0]
        #expect(throws: GridSyncError.self) { try a.resolveConflict(c.id, pick: nil, value: "soon") }
        #expect(throws: GridSyncError.self) { try a.resolveConflict(c.id, pick: 3, value: nil) }
        _ = try a.resolveConflict(String(c.id.prefix(4)), pick: nil, value: "2027-03-01")
        #expect(try a.request(id).due == "2027-03-01")
        #expect(try a.conflicts().isEmpty)
    }
}

extension NewRequest {
    func with(category: String) -> NewRequest {
        var copy = self
        copy.category = category
        return copy
    }
}
