import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// `Store.importRequests`: all or nothing, and changes that every peer accepts.
@Suite struct ImportTests {
    static func rows(_ n: Int, detail: String? = nil) -> [(row: Int, request: NewRequest)] {
        (0..<n).map { i in
            (i + 2, NewRequest(grid: "1", building: "3", resident: "居民", phone: "13800000000", category: "居家养老", title: "需求\(i)", detail: detail))
        }
    }

    @Test func longDetailsAreSplitIntoChangesPeersAccept() throws {
        let dir = TempDir()
        let centre = try Store.create(path: dir.file("c.db"), name: "中心", role: .centre, grid: nil, building: nil)
        // A laptop that has not joined a community accepts what it is given.
        let laptop = try Store.create(path: dir.file("l.db"), name: "电脑", role: .building, grid: "1", building: "3")
        // 300 rows × 4,000 Chinese characters (12 KB) of detail: 3.6 MB, far over one change.
        let detail = String(repeating: "详", count: 4000)
        let (ids, problems) = try centre.importRequests(Self.rows(300, detail: detail), skipBad: false, name: { $0 })
        #expect(ids.count == 300 && problems.isEmpty)
        let changes = try centre.changes(missingFrom: VersionVector())
        #expect(changes.count > 5)
        #expect(changes.allSatisfy { $0.body.count <= Limits.maxChangeBytes })
        // Round-trips through the encoding a peer decodes, which refuses oversized changes.
        try laptop.apply(changes.map { try SignedChange(encoded: $0.encoded) })
        #expect(try laptop.requests().map(\.clearPart) == centre.requests().map(\.clearPart))
        #expect(try laptop.requests().count == 300)
        #expect(try centre.requests().allSatisfy { $0.detail == detail })
    }

    @Test func oneBadRowImportsNothing() throws {
        let dir = TempDir()
        let s = try Store.create(path: dir.file("c.db"), name: "中心", role: .centre, grid: nil, building: nil)
        let before = try Snapshot(s)
        var rows = Self.rows(5)
        rows[3].request.phone = "12"
        rows[1].request.category = "不存在"
        let (ids, problems) = try s.importRequests(rows, skipBad: false, name: { "column \($0)" })
        #expect(ids.isEmpty)
        #expect(problems.map(\.row) == [3, 5])
        #expect(problems.allSatisfy { $0.reason.contains("column ") && !$0.reason.contains("12") })
        #expect(try Snapshot(s) == before)
        let skipped = try s.importRequests(rows, skipBad: true, name: { $0 })
        #expect(skipped.ids.count == 3 && skipped.problems.count == 2)
        #expect(try s.requests().count == 3)
    }

    @Test func aLocalWriteOverTheChangeLimitIsRefused() throws {
        let dir = TempDir()
        let s = try Store.create(path: dir.file("c.db"), name: "中心", role: .centre, grid: nil, building: nil)
        let before = try Snapshot(s)
        let big = String(repeating: "x", count: 64 * 1024)
        let e = #expect(throws: GridSyncError.self) {
            try s.localWriteMany([{ change in
                for i in 0..<20 { change.set(Schema.services, "s\(i)", "description", .text(big)) }
            }])
        }
        #expect(e?.code == .tooLarge)
        #expect(try Snapshot(s) == before)
    }
}
