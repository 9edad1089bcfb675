import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore

/// `gridsync report`: the centre's figures — counts by status, overdue, response and resolution
/// times, and the four rates of 接诉即办 assessment — over the requests this node holds.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Counts, times and the four rates (响应率 办结率 解决率 满意率) over the requests this node holds.",
        discussion: """
            Requests are selected by the local day they were created, both ends included. The \
            centre holds every building's requests, so its report covers the community. Each \
            figure is defined in docs/REPORTS.md.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    @OptionGroup var store: StoreOptions
    @Option(help: "First day, YYYY-MM-DD (by creation day).") var from: String?
    @Option(help: "Last day, YYYY-MM-DD (included).") var to: String?
    @Option(help: "One row per grid, building or category.") var by: ReportGrouping?
    @Option(help: "table (aligned, Chinese labels), csv (UTF-8 with BOM, for Excel and WPS) or json.") var format: Format = .table
    @Option(help: "Hours within which a request must be accepted (or refused) to count as responded in time.") var responseHours = 24

    func run() throws {
        let report = try store.open().report(ReportOptions(from: from, to: to, by: by, responseHours: responseHours))
        switch format {
        case .json: try Output.json(report)
        case .csv: FileHandle.standardOutput.write(Data(Self.csv(report).utf8))
        case .table: Self.table(report)
        }
    }

    static let statusColumns = RequestStatus.allCases

    static func period(_ r: RequestReport) -> String {
        "\(r.from ?? "最早") — \(r.to ?? "至今")"
    }

    static func hours(_ h: Double?) -> String { h.map { String(format: "%.1f", $0) } ?? "—" }

    static func rows(_ r: RequestReport) -> [ReportRow] { r.rows + [r.total] }

    static func table(_ r: RequestReport) {
        Output.line("需求报表 Request report  \(period(r))  (as of \(r.today); response deadline \(r.responseHours) h)")
        Output.line()
        let groupHeader = r.by?.label ?? "范围"
        var counts = TextTable([groupHeader, "总数"] + statusColumns.map(\.label) + ["逾期"], maxWidths: [24] + Array(repeating: nil, count: statusColumns.count + 2))
        for row in rows(r) {
            counts.add([row.group, String(row.total)] + statusColumns.map { String(row.byStatus[$0.rawValue] ?? 0) } + [String(row.overdue)])
        }
        Output.line(counts.render())
        Output.line()
        var rates = TextTable(
            [groupHeader, "响应率", "办结率", "解决率", "满意率", "响应时长中位(h)", "响应P90(h)", "办结时长中位(h)", "办结P90(h)"],
            maxWidths: [24, nil, nil, nil, nil, nil, nil, nil, nil])
        for row in rows(r) {
            rates.add([
                row.group, row.responseRate.percent, row.closureRate.percent, row.resolutionRate.percent, row.satisfactionRate.percent,
                hours(row.responseHoursMedian), hours(row.responseHoursP90), hours(row.resolutionHoursMedian), hours(row.resolutionHoursP90),
            ])
        }
        Output.line(rates.render())
        if r.total.total == 0 { Output.line("\n该时段没有需求 (no requests in this period).") }
    }

    static func csv(_ r: RequestReport) -> String {
        let header = [r.by?.label ?? "范围", "总数"] + statusColumns.map(\.label) + [
            "逾期", "响应率", "响应及时数", "办结率", "办结数", "解决率", "解决数", "应办数", "满意率", "满意数", "参评数",
            "响应时长中位(h)", "响应P90(h)", "办结时长中位(h)", "办结P90(h)",
        ]
        let body = rows(r).map { row in
            [row.group, String(row.total)] + statusColumns.map { String(row.byStatus[$0.rawValue] ?? 0) } + [
                String(row.overdue),
                row.responseRate.percent, String(row.responseRate.numerator),
                row.closureRate.percent, String(row.closureRate.numerator),
                row.resolutionRate.percent, String(row.resolutionRate.numerator), String(row.resolutionRate.denominator),
                row.satisfactionRate.percent, String(row.satisfactionRate.numerator), String(row.satisfactionRate.denominator),
                hours(row.responseHoursMedian), hours(row.responseHoursP90), hours(row.resolutionHoursMedian), hours(row.resolutionHoursP90),
            ]
        }
        return CSV.document(header: header, rows: body)
    }
}

extension ReportGrouping: ExpressibleByArgument {}
