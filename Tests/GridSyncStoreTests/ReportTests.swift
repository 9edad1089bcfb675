import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// A wall clock the test sets by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var ms: UInt64 = 0

    func set(_ date: String) {
        let f = ISO8601DateFormatter()
        let d = f.date(from: date)!
        lock.withLock { ms = UInt64(d.timeIntervalSince1970 * 1000) }
    }

    func advance(hours: Double) { lock.withLock { ms += UInt64(hours * 3_600_000) } }

    var now: UInt64 { lock.withLock { ms } }
}

/// The report against figures worked out by hand (see the comments), from requests written
/// through the store at chosen times. Days are in Asia/Shanghai (UTC+8).
@Suite struct ReportTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    /// A centre store holding the hand-computed fixture; "now" is 2026-11-10 12:00 +08:00.
    static func fixture(_ dir: TempDir) throws -> Store {
        let clock = ManualClock()
        clock.set("2026-10-01T00:00:00Z")
        let s = try Store.create(path: dir.file("centre.db"), name: "中心", role: .centre, grid: nil, building: nil, wallClock: { clock.now })
        func add(_ at: String, grid: String = "1", building: String = "3", category: String = "居家养老", due: String? = nil) throws -> String {
            clock.set(at)
            return try s.addRequest(NewRequest(grid: grid, building: building, resident: "张三", phone: "13800000000", category: category, title: "需求", due: due))
        }
        func step(_ id: String, _ st: LifecycleStep, after hours: Double) throws {
            clock.advance(hours: hours)
            _ = try s.transition(id, st)
        }
        // A: 11-02 09:00, accepted after 2 h, resolved 26 h after creation, rated 满意. Due 11-05.
        let a = try add("2026-11-02T01:00:00Z", due: "2026-11-05")
        try step(a, .accept, after: 2)
        try step(a, .resolve, after: 24)
        clock.advance(hours: 1)
        _ = try s.rate(a, satisfaction: .satisfied, comment: nil)
        // B: 11-02 10:00, accepted after 30 h (late), resolved at 50 h (11-04 12:00), rated 不满意. Due 11-03: overdue.
        let b = try add("2026-11-02T02:00:00Z", due: "2026-11-03")
        try step(b, .accept, after: 30)
        try step(b, .start, after: 1)
        try step(b, .resolve, after: 19)
        clock.advance(hours: 1)
        _ = try s.rate(b, satisfaction: .dissatisfied, comment: nil)
        // C: 11-03 08:00, refused after 1 h: a response in time, and closed.
        let c = try add("2026-11-03T00:00:00Z")
        try step(c, .reject, after: 1)
        // D: 11-03 09:00, grid 2, accepted after 5 h, still in progress; due 11-04: overdue by 11-10.
        let d = try add("2026-11-03T01:00:00Z", grid: "2", building: "7", category: "物业", due: "2026-11-04")
        try step(d, .accept, after: 5)
        try step(d, .start, after: 1)
        // E: 11-04 09:00, grid 2, withdrawn after 1 h: counted, but not a request to handle.
        let e = try add("2026-11-04T01:00:00Z", grid: "2", building: "7", category: "物业")
        try step(e, .withdraw, after: 1)
        // F: 11-05 09:00, never accepted.
        _ = try add("2026-11-05T01:00:00Z")
        // G: 10-30, before the period. H: 12-01 00:30 in Shanghai, which is still 11-30 in UTC.
        _ = try add("2026-10-30T01:00:00Z")
        _ = try add("2026-11-30T16:30:00Z")
        clock.set("2026-11-10T04:00:00Z")
        return s
    }

    static let november = ReportOptions(from: "2026-11-01", to: "2026-11-30", timeZone: shanghai)

    @Test func totalsMatchTheHandComputedFigures() throws {
        let dir = TempDir()
        let r = try Self.fixture(dir).report(Self.november)
        let t = r.total
        #expect(r.today == "2026-11-10")
        #expect(t.total == 6)  // A–F; G before the period, H after it in Shanghai time
        #expect(t.byStatus == ["rated": 2, "rejected": 1, "in_progress": 1, "withdrawn": 1, "submitted": 1])
        #expect(t.overdue == 2)  // B resolved after its due day, D open past it
        // 响应率: A (2 h), C (1 h), D (5 h) in time; B (30 h) late; F never: 3 of 5 (E withdrawn).
        #expect(t.responseRate == Rate(numerator: 3, denominator: 5))
        #expect(t.responseRate.percent == "60.0%")
        // 办结率: A, B, C of 5. 解决率: A, B of 5. 满意率: A of the rated A, B.
        #expect(t.closureRate == Rate(numerator: 3, denominator: 5))
        #expect(t.resolutionRate == Rate(numerator: 2, denominator: 5))
        #expect(t.satisfactionRate == Rate(numerator: 1, denominator: 2))
        // Response hours 1, 2, 5, 30: median (rank 2) 2, p90 (rank 4) 30.
        #expect(t.responseHoursMedian == 2 && t.responseHoursP90 == 30)
        // Resolution hours 26, 50: median (rank 1) 26, p90 (rank 2) 50.
        #expect(t.resolutionHoursMedian == 26 && t.resolutionHoursP90 == 50)
    }

    @Test func groupsByGrid() throws {
        let dir = TempDir()
        var options = Self.november
        options.by = .grid
        let r = try Self.fixture(dir).report(options)
        #expect(r.rows.map(\.group) == ["1", "2"])
        let g2 = r.rows[1]
        #expect(g2.total == 2 && g2.byStatus == ["in_progress": 1, "withdrawn": 1])
        #expect(g2.responseRate == Rate(numerator: 1, denominator: 1))
        #expect(g2.closureRate == Rate(numerator: 0, denominator: 1))
        #expect(g2.satisfactionRate.value == nil && g2.satisfactionRate.percent == "—")
        #expect(g2.overdue == 1)
        let g1 = r.rows[0]
        #expect(g1.total == 4 && g1.responseRate == Rate(numerator: 2, denominator: 4))
        // Rows add up to the total.
        #expect(r.rows.map(\.total).reduce(0, +) == r.total.total)
    }

    @Test func periodFollowsTheTimeZoneAndTheResponseDeadline() throws {
        let dir = TempDir()
        let s = try Self.fixture(dir)
        var utc = Self.november
        utc.timeZone = TimeZone(identifier: "UTC")!
        #expect(try s.report(utc).total.total == 7)  // H falls on 11-30 in UTC
        var strict = Self.november
        strict.responseHours = 1
        #expect(try s.report(strict).total.responseRate == Rate(numerator: 1, denominator: 5))  // only C
        #expect(try s.report(ReportOptions(timeZone: Self.shanghai)).total.total == 8)  // no period: everything
    }

    @Test func thePreviousPeriodIsSetBesideTheCurrentOne() throws {
        func previous(_ from: String, _ to: String) -> [String?] {
            let p = ReportOptions(from: from, to: to, timeZone: Self.shanghai).previousPeriod
            return [p?.from, p?.to]
        }
        #expect(previous("2026-11-01", "2026-11-30") == ["2026-10-01", "2026-10-31"])  // a month: the month before
        #expect(previous("2026-01-01", "2026-01-31") == ["2025-12-01", "2025-12-31"])
        #expect(previous("2024-03-01", "2024-03-31") == ["2024-02-01", "2024-02-29"])
        #expect(previous("2026-11-16", "2026-12-15") == ["2026-10-17", "2026-11-15"])  // a span: as many days before
        #expect(previous("2026-11-03", "2026-11-03") == ["2026-11-02", "2026-11-02"])
        #expect(ReportOptions(from: "2026-11-01", timeZone: Self.shanghai).previousPeriod == nil)
        #expect(ReportOptions(timeZone: Self.shanghai).previousPeriod == nil)
        // Its figures are the report of that period, made on its own.
        let dir = TempDir()
        let s = try Self.fixture(dir)
        let december = try s.report(ReportOptions(from: "2026-12-01", to: "2026-12-31", timeZone: Self.shanghai))
        let p = try #require(december.previous)
        #expect(p.from == "2026-11-01" && p.to == "2026-11-30")
        #expect(p.total == (try s.report(Self.november)).total)
        #expect(p.total.total == 6 && december.total.total == 1)  // H, 12-01 in Shanghai
        #expect(december.previous?.total.responseRate == Rate(numerator: 3, denominator: 5))
    }

    @Test func badOptionsAreRefused() throws {
        let dir = TempDir()
        let s = try Self.fixture(dir)
        #expect(throws: GridSyncError.self) { try s.report(ReportOptions(from: "2026-13-01")) }
        #expect(throws: GridSyncError.self) { try s.report(ReportOptions(from: "2026-11-30", to: "2026-11-01")) }
        #expect(throws: GridSyncError.self) { try s.report(ReportOptions(responseHours: 0)) }
    }

    @Test func nearestRankPercentiles() {
        #expect(RequestReport.nearestRank([], 50) == nil)
        #expect(RequestReport.nearestRank([7], 90) == 7)
        #expect(RequestReport.nearestRank([4, 1, 3, 2], 50) == 2)
        #expect(RequestReport.nearestRank(Array(1...10).map(Double.init), 90) == 9)
        #expect(RequestReport.nearestRank(Array(1...11).map(Double.init), 90) == 10)
    }
}

