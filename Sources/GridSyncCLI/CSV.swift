import Foundation

/// CSV as Excel and WPS read it: UTF-8 with a byte-order mark (without it they guess a legacy
/// encoding and show Chinese as mojibake), CRLF line ends, fields quoted when they hold a comma,
/// quote, or line break.
enum CSV {
    static let bom = "\u{FEFF}"

    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The whole document: BOM, header, rows.
    static func document(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\r\n" }.reduce(bom, +)
    }
}
