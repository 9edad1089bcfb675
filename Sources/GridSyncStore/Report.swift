import Foundation
import GridSyncCore

/// How `gridsync report` splits its rows.
public enum ReportGrouping: String, CaseIterable, Sendable, Codable, Labelled {
    case grid, building, category
    /// The service (服务清单) a request was assigned to, named with its provider; requests
    /// served by a named person or not assigned form their own rows. A row's 解决数 (resolved or
    /// rated) is the service's 服务人次.
    case service

    /// The Chinese column header (``englishLabel``: the English).
    public var englishLabel: String { self == .service ? "Service (provider)" : rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

    // catalogue: data — the groupings' Chinese names (Labelled)
    /// The Chinese column header.
    public var label: String {
        switch self {
        case .grid: "网格"
        case .building: "楼栋"
        case .category: "类别"
        case .service: "服务（提供方）"
        }
    }
    // catalogue: end

    /// The row of a request assigned to no service.
    public static var noService: String { Localized("未派单到服务", en: "not assigned to a service").text }

    /// Row order: numbers by value, so building 1/2 comes before 1/10 (grid and building names
    /// are compared part by part, each part of digits as a number); other text as text.
    public static func order(_ a: String, _ b: String) -> Bool {
        let pa = parts(a), pb = parts(b)
        for (x, y) in zip(pa, pb) where x != y {
            switch (Int(x), Int(y)) {
            case (let i?, let j?): return i < j
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return x < y
            }
        }
        return pa.count != pb.count ? pa.count < pb.count : a < b
    }

    /// "1/10" → ["1", "/", "10"]: runs of digits and runs of everything else.
    private static func parts(_ s: String) -> [String] {
        var out: [String] = []
        for ch in s {
            if let last = out.last, last.last?.isNumber == ch.isNumber, !(ch.isNumber && last.count > 18) {
                out[out.count - 1].append(ch)
            } else {
                out.append(String(ch))
            }
        }
        return out
    }
}

/// What a report covers. Dates are calendar days (YYYY-MM-DD) in `timeZone`, both ends included,
/// and select requests by the day they were created.
public struct ReportOptions: Sendable {
    public var from: String?
    public var to: String?
    public var by: ReportGrouping?
    /// A request counts as responded in time if accepted (or refused) within this many hours.
    public var responseHours: Int
    public var timeZone: TimeZone
    /// For `--by service`: each service's ID and how rows name it ("助老送餐（社区食堂）");
    /// filled in by ``Store/report(_:)``.
    public var serviceNames: [String: String] = [:]
    /// Whether the report sets the previous period beside its own (``previousPeriod``).
    public var withPrevious = true

    /// The same report over the period just before this one: the previous calendar month for
    /// a whole month, else as many days ending the day before `from`. Nil without both ends.
    public var previousPeriod: ReportOptions? {
        guard withPrevious, let from, let to, from <= to, let a = Self.day(from), let b = Self.day(to) else { return nil }
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC") ?? .current
        guard let start = c.date(from: a), let end = c.date(from: b) else { return nil }
        let text = { (d: Date) -> String in
            let x = c.dateComponents([.year, .month, .day], from: d)
            return String(format: "%04d-%02d-%02d", x.year ?? 0, x.month ?? 0, x.day ?? 0)
        }
        var before = self
        before.withPrevious = false
        let wholeMonth = a.day == 1 && c.date(byAdding: .day, value: 1, to: end).map { c.component(.day, from: $0) == 1 } == true
            && a.month == b.month && a.year == b.year
        if wholeMonth, let first = c.date(byAdding: .month, value: -1, to: start), let last = c.date(byAdding: .day, value: -1, to: start) {
            (before.from, before.to) = (text(first), text(last))
        } else {
            let days = (c.dateComponents([.day], from: start, to: end).day ?? 0) + 1
            guard let last = c.date(byAdding: .day, value: -1, to: start), let first = c.date(byAdding: .day, value: -days, to: start) else { return nil }
            (before.from, before.to) = (text(first), text(last))
        }
        return before
    }

