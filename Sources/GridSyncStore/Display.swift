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

    /// A node ID with its name: `ABCDEFG (三号楼)` (the first 7 characters: enough to type).
    public static func node(_ id: String, _ name: String?) -> String {
        let short = String(id.prefix(7))
        return name.map { "\(short) (\($0))" } ?? short
    }

    /// The label of a request's or note's field in history ("状态"), or the field's own name.
    public static func fieldLabel(_ field: String) -> String {
        Schema.requests.spec(field)?.displayLabel ?? Schema.notes.spec(field)?.displayLabel ?? field
    }

    /// A request's fields as its detail shows them (terminal and dashboard): label and value,
    /// personal ones as this node may read them. `service` names the service it is assigned
    /// to, if it is.
    public static func requestFields(_ r: RequestRecord, service: String?) -> [(label: String, value: String)] {
        let place = Localized("网格 \(r.grid) · 楼栋 \(r.building)", en: "grid \(r.grid) · building \(r.building)").text
            + (r.unit.map { Localized(" · 单元 \($0)", en: " · unit \($0)").text } ?? "")
            + (r.room.map { Localized(" · \($0)室", en: " · room \($0)").text } ?? "")
            + (r.canRead("room") ? "" : " · " + unreadable)
        let rating = r.satisfaction.flatMap { Satisfaction(rawValue: $0)?.displayLabel }
            .map { $0 + (r.ratingComment.map { Localized("：\($0)", en: ": \($0)").text } ?? "") }
        return [
            (Localized("编号", en: "ID").text, r.id),
            (Localized("状态", en: "Status").text, "\(r.status.displayLabel) (\(r.status.rawValue))"),
            (Localized("标题", en: "Title").text, personal(r, "title", r.title)),
            (Localized("类别", en: "Category").text, r.category),
            (Localized("位置", en: "Place").text, place),
            (Localized("居民", en: "Resident").text, personal(r, "resident", r.resident)),
            (Localized("电话", en: "Phone").text, personal(r, "phone", r.phone)),
            (Localized("详情", en: "Detail").text, personal(r, "detail", r.detail)),
            (Localized("期限", en: "Due").text, or(r.due) + (r.overdue ? Localized("（已逾期）", en: " (overdue)").text : "")),
            (Localized("紧急", en: "Urgent").text, yesNo(r.urgent)),
            (Localized("派单", en: "Assigned").text, service ?? r.assignedPerson ?? "—"),
            (Localized("评价", en: "Rating").text, rating ?? "—"),
            (Localized("登记", en: "Created").text, time(r.createdAt)),
            (Localized("受理", en: "Accepted").text, time(r.acceptedAt)),
            (Localized("办结", en: "Resolved").text, time(r.resolvedAt)),
        ]
    }
}
