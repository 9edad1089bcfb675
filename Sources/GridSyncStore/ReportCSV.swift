import Foundation
import GridSyncCore

/// CSV as Excel and WPS read it: UTF-8 with a byte-order mark (without it they guess a legacy
/// encoding and show Chinese as mojibake), CRLF line ends, fields quoted when they hold a comma,
/// quote, or line break. Every CSV gridsync writes — `report`, `request export`, the district
/// report and the dashboard's downloads — goes through here.
public enum CSV {
    public static let bom = "\u{FEFF}"

    /// First characters that make Excel or WPS read a cell as a formula (OWASP's list).
    public static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// A cell that a spreadsheet would evaluate gets a leading `'`, which shows the text as typed
    /// and runs nothing; the CSV reader takes it off again on import.
    public static func neutralised(_ s: String) -> String {
        guard let first = s.first, formulaStarts.contains(first) else { return s }
        return "'" + s
    }

    public static func field(_ raw: String) -> String {
        let s = neutralised(raw)
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The whole document: BOM, header, rows.
    public static func document(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\r\n" }.reduce(bom, +)
    }
}

/// A report's column headers, in this process's language: the terminal table, the CSV and the
/// dashboard's tables name the figures alike.
public enum ReportColumn {
    public static var scope: String { Localized("范围", en: "Scope").text }
    public static var total: String { Localized("总数", en: "Total").text }
    public static var overdue: String { Localized("逾期", en: "Overdue").text }
    public static var served: String { Localized("服务人次", en: "People served").text }
    public static var rates: [String] {
        [Localized("响应率", en: "Response").text, Localized("办结率", en: "Closure").text,
         Localized("解决率", en: "Resolution").text, Localized("满意率", en: "Satisfaction").text]
    }
    public static var hours: [String] {
        [Localized("响应时长中位(h)", en: "Response median (h)").text, Localized("响应P90(h)", en: "Response P90 (h)").text,
         Localized("办结时长中位(h)", en: "Closure median (h)").text, Localized("办结P90(h)", en: "Closure P90 (h)").text]
    }
    /// The statuses counted, in lifecycle order.
    public static let statuses = RequestStatus.allCases
}

extension RequestReport {
    /// The group rows, then the whole.
    public var allRows: [ReportRow] { rows + [total] }

    /// Hours with one decimal, or "—" when there is nothing to measure.
    public static func hours(_ h: Double?) -> String { h.map { String(format: "%.1f", $0) } ?? "—" }

    /// The report as `gridsync report --format csv` writes it (and the dashboard offers it).
    public var csv: String {
        let counted: [String] = [
            Localized("响应率", en: "Response rate").text, Localized("响应及时数", en: "Responded in time").text,
            Localized("办结率", en: "Closure rate").text, Localized("办结数", en: "Closed").text,
            Localized("解决率", en: "Resolution rate").text, Localized("解决数", en: "Resolved").text, Localized("应办数", en: "To resolve").text,
            Localized("满意率", en: "Satisfaction rate").text, Localized("满意数", en: "Satisfied").text, Localized("参评数", en: "Rated").text,
        ]
        let header = [by?.displayLabel ?? ReportColumn.scope, ReportColumn.total] + ReportColumn.statuses.map(\.displayLabel)
            + [ReportColumn.overdue] + counted + ReportColumn.hours
        let hours = Self.hours
        let body = allRows.map { row in
            [row.group, String(row.total)] + ReportColumn.statuses.map { String(row.byStatus[$0.rawValue] ?? 0) } + [
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