    /// The first and last day of month `YYYY-MM`, or nil if `text` is not one.
    public static func monthRange(_ text: String) -> (from: String, to: String)? {
        let p = text.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 2, p[0].count == 4, p[1].count == 2, let y = Int(p[0]), let m = Int(p[1]), (1...12).contains(m), y >= 1 else { return nil }
        let days = m == 2 ? ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28) : [4, 6, 9, 11].contains(m) ? 30 : 31
        return ("\(text)-01", "\(text)-\(days)")
    }

    /// Month `YYYY-MM` moved by `delta` months ("2026-01", -1 → "2025-12"); nil if not a month.
    public static func month(_ text: String, plus delta: Int) -> String? {
        guard monthRange(text) != nil, let y = Int(text.prefix(4)), let m = Int(text.suffix(2)) else { return nil }
        let index = y * 12 + (m - 1) + delta
        guard index >= 12 else { return nil }
        return String(format: "%04d-%02d", index / 12, index % 12 + 1)
    }

    private static func day(_ s: String) -> DateComponents? {
        let p = s.split(separator: "-").compactMap { Int($0) }
        guard p.count == 3 else { return nil }
        return DateComponents(year: p[0], month: p[1], day: p[2])
    }

    public init(from: String? = nil, to: String? = nil, by: ReportGrouping? = nil, responseHours: Int = 24, timeZone: TimeZone = .current) {
        self.from = from
        self.to = to
        self.by = by
        self.responseHours = responseHours
        self.timeZone = timeZone
    }
}

/// One month's figures for the whole community (a dashboard chart's point).
public struct MonthFigures: Sendable, Codable, Equatable {
    /// YYYY-MM.
    public var month: String
    public var total: ReportRow
}

/// Requests with the local day each was created (nil without a readable creation time), worked
/// out once in one time zone.
public struct DatedRequests: Sendable {
    public let records: [RequestRecord]
    public let createdDays: [String?]
    public let timeZone: TimeZone

    public init(_ records: [RequestRecord], timeZone: TimeZone) {
        let day = LocalDay(timeZone: timeZone)
        // A time zone's offset changes on the hour at most: the calendar is asked once per hour
        // of creation times, not once per request.
        var byHour: [Int64: (offset: Int64, day: String)] = [:]
        self.records = records
        self.createdDays = records.map { r in
            guard let date = r.createdAt.flatMap(Timestamp.parse) else { return nil }
            let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
            let hour = seconds >= 0 ? seconds / 3600 : (seconds - 3599) / 3600
            let known: (offset: Int64, day: String)
            if let k = byHour[hour] {
                known = k
            } else {
                let start = Date(timeIntervalSince1970: Double(hour * 3600))
                known = (Int64(timeZone.secondsFromGMT(for: start)), day.of(date: start))
                byHour[hour] = known
            }
            // Offsets are whole quarter hours: within one hour of UTC the local day changes at
            // most once, where local midnight falls.
            let localInHour = ((hour * 3600 + known.offset) % 86_400 + 86_400) % 86_400
            let midnightIn = (86_400 - localInHour) % 86_400
            return midnightIn > 0 && midnightIn < 3600 && seconds - hour * 3600 >= midnightIn ? day.of(date: date) : known.day
        }
        self.timeZone = timeZone
    }
}

/// A share with the counts it comes from; `value` is nil when nothing is counted.
public struct Rate: Sendable, Codable, Equatable {
    public var numerator: Int
    public var denominator: Int

    public var value: Double? { denominator == 0 ? nil : Double(numerator) / Double(denominator) }

    /// "87.5%", or "—" with nothing to count.
    public var percent: String {
        guard let v = value else { return "—" }
        return String(format: "%.1f%%", v * 100)
    }
}

