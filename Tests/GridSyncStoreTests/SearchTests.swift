import Foundation
import GRDB
import GridSyncCore
import Testing

@testable import GridSyncStore

/// `request list` filters and searches (SearchIndex.swift): clear fields by SQL, personal
/// fields through the node's keyed index, checked against the opened values.
@Suite struct SearchTests {
    let clock = TestClock()

    /// A store outside any community with requests created on the given UTC noons.
    func store() throws -> Store {
        let c = clock
        return try Store.inMemory(name: "中心", role: .centre, wallClock: { c.ms })
    }

    static let noon10March: UInt64 = 1_773_144_000_000  // 2026-03-10T12:00:00Z
    static let day: UInt64 = 86_400_000

    func ids(_ s: Store, _ edit: (inout RequestFilter) -> Void) throws -> Set<String> {
        var f = RequestFilter()
        edit(&f)
        return Set(try s.requests(f).map(\.id))
    }

    @Test func phonesMatchHoweverTheyAreWrittenAndByTheirLastFourDigits() throws {
        let s = try store()
        let a = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "王秀英", phone: "138 0000 1234", category: "居家养老", title: "买菜"))
        let b = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "李建国", phone: "+86 139-0000-5678", category: "居家养老", title: "理发"))
        let c = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "张三", phone: "(010) 8888 1234", category: "居家养老", title: "修灯"))
        for typed in ["13800001234", "138-0000-1234", "+8613800001234", "0086 138 0000 1234", "１３８００００１２３４"] {
            #expect(try ids(s) { $0.phone = typed } == [a], "\(typed)")
        }
        #expect(try ids(s) { $0.phone = "13900005678" } == [b])
        // The last four digits (尾号) find every number ending so.
        #expect(try ids(s) { $0.phone = "1234" } == [a, c])
        #expect(try ids(s) { $0.phone = "13800001235" }.isEmpty)
        #expect(try ids(s) { $0.phone = "1380000123" }.isEmpty)  // not a suffix search
        for bad in ["12", "电话", ""] {
            let e = #expect(throws: GridSyncError.self) { try s.requests({ var f = RequestFilter(); f.phone = bad; return f }()) }
            #expect(e?.code == .invalidInput)
        }
    }

    @Test func textAndResidentMatchWhatIsWrittenNotJustItsPairs() throws {
        let s = try store()
        let a = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "王秀英", category: "居家养老", title: "楼道灯不亮", detail: "三楼 东侧"))
        // Holds every pair of 灯不亮了 (灯不, 不亮, 亮了) but not the text itself.
        let b = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "王建国", category: "居家养老", title: "灯不亮", detail: "亮了吗"))
        let c = try s.addRequest(NewRequest(grid: "1", building: "5", resident: "李桂兰", category: "物业", title: "水管漏水", detail: "WiFi 路由器"))
        #expect(try ids(s) { $0.text = "灯不亮" } == [a, b])
        #expect(try ids(s) { $0.text = "灯不亮了" }.isEmpty)
        #expect(try ids(s) { $0.text = "灯 不-亮" } == [a, b])  // spaces and punctuation ignored
        #expect(try ids(s) { $0.text = "三楼东侧" } == [a])
        #expect(try ids(s) { $0.text = "wifi" } == [c])  // case and full width folded
        #expect(try ids(s) { $0.text = "ＷＩＦＩ" } == [c])
        #expect(try ids(s) { $0.text = "秀英" } == [a])  // the resident is text too
        #expect(try ids(s) { $0.resident = "王" } == [a, b])
        #expect(try ids(s) { $0.resident = "建国" } == [b])
        #expect(try ids(s) { $0.resident = "漏水" }.isEmpty)  // --resident looks at the name only
        // Searches combine with each other and with clear filters.
        #expect(try ids(s) { $0.resident = "王"; $0.text = "东侧" } == [a])
        #expect(try ids(s) { $0.text = "水"; $0.building = "3" }.isEmpty)
        #expect(try ids(s) { $0.text = "水"; $0.category = "物业" } == [c])
    }

    @Test func clearFiltersPagesAndOrder() throws {
        let s = try store()
        var made: [String] = []
        for i in 0..<5 {
            clock.ms = Self.noon10March + UInt64(i) * 5 * Self.day  // 10, 15, 20, 25, 30 March
            var r = NewRequest(grid: "1", building: "\(i % 2 + 1)", resident: "居民\(i)", category: "居家养老", title: "事项\(i)")
            r.due = ["2026-04-01", nil, "2026-03-20", "2026-05-01", nil][i]
            r.urgent = i == 3
            made.append(try s.addRequest(r))
        }
        _ = try s.transition(made[1], .accept)
        _ = try s.assign(made[1], service: nil, person: "刘师傅")
        #expect(try ids(s) { $0.createdFrom = "2026-03-15"; $0.createdTo = "2026-03-25" } == [made[1], made[2], made[3]])
        #expect(try ids(s) { $0.createdFrom = "2026-03-30" } == [made[4]])
        #expect(try ids(s) { $0.createdTo = "2026-03-10" } == [made[0]])
        #expect(try ids(s) { $0.dueFrom = "2026-03-25"; $0.dueTo = "2026-04-30" } == [made[0]])
        #expect(try ids(s) { $0.assignee = "刘师傅" } == [made[1]])
        #expect(try ids(s) { $0.building = "2" } == [made[1], made[3]])
        var f = RequestFilter()
        #expect(try s.requests(f).map(\.id) == made.reversed())
        f.sort = .oldest
        #expect(try s.requests(f).map(\.id) == made)
        f.sort = .due
        #expect(try s.requests(f).map(\.id) == [made[2], made[0], made[3], made[4], made[1]])
        f.sort = .urgent
        #expect(try s.requests(f).first?.id == made[3])
        f.sort = .newest
        f.limit = 2
        f.offset = 1
        let page = try s.requestPage(f)
        #expect(page.records.map(\.id) == [made[3], made[2]] && page.total == 5)
        // A page of a search counts every match.
        f.text = "事项"
        let searched = try s.requestPage(f)
        #expect(searched.records.map(\.id) == [made[3], made[2]] && searched.total == 5)
        for bad in [{ (f: inout RequestFilter) in f.createdFrom = "2026-3-1" }, { $0.createdFrom = "2026-04-01"; $0.createdTo = "2026-03-01" },
                    { $0.dueTo = "2026-02-30" }, { $0.limit = -1 }, { $0.offset = -5 }] {
            var g = RequestFilter()
            bad(&g)
            let e = #expect(throws: GridSyncError.self) { try s.requests(g) }
            #expect(e?.code == .invalidInput)
        }
    }

    @Test func theIndexFollowsEditsDeletionAndRestore() throws {
        let s = try store()
        let id = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "王秀英", phone: "13800001234", category: "居家养老", title: "买菜"))
        #expect(try ids(s) { $0.phone = "13800001234" } == [id])
        var e = RequestEdit()
        e.phone = "13999998888"
        e.title = "代买药品"
        _ = try s.editRequest(id, e)
        #expect(try ids(s) { $0.phone = "13800001234" }.isEmpty)
        #expect(try ids(s) { $0.phone = "13999998888" } == [id])
        #expect(try ids(s) { $0.text = "买菜" }.isEmpty && ids(s) { $0.text = "药品" } == [id])
        _ = try s.deleteRequest(id)
        #expect(try ids(s) { $0.text = "药品" }.isEmpty)
        _ = try s.restoreRequest(id)
        #expect(try ids(s) { $0.text = "药品" } == [id])
        // Nothing changed since: the index is not walked again.
        #expect(try s.refreshSearchIndex() == 0)
    }

    /// A rebuild goes a chunk of requests per write transaction, so a daemon's sync waits for
    /// one chunk, not the register; what is written between its steps is found all the same,
    /// and a big batch of changes is caught up the same stepped way.
    @Test func aRebuildGoesInStepsAndFindsWhatWasWrittenMeanwhile() throws {
        let s = try store()
        var made: [String] = []
        for n in 0..<25 { made.append(try s.addRequest(NewRequest(grid: "1", building: "3", resident: "王秀英", category: "居家养老", title: "事项\(n)号"))) }
        try s.writer.write { db in try SearchIndex.invalidate(db) }
        var index = SearchIndex(nodeKey: s.key)
        func step() throws -> SearchIndex.Step {
            try s.writer.write { db in try index.refresh(db, ring: try s.keyring(db), today: "2026-03-10", chunk: 10) }
        }
        func through() throws -> String?? {
            try s.read { db in try Row.fetchOne(db, sql: "SELECT rebuilt_through FROM request_search_state")?["rebuilt_through"] as String?? }
        }
        // The first step empties the index and counts what is to come; each next one takes 10.
        let begun = try step()
        #expect(begun.rebuildTotal == 25 && !begun.done && begun.indexed == 0)
        let first = try step()
        let afterFirst = try through()
        #expect(first.indexed == 10 && !first.done && afterFirst == .some(made.sorted()[9]))
        // Another process writes between two steps: a new request, and an edit of one already indexed.
        let late = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "李四", category: "物业", title: "后来的"))
        var e = RequestEdit()
        e.title = "改过的"
        _ = try s.editRequest(made.sorted()[0], e)
        var steps = 0
        while !(try step()).done { steps += 1 }
        let afterAll = try through()
        #expect(steps == 2 && afterAll == .some(nil))
        #expect(try ids(s) { $0.text = "事项" }.count == 24)
        let lateFound = try ids(s) { $0.text = "后来的" }, editFound = try ids(s) { $0.text = "改过的" }
        #expect(lateFound == [late] && editFound == [made.sorted()[0]])
        #expect(try s.refreshSearchIndex() == 0)
        // More requests changed than a step takes: caught up in steps too, with the same result.
        for n in 0..<12 { _ = try s.addRequest(NewRequest(grid: "1", building: "3", resident: "赵六", category: "物业", title: "批量\(n)")) }
        let big = try step()
        #expect(big.rebuildTotal == 38 && !big.done)
        var index2 = SearchIndex(nodeKey: s.key)
        #expect(try s.refreshSearchIndex(&index2, today: "2026-03-10", chunk: 10) == 38)
        let batch = try ids(s) { $0.text = "批量" }, wang = try ids(s) { $0.resident = "王秀英" }
        #expect(batch.count == 12 && wang.count == 25)
    }

    @Test func aLaptopFindsOnlyWhatItMayReadAndTheIndexHoldsNoPersonalBytes() throws {
        let c = try Community()
        let r3 = try c.b3.addRequest(NewRequest(grid: "1", building: "3", resident: "张三丰", phone: "13811112222", category: "居家养老", title: "三楼买菜"))
        let r4 = try c.b4.addRequest(NewRequest(grid: "1", building: "4", resident: "李四光", phone: "13933334444", category: "物业", title: "四楼修灯"))
        try c.syncAll()
        try c.syncAll()
        func found(_ s: Store, _ edit: (inout RequestFilter) -> Void) throws -> Set<String> { try ids(s, edit) }
        #expect(try found(c.b3) { $0.phone = "13811112222" } == [r3])
        #expect(try found(c.b3) { $0.phone = "13933334444" }.isEmpty)
        #expect(try found(c.b3) { $0.resident = "李四光" }.isEmpty && found(c.b3) { $0.text = "修灯" }.isEmpty)
        #expect(try found(c.b3) { $0.category = "物业" } == [r4])  // clear fields still list it
        for reader in [c.centre, c.grid] {
            #expect(try found(reader) { $0.phone = "4444" } == [r4] && found(reader) { $0.text = "买菜" } == [r3])
        }
        // The index tables hold tokens, not the values.
        for store in c.all {
            let bytes = try store.read { db in
                try SealingTests.tableBytes(
                    try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'request_search%' AND sql NOT LIKE 'CREATE VIRTUAL%'"), db)
            }
            #expect(!bytes.isEmpty)
            for secret in ["张三丰", "13811112222", "1381111", "李四光", "13933334444", "买菜", "修灯", "2222", "4444"] {
                #expect(!SealingTests.contains(bytes, secret), "\(secret)")
            }
        }
        // Erased: found nowhere.
        try c.centre.eraseRequest(r4)
        try c.syncAll()
        for s in [c.centre, c.grid, c.b4] { #expect(try found(s) { $0.phone = "13933334444" }.isEmpty) }
    }

    @Test func keysArrivingLaterMakeTheLaptopsOwnResidentsFindable() throws {
        let c = clock
        let centre = try Store.inMemory(name: "中心", role: .centre, foundCommunity: true, wallClock: { c.ms })
        let lead = try Store.inMemory(name: "一号楼", role: .building, grid: "1", building: "1", wallClock: { c.ms })
        let community = try #require(try centre.community())
        try centre.rosterAdd(lead.node.id, name: "一号楼", role: .building, grid: "1", building: "1")
        let id = try centre.addRequest(NewRequest(grid: "1", building: "1", resident: "赵桂兰", phone: "13700001234", category: "居家养老", title: "上门理发"))
        try lead.join(community: community.id, centre: centre.node.id, address: nil)
        // The request arrives before the lead's key: sealed, unreadable, not found.
        try Fixture.sync(centre, lead)
        #expect(try ids(lead) { $0.phone = "13700001234" }.isEmpty)
        // Its profile reaches the centre, the grant comes back: found without any new request.
        try Fixture.sync(lead, centre)
        try Fixture.sync(centre, lead)
        #expect(try ids(lead) { $0.phone = "13700001234" } == [id])
        #expect(try ids(lead) { $0.resident = "桂兰" } == [id])
    }
}
