import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore

/// `gridsync report`: the centre's figures — counts by status, overdue, response and resolution
/// times, and the four rates of 接诉即办 assessment — over the requests this node holds.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: L("本节点所持需求的数量、用时和四率（响应率、办结率、解决率、满意率）。", en: "Counts, times and the four rates (response, closure, resolution, satisfaction) over the requests this node holds."),
        discussion: L("""
            按需求创建的本地日期选取，首尾两天都包括在内。社区中心持有所有楼栋的需求，\
            所以它的报表覆盖整个社区。每个指标的定义见 docs/REPORTS.md。
            """, en: """
            Requests are selected by the local day they were created, both ends included. The \
            centre holds every building's requests, so its report covers the community. Each \
            figure is defined in docs/REPORTS.md.
            """))

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    @OptionGroup var store: StoreOptions
    @OptionGroup var period: ReportPeriodOptions
    @Option(help: L("每个网格、楼栋、类别或服务一行（按服务和提供方统计服务人次）。", en: "One row per grid, building, category or service (people served per service and provider).")) var by: ReportGrouping?
    @OptionGroup var format: ReportFormatOptions

    /// The first and last day of month `YYYY-MM`, or nil if it is not one.
    static func monthRange(_ text: String) throws -> (String, String)? {
        ReportOptions.monthRange(text).map { ($0.from, $0.to) }
    }

    func run() throws {
        let report = try store.open().report(try period.options(by: by))
        switch format.chosen {
        case .json: try Output.json(report)
        case .csv: FileHandle.standardOutput.write(Data(report.csv.utf8))
        case .table: Self.table(report)
        }
    }

    static let statusColumns = ReportColumn.statuses

    static func period(_ r: RequestReport) -> String {
        "\(r.from ?? L("最早", en: "first")) — \(r.to ?? L("至今", en: "today"))"
    }

    static func hours(_ h: Double?) -> String { RequestReport.hours(h) }

    static func rows(_ r: RequestReport) -> [ReportRow] { r.allRows }

    static func table(_ r: RequestReport) {
        Output.line(L("需求报表  \(period(r))（截至 \(r.today)；响应时限 \(r.responseHours) 小时）", en: "Request report  \(period(r))  (as of \(r.today); response deadline \(r.responseHours) h)"))
        Output.line()
        let groupHeader = r.by?.displayLabel ?? Column.scope
        // By service, the requests it resolved are its 服务人次 (times it served a resident).
        let served = r.by == .service
        var counts = TextTable(
            [groupHeader, Column.total] + statusColumns.map(\.displayLabel) + [Column.overdue] + (served ? [Column.served] : []),
            maxWidths: [24] + Array(repeating: nil, count: statusColumns.count + (served ? 3 : 2)))
        for row in rows(r) {
            counts.add(
                [row.group, String(row.total)] + statusColumns.map { String(row.byStatus[$0.rawValue] ?? 0) } + [String(row.overdue)]
                    + (served ? [String(row.resolutionRate.numerator)] : []))
        }
        Output.line(counts.renderSplit(fitting: TerminalWidth.current()))
        Output.line()
        var rates = TextTable(
            [groupHeader] + Column.rates + Column.hours,
            maxWidths: [24, nil, nil, nil, nil, nil, nil, nil, nil])
        for row in rows(r) {
            rates.add([
                row.group, row.responseRate.percent, row.closureRate.percent, row.resolutionRate.percent, row.satisfactionRate.percent,
                hours(row.responseHoursMedian), hours(row.responseHoursP90), hours(row.resolutionHoursMedian), hours(row.resolutionHoursP90),
            ])
        }
        Output.line(rates.renderSplit(fitting: TerminalWidth.current()))
        if let p = r.previous { comparison(r.total, p) }
        if r.total.total == 0 { Output.line(L("\n该时段没有需求。", en: "\nNo requests in this period.")) }
    }

    /// The whole's figures beside those of the period before, with the change (in percentage
    /// points for the rates).
    static func comparison(_ now: ReportRow, _ p: PreviousPeriod) {
        Output.line()
        Output.line(L("与上期比较（\(p.from) — \(p.to)）", en: "Compared with \(p.from) — \(p.to)"))
        var t = TextTable([L("指标", en: "Figure"), L("本期", en: "This period"), L("上期", en: "Previous"), L("变化", en: "Change")])
        let change = now.total - p.total.total
        t.add([Column.total, String(now.total), String(p.total.total), change > 0 ? "+\(change)" : String(change)])
        let pairs = [(now.responseRate, p.total.responseRate), (now.closureRate, p.total.closureRate),
                     (now.resolutionRate, p.total.resolutionRate), (now.satisfactionRate, p.total.satisfactionRate)]
        for (label, (a, b)) in zip(Column.rates, pairs) {
            t.add([label, a.percent, b.percent, pointsChange(a, b)])
        }
        Output.line(t.renderSplit(fitting: TerminalWidth.current()))
    }

    /// "+3.5" / "-2.0" / "0.0" percentage points, or "—" when either side has nothing to count.
    static func pointsChange(_ now: Rate, _ before: Rate) -> String {
        guard let a = now.value, let b = before.value else { return "—" }
        let d = (a - b) * 100
        return (d > 0.05 ? "+" : "") + String(format: "%.1f", d)
    }
}

extension ReportGrouping: ExpressibleByArgument {}

/// What a report covers — the days and the response deadline — for `report` and `district report`.
struct ReportPeriodOptions: ParsableArguments {
    @Option(help: L("起始日，YYYY-MM-DD（按创建日）。", en: "First day, YYYY-MM-DD (by creation day).")) var from: String?
    @Option(help: L("截止日，YYYY-MM-DD（含当天）。", en: "Last day, YYYY-MM-DD (included).")) var to: String?
    @Option(help: ArgumentHelp(L("一个自然月，代替 --from 和 --to。", en: "A calendar month, instead of --from and --to."), valueName: "YYYY-MM")) var month: String?
    @Option(help: L("需求须在多少小时内受理（或不予受理）才算及时响应。", en: "Hours within which a request must be accepted (or refused) to count as responded in time.")) var responseHours = 24

    func validate() throws {
        if month != nil, from != nil || to != nil { throw ValidationError(L("--month 与 --from/--to 只能给一种", en: "give --month, or --from/--to, not both")) }
        if month != nil, try ReportCommand.monthRange(month!) == nil { throw ValidationError(L("--month 应为 YYYY-MM，例如 2026-11", en: "--month must be YYYY-MM, e.g. 2026-11")) }
    }

    func options(by: ReportGrouping?) throws -> ReportOptions {
        let range = try month.flatMap(ReportCommand.monthRange)
        return ReportOptions(from: range?.0 ?? from, to: range?.1 ?? to, by: by, responseHours: responseHours)
    }
}

/// How a report is printed.
struct ReportFormatOptions: ParsableArguments {
    @Option(help: L("table（对齐，中文标签）、csv（带 BOM 的 UTF-8，供 Excel 和 WPS）或 json。", en: "table (aligned), csv (UTF-8 with BOM, for Excel and WPS) or json.")) var format: ReportCommand.Format = .table
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if output.json, format == .csv { throw ValidationError(L("--json 与 --format csv 只能给一个", en: "give --json or --format csv, not both")) }
    }

    var chosen: ReportCommand.Format { output.json ? .json : format }
}

extension ReportCommand {
    /// The report's column headers (shared with the dashboard).
    typealias Column = ReportColumn
}
