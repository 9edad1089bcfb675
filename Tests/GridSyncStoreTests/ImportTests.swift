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

    @Test func registerTimesAreReadAsASheetWritesThem() throws {
        let days = LocalDay(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        let cases: [(String, String)] = [
            ("2026-11-03 14:05", "2026-11-03T06:05:00.000Z"), ("2026/11/3 14:05:30", "2026-11-03T06:05:30.000Z"),
            ("2026-11-03", "2026-11-02T16:00:00.000Z"), ("2026-11-03T06:05:00.123Z", "2026-11-03T06:05:00.123Z"),
            ("2024-02-29 00:00", "2024-02-28T16:00:00.000Z"),
        ]
        for (cell, iso) in cases { #expect(ImportTime(cell, days)?.iso == iso, "\(cell)") }
        for bad in ["2026-13-01", "2026-02-30", "2026-11-03 24:00", "2026-11-03 14", "26-11-03", "明天", "2026-11-03 14:60", "１２３"] {
            #expect(ImportTime(bad, days) == nil, "\(bad)")
        }
        // A stored time matches a cell to the cell's precision.
        let minute = try #require(ImportTime("2026-11-03 14:05", days))
        #expect(minute.matches("2026-11-03T06:05:42.917Z", days) && !minute.matches("2026-11-03T06:06:00.000Z", days))
        let day = try #require(ImportTime("2026-11-03", days))
        #expect(day.matches("2026-11-03T15:59:59.000Z", days) && !day.matches("2026-11-03T16:00:00.000Z", days))
    }

    @Test func aRowsNumberIsItsIdentity() throws {
        let a = try Store.importID("XQ-001", namespace: "C1", grid: "1", name: "编号")
        #expect(a == (try Store.importID(" XQ-001 ", namespace: "C1", grid: "1", name: "编号")))
        #expect(a != (try Store.importID("XQ-001", namespace: "C1", grid: "2", name: "编号")))  // numbered per grid
        #expect(a != (try Store.importID("XQ-001", namespace: "C2", grid: "1", name: "编号")))  // and per community
        #expect(a.count == 32 && a.allSatisfy(\.isHexDigit))
        let exported = String(repeating: "ab", count: 16)
        #expect(try Store.importID(exported.uppercased(), namespace: "C1", grid: "1", name: "编号") == exported)
        #expect(try Store.importID(nil, namespace: "C1", grid: "1", name: "编号") != Store.importID(nil, namespace: "C1", grid: "1", name: "编号"))
        #expect(throws: GridSyncError.self) { try Store.importID(String(repeating: "号", count: 65), namespace: "C1", grid: "1", name: "编号") }
    }

    @Test func sealedCellsLeaveFieldsAloneAndCannotMakeRequests() throws {
        let dir = TempDir()
        let s = try Store.create(path: dir.file("c.db"), name: "中心", role: .centre, grid: nil, building: nil)
        var row = ImportRow(line: 2, request: NewRequest(grid: "1", building: "3", resident: "王秀英", phone: "13800001234", category: "居家养老", title: "修灯"))
        row.externalID = "XQ-9"
        let first = try s.importRegister([row], columns: ["phone"], skipBad: false, name: { $0 })
        #expect(first.added.count == 1)
        let before = try Snapshot(s)
        // As an export from a node that could not read them writes them: 🔒, left alone.
        var sealed = row
        sealed.request.resident = "🔒"
        sealed.request.phone = nil
        sealed.sealedCells = ["resident", "phone"]
        let again = try s.importRegister([sealed], columns: ["phone"], skipBad: false, name: { $0 })
        #expect(again.unchanged == 1 && again.problems.isEmpty)
        #expect(try Snapshot(s) == before)
        sealed.externalID = "XQ-10"
        let fresh = try s.importRegister([sealed], columns: ["phone"], skipBad: false, name: { $0 })
        #expect(fresh.added.isEmpty && fresh.problems.map(\.row) == [2])
        #expect(try Snapshot(s) == before)
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