/// One row of a report: one group, or the whole.
public struct ReportRow: Sendable, Codable, Equatable {
    /// The group's value (grid, "grid/building" or category), or "全部" for the total.
    public var group: String
    /// Every request created in the period, withdrawn ones included.
    public var total: Int
    /// Count per status code (`submitted`, `accepted`, …); statuses with no request are absent.
    public var byStatus: [String: Int]
    /// Past the due date: still open after it, or resolved on a later day.
    public var overdue: Int
    /// Hours from creation to the first response (accepted, or refused), nearest rank.
    public var responseHoursMedian: Double?
    public var responseHoursP90: Double?
    /// Hours from creation to resolution, for requests resolved (or rated) now.
    public var resolutionHoursMedian: Double?
    public var resolutionHoursP90: Double?
    /// 响应率: responded within the deadline, over requests to handle (not withdrawn).
    public var responseRate: Rate
    /// 办结率: closed — resolved, rated or refused with a reason — over requests to handle.
    public var closureRate: Rate
    /// 解决率: resolved or rated, over requests to handle.
    public var resolutionRate: Rate
    /// 满意率: rated 满意 or 基本满意, over rated requests.
    public var satisfactionRate: Rate

    enum CodingKeys: String, CodingKey {
        case group, total, overdue
        case byStatus = "by_status"
        case responseHoursMedian = "response_hours_median", responseHoursP90 = "response_hours_p90"
        case resolutionHoursMedian = "resolution_hours_median", resolutionHoursP90 = "resolution_hours_p90"
        case responseRate = "response_rate", closureRate = "closure_rate", resolutionRate = "resolution_rate"
        case satisfactionRate = "satisfaction_rate"
    }
}

/// The centre's figures over the requests a node holds (`docs/REPORTS.md` defines each).
/// The figures of the period before a report's own, to set beside them.
public struct PreviousPeriod: Sendable, Codable, Equatable {
    public var from: String
    public var to: String
    public var rows: [ReportRow]
    public var total: ReportRow
}

public struct RequestReport: Sendable, Codable, Equatable {
    public var from: String?
    public var to: String?
    public var by: ReportGrouping?
    public var responseHours: Int
    /// The local day the report was made; decides what is overdue.
    public var today: String
    /// One row per group, in ``ReportGrouping/order(_:_:)``; empty without grouping.
    public var rows: [ReportRow]
    public var total: ReportRow
    /// The period just before (a month's month before; a span's as many days before), when the
    /// report covers a period with both ends.
    public var previous: PreviousPeriod?

    enum CodingKeys: String, CodingKey {
        case from, to, by, today, rows, total, previous
        case responseHours = "response_hours"
    }

    /// Computes a report over `requests` (deleted ones already left out).
    public static func compute(_ requests: [RequestRecord], options: ReportOptions, nowMs: UInt64) -> RequestReport {
        compute(DatedRequests(requests, timeZone: options.timeZone), options: options, nowMs: nowMs)
    }

    /// Computes a report over requests whose creation days are already worked out: several
    /// reports over one register (a month series) read each creation time once.
    public static func compute(_ dated: DatedRequests, options: ReportOptions, nowMs: UInt64) -> RequestReport {
        let day = LocalDay(timeZone: options.timeZone)
        let today = day.of(ms: nowMs)
        var selected: [RequestRecord] = []
        for (r, d) in zip(dated.records, dated.createdDays) {
            guard let d else { continue }
            if let from = options.from, d < from { continue }
            if let to = options.to, d > to { continue }
            selected.append(r)
        }
        let requests = dated
        func row(_ group: String, _ rs: [RequestRecord]) -> ReportRow {
            summarize(group, rs, responseHours: options.responseHours, today: today, day: day)
        }
        var rows: [ReportRow] = []
        if let by = options.by {
            let groups = Dictionary(grouping: selected) { r -> String in
                switch by {
                case .grid: r.grid
                case .building: r.grid + "/" + r.building
                case .category: r.category
                case .service: r.assignedService.map { options.serviceNames[$0] ?? Localized("服务 \($0.prefix(8))", en: "service \($0.prefix(8))").text } ?? ReportGrouping.noService
                }
            }
            rows = groups.keys.sorted(by: ReportGrouping.order).map { row($0, groups[$0]!) }
        }
        var report = RequestReport(
            from: options.from, to: options.to, by: options.by, responseHours: options.responseHours, today: today,
            rows: rows, total: row(Localized("全部", en: "All").text, selected))
        if let before = options.previousPeriod {
            let p = compute(requests, options: before, nowMs: nowMs)
            report.previous = PreviousPeriod(from: before.from ?? "", to: before.to ?? "", rows: p.rows, total: p.total)
        }
        return report
    }

