import Foundation
import GridSyncCore

/// How values read to a person — the terminal and the dashboard alike: local times, status and
/// rating labels, 是/否, `—` for nothing, a lock where this node may not read.
public enum Display {
    /// What a person reads where this node may not read a value.
    public static var unreadable: String { Localized("🔒无权查看", en: "🔒 not readable here").text }
    public static var erased: String { Localized("🔒已抹除", en: "🔒 erased").text }

    public static func yesNo(_ value: Bool) -> String { value ? Localized("是", en: "yes").text : Localized("否", en: "no").text }

    /// A stored UTC time in local time, to the minute (or second); the text itself if unreadable.
    public static func time(_ iso: String?, seconds: Bool = false) -> String {
        guard let iso, let date = Timestamp.parse(iso) else { return iso ?? "—" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .current
        f.dateFormat = seconds ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }

    public static func or(_ s: String?) -> String {
        guard let s, !s.isEmpty else { return "—" }
        return s
    }

    /// A request's personal field as this node may show it: its value, `—`, or 🔒 when it is
    /// sealed for a scope this node does not hold.
    public static func personal(_ r: RequestRecord, _ field: String, _ value: String?) -> String {
        r.canRead(field) ? or(value) : unreadable
    }

    /// A value by the kind the schema gives the field. Text comes back as stored: the caller
    /// makes it safe for where it goes (a terminal, HTML).
    public static func value(_ v: JSONValue, field: String, collection: CollectionSchema = Schema.requests) -> String {
        let kind = collection.spec(field)?.kind
        switch v {
        case .null: return "—"
        case .int(let i):
            if field == Schema.deletedField { return i == 0 ? Localized("保留", en: "kept").text : Localized("删除", en: "deleted").text }
            if kind == .flag { return yesNo(i != 0) }
            return String(i)
        case .text(let s):
            if kind == .status, let st = RequestStatus(rawValue: s) { return "\(st.displayLabel) (\(s))" }
            if field == "satisfaction", let sat = Satisfaction(rawValue: s) { return sat.displayLabel }
            if field == "provider_kind", let k = ProviderKind(rawValue: s) { return k.displayLabel }
            if kind == .timestamp, Timestamp.parse(s) != nil { return time(s, seconds: true) }
            return s
        case .unreadable: return unreadable
        case .erased: return erased
        }
    }

    /// The label of a request's or note's field in history ("状态"), or the field's own name.
    public static func fieldLabel(_ field: String) -> String {
        Schema.requests.spec(field)?.displayLabel ?? Schema.notes.spec(field)?.displayLabel ?? field
    }
}
