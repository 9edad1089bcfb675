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
    static func time(_ iso: String?, seconds: Bool = false) -> String {
        guard let iso, let date = Timestamp.parse(iso) else { return iso ?? "—" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .current
        f.dateFormat = seconds ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }

    /// First 8 characters of a record ID: enough to type as a prefix.
    static func shortID(_ id: String) -> String { String(id.prefix(8)) }

    static func or(_ s: String?) -> String { (s?.isEmpty ?? true) ? "—" : s! }

    /// What a node that may not read a sealed value shows in its place.
    /// What a person reads where this node may not read a value.
    static var unreadable: String { L("🔒无权查看", en: "🔒 not readable here") }

    /// What an export writes in a cell this node may not read, in every language: the file
    /// format's marker, which `request import` reads as "leave this field as it is".
    static let sealedCell = "🔒无权查看"  // catalogue: data — a file-format marker, the same in every language

    /// A request's personal field as this node may show it: its value, `—`, or 🔒 when it is
    /// sealed for a scope this node does not hold.
    static func personal(_ r: RequestRecord, _ field: String, _ value: String?) -> String {
        r.canRead(field) ? or(value) : unreadable
    }

    /// Node ID with its name: `ABCDEFG (三号楼)`.
    static func node(_ text: String, _ name: String?) -> String {
        let short = String(text.prefix(7))
        return name.map { "\(short) (\($0))" } ?? short
    }

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
            let label = Schema.requests.spec(h.field)?.displayLabel ?? Schema.notes.spec(h.field)?.displayLabel
            table.add([time(h.time, seconds: true), node(h.origin, h.originName), label ?? h.field, value(h.value, field: h.field)])
        }
        line(table.render(fitting: TerminalWidth.current().map { $0 - 2 }, keep: [0, 2]).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    }

    /// A value as users read it, by the kind the schema gives the field: status and rating
    /// labels, 是/否 flags, `—` for null.
    static func value(_ v: JSONValue, field: String, collection: CollectionSchema = Schema.requests) -> String {
        let kind = collection.spec(field)?.kind
        switch v {
        case .null: return "—"
        case .int(let i):
            if field == Schema.deletedField { return i == 0 ? L("保留", en: "kept") : L("删除", en: "deleted") }
            if kind == .flag { return Headers.yesNo(i != 0) }
            return String(i)
        case .text(let s):
            if kind == .status, let st = RequestStatus(rawValue: s) { return "\(st.displayLabel) (\(s))" }
            if field == "satisfaction", let sat = Satisfaction(rawValue: s) { return sat.displayLabel }
            if field == "provider_kind", let k = ProviderKind(rawValue: s) { return k.displayLabel }
            if kind == .timestamp, Timestamp.parse(s) != nil { return time(s, seconds: true) }
            return TerminalText.safe(s)
        case .unreadable: return unreadable
        case .erased: return L("🔒已抹除", en: "🔒 erased")
        }
    }
}