    static func summarize(_ group: String, _ rs: [RequestRecord], responseHours: Int, today: String, day: LocalDay) -> ReportRow {
        var byStatus: [String: Int] = [:]
        var overdue = 0
        var responseHoursList: [Double] = []
        var resolutionHoursList: [Double] = []
        var toHandle = 0, respondedInTime = 0, closed = 0, resolved = 0, rated = 0, satisfied = 0
        for r in rs {
            byStatus[r.status.rawValue, default: 0] += 1
            guard r.status != .withdrawn else { continue }
            toHandle += 1
            let created = r.createdAt.flatMap(Timestamp.parse)
            let isResolved = r.status == .resolved || r.status == .rated
            // Response: acceptance, or a refusal (which closes the request with a reason).
            let responded = r.acceptedAt.flatMap(Timestamp.parse) ?? (r.status == .rejected ? r.closedAt.flatMap(Timestamp.parse) : nil)
            if let created, let responded {
                let hours = responded.timeIntervalSince(created) / 3600
                responseHoursList.append(hours)
                if hours <= Double(responseHours) { respondedInTime += 1 }
            }
            if r.status.isClosed { closed += 1 }  // resolved, rated or refused (withdrawn skipped above)
            if isResolved {
                resolved += 1
                if let created, let done = r.resolvedAt.flatMap(Timestamp.parse) {
                    resolutionHoursList.append(done.timeIntervalSince(created) / 3600)
                }
            }
            if r.status == .rated, let s = r.satisfaction {
                rated += 1
                if s == Satisfaction.satisfied.rawValue || s == Satisfaction.basicallySatisfied.rawValue { satisfied += 1 }
            }
            if let due = r.due {
                if isResolved {
                    if let done = r.resolvedAt.flatMap(Timestamp.parse), day.of(date: done) > due { overdue += 1 }
                } else if !r.status.isClosed, today > due {
                    overdue += 1
                }
            }
        }
        return ReportRow(
            group: group, total: rs.count, byStatus: byStatus, overdue: overdue,
            responseHoursMedian: nearestRank(responseHoursList, 50), responseHoursP90: nearestRank(responseHoursList, 90),
            resolutionHoursMedian: nearestRank(resolutionHoursList, 50), resolutionHoursP90: nearestRank(resolutionHoursList, 90),
            responseRate: Rate(numerator: respondedInTime, denominator: toHandle),
            closureRate: Rate(numerator: closed, denominator: toHandle),
            resolutionRate: Rate(numerator: resolved, denominator: toHandle),
            satisfactionRate: Rate(numerator: satisfied, denominator: rated))
    }

    /// The `p`th percentile by nearest rank: the smallest value with at least p % of the values
    /// at or below it (the median of 1, 2, 3, 4 is 2).
    static func nearestRank(_ values: [Double], _ p: Int) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((Double(p) / 100 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count, rank) - 1)]
    }
}

/// Calendar days (YYYY-MM-DD) in one time zone: due dates, "today", report periods.
struct LocalDay {
    let calendar: Calendar
    /// Local hours already worked out (``startOfHour(_:_:_:_:)``).
    let hours = HourCache()

    final class HourCache: @unchecked Sendable {
        private let lock = NSLock()
        private var starts: [Int: UInt64] = [:]
        func get(_ key: Int) -> UInt64? { lock.withLock { starts[key] } }
        func set(_ key: Int, _ ms: UInt64) { lock.withLock { starts[key] = ms } }
    }

    init(timeZone: TimeZone) {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        calendar = c
    }

