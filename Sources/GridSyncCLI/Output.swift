import Foundation
import GridSyncCore
import GridSyncStore

enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func line(_ s: String = "", terminator: String = "\n") { print(s, terminator: terminator) }

    static func warn(_ s: String) { FileHandle.standardError.write(Data((L("gridsync：", en: "gridsync: ") + s + "\n").utf8)) }

    /// A stored UTC timestamp shown in local time, to the minute (or the second).
    static func time(_ iso: String?, seconds: Bool = false) -> String { Display.time(iso, seconds: seconds) }

    /// First 8 characters of a record ID: enough to type as a prefix.
    static func shortID(_ id: String) -> String { String(id.prefix(8)) }

    static func or(_ s: String?) -> String { Display.or(s) }

    /// What a node that may not read a sealed value shows in its place.
    /// What a person reads where this node may not read a value.
    static var unreadable: String { Display.unreadable }

    /// What an export writes in a cell this node may not read, in every language: the file
    /// format's marker, which `request import` reads as "leave this field as it is".
    static let sealedCell = "🔒无权查看"  // catalogue: data — a file-format marker, the same in every language

    /// A request's personal field as this node may show it: its value, `—`, or 🔒 when it is
    /// sealed for a scope this node does not hold.
    static func personal(_ r: RequestRecord, _ field: String, _ value: String?) -> String {
        Display.personal(r, field, value)
    }

    /// Node ID with its name: `ABCDEFG (三号楼)`.
    static func node(_ text: String, _ name: String?) -> String { Display.node(text, name) }

    /// Label/value lines, labels padded to one display width.
    static func fields(_ rows: [(String, String)]) {
        let width = rows.map { DisplayWidth.of($0.0) }.max() ?? 0
        for (k, v) in rows { line("\(DisplayWidth.pad(k, to: width))  \(TerminalText.safe(v))") }
    }

    /// A record's history as an indented table; keep-alive writes of `_deleted = 0` are left out.
    static func history(_ entries: [HistoryEntry]) {
        line()
        line(L("历史：", en: "History:"))
        var table = TextTable(Headers.history, maxWidths: [nil, 24, nil, 40])
        for h in entries where !(h.field == Schema.deletedField && h.value == .int(0)) {
            table.add([time(h.time, seconds: true), node(h.origin, h.originName), Display.fieldLabel(h.field), value(h.value, field: h.field)])
        }
        line(table.render(fitting: TerminalWidth.current().map { $0 - 2 }, keep: [0, 2]).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    }

    /// A value as users read it, by the kind the schema gives the field: status and rating
    /// labels, 是/否 flags, `—` for null.
    static func value(_ v: JSONValue, field: String, collection: CollectionSchema = Schema.requests) -> String {
        TerminalText.safe(Display.value(v, field: field, collection: collection))
    }

}