/// Creation days worked out once per hour of creation times (``DatedRequests``) are the days
/// the calendar gives for each time, in zones with whole, half and quarter hour offsets.
@Suite struct CreationDayTests {
    @Test func creationDaysAreTheCalendarsDays() throws {
        var rng = SplitMix64(seed: 7)
        let base: UInt64 = 1_735_689_600_000  // 2025-01-01T00:00Z
        let records = (0..<5_000).map { i -> RequestRecord in
            // Spread over two years, with many times in the minutes around each zone's midnight.
            let ms = base + rng.next() % (730 * 86_400_000)
            return RequestRecord(
                id: "r\(i)", status: .submitted, grid: "1", building: "1", unit: nil, room: nil, resident: nil, phone: nil, category: "c",
                title: "", detail: nil, due: nil, urgent: false, assignedService: nil, assignedPerson: nil, satisfaction: nil,
                ratingComment: nil, createdAt: Timestamp.iso(i % 2 == 0 ? ms : ms - ms % 1_800_000 + (rng.next() % 120_000)),
                acceptedAt: nil, assignedAt: nil, startedAt: nil, resolvedAt: nil, ratedAt: nil, closedAt: nil, overdue: false)
        }
        for zone in ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "America/New_York", "UTC"] {
            let tz = try #require(TimeZone(identifier: zone))
            let dated = DatedRequests(records, timeZone: tz)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = tz
            for (r, day) in zip(records, dated.createdDays) {
                let date = try #require(r.createdAt.flatMap(Timestamp.parse))
                let c = calendar.dateComponents([.year, .month, .day], from: date)
                let expected = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
                #expect(day == expected, "\(zone) \(r.createdAt ?? "")")
                if day != expected { break }
            }
        }
    }
}