    func of(date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    func of(ms: UInt64) -> String { of(date: Date(timeIntervalSince1970: Double(ms) / 1000)) }
}

extension Store {
    /// The report over every request this node holds.
    public func report(_ options: ReportOptions) throws -> RequestReport {
        try Self.checkReportOptions(options)
        let options = try namingServices(options)
        return RequestReport.compute(try reportRequests(options.timeZone), options: options, nowMs: wallClock())
    }

    /// The report of `month` (YYYY-MM, with the month before beside it, as `report --month`
    /// gives it) and the whole community's figures for each of the `months` months ending with
    /// it, oldest first — from one read of the register.
    public func monthlyReport(_ month: String, months: Int, by: ReportGrouping? = nil, responseHours: Int = 24) throws -> (report: RequestReport, series: [MonthFigures]) {
        guard let range = ReportOptions.monthRange(month) else {
            throw GridSyncError(.invalidInput, Localized("月份「\(month)」应为 YYYY-MM，例如 2026-11", en: "month '\(month)' must be YYYY-MM, e.g. 2026-11"))
        }
        guard (1...120).contains(months) else {
            throw GridSyncError(.invalidInput, Localized("月数须为 1 到 120", en: "the number of months must be 1 to 120"))
        }
        var options = ReportOptions(from: range.from, to: range.to, by: by, responseHours: responseHours)
        try Self.checkReportOptions(options)
        options = try namingServices(options)
        let dated = try reportRequests(options.timeZone)
        let now = wallClock()
        let report = RequestReport.compute(dated, options: options, nowMs: now)
        var series: [MonthFigures] = []
        for back in stride(from: months - 1, through: 0, by: -1) {
            guard let m = ReportOptions.month(month, plus: -back), let r = ReportOptions.monthRange(m) else { continue }
            var o = ReportOptions(from: r.from, to: r.to, responseHours: responseHours, timeZone: options.timeZone)
            o.withPrevious = false
            series.append(MonthFigures(month: m, total: RequestReport.compute(dated, options: o, nowMs: now).total))
        }
        return (report, series)
    }

    /// This month (YYYY-MM) in the local time zone, by this store's clock.
    public func currentMonth() -> String { String(LocalDay(timeZone: .current).of(ms: wallClock()).prefix(7)) }

    /// Every request, clear fields only (nothing is opened), with its creation day: read as
    /// the district push reads them (``districtExtract(since:)``), so a report here and the
    /// district's report of this community count the same rows the same way.
    private func reportRequests(_ timeZone: TimeZone) throws -> DatedRequests {
        let rows = try districtExtract(since: 0).requests.lazy.filter { !$0.deleted }.compactMap(\.record)
        return DatedRequests(Array(rows), timeZone: timeZone)
    }

    /// For a report by service: how each service's row is named ("助老送餐（社区食堂）").
    private func namingServices(_ options: ReportOptions) throws -> ReportOptions {
        guard options.by == .service else { return options }
        var options = options
        let all = try services()
        let label = { (s: ServiceRecord) in s.provider.map { Localized("\(s.name)（\($0)）", en: "\(s.name) (\($0))").text } ?? s.name }
        let repeated = Set(Dictionary(grouping: all, by: label).filter { $0.value.count > 1 }.keys)
        for s in all {
            // Two services of the same name and provider stay two rows.
            options.serviceNames[s.id] = repeated.contains(label(s)) ? "\(label(s)) \(s.id.prefix(6))" : label(s)
        }
        return options
    }

    /// What a report's period and deadline must be, for this node's report and the district's.
    public static func checkReportOptions(_ options: ReportOptions) throws {
        if let from = options.from { _ = try Validate.date(from, "--from") }
        if let to = options.to { _ = try Validate.date(to, "--to") }
        if let from = options.from, let to = options.to, from > to {
            throw GridSyncError(.invalidInput, Localized("--from \(from) 晚于 --to \(to)；请先写较早的一天", en: "--from \(from) is after --to \(to); give the earlier day first"))
        }
        guard options.responseHours > 0 else {
            throw GridSyncError(.invalidInput, Localized("--response-hours 至少为 1", en: "--response-hours must be at least 1"))
        }
    }
}
