import Foundation
import GridSyncCore
import GridSyncStore

/// What each page shows, built from the store: the figures come from the same code as
/// `gridsync report` (``Store/monthlyReport(_:months:by:responseHours:)``), personal data only
/// for a signed-in user and only as this node may read it.
struct Pages {
    let store: Store
    let responseHours: Int
    let cache: FigureCache

    func figures(_ month: String, by: ReportGrouping? = nil) throws -> FigureCache.Figures {
        try cache.figures(store, month: month, by: by, responseHours: responseHours)
    }

    /// A node not heard of for longer than this is shown as lagging.
    static let laggingAfter: TimeInterval = 7 * 86_400

    func common(_ title: String, user: String?, current: String) -> [String: Any] {
        var c: [String: Any] = [
            "lang": Language.current == .en ? "en" : "zh-CN", "pageTitle": title, "t": Texts.all,
            "nodeName": store.node.name, "generated": Display.time(Timestamp.iso(UInt64(Date().timeIntervalSince1970 * 1000))),
            current: true,
        ]
        if let user { c["user"] = user }
        return c
    }

    func monthContext(_ month: String, action: String) -> [String: Any] {
        ["month": month, "action": action,
         "previousMonth": ReportOptions.month(month, plus: -1) ?? month, "nextMonth": ReportOptions.month(month, plus: 1) ?? month]
    }

    /// How many overdue requests the overview lists.
    static let overdueShown = 50

    static let rateKeys = ["response", "closure", "resolution", "satisfaction"]

    static func rates(_ row: ReportRow) -> [Rate] { [row.responseRate, row.closureRate, row.resolutionRate, row.satisfactionRate] }

    // MARK: Overview

    func overview(month: String, user: String?) throws -> [String: Any] {
        let (report, series) = try figures(month)
        var c = common(Localized("概览 \(month)", en: "Overview \(month)").text, user: user, current: "isOverview")
        c.merge(monthContext(month, action: "/")) { a, _ in a }
        c["heading"] = Localized("\(store.node.name) · \(month) 需求概览", en: "\(store.node.name) · requests in \(month)").text
        let now = Self.rates(report.total), before = report.previous.map { Self.rates($0.total) }
        c["rates"] = zip(Self.rateKeys.indices, ReportColumn.rates).map { i, name -> [String: Any] in
            let r = now[i]
            var change = "—", trend = ""
            if let a = r.value, let b = before?[i].value {
                let d = (a - b) * 100
                change = (d > 0.05 ? "+" : "") + String(format: "%.1f", d) + " " + Localized("个百分点", en: "points").text
                trend = d > 0.05 ? "up" : d < -0.05 ? "down" : ""
            }
            return ["key": Self.rateKeys[i], "name": name, "percent": r.percent, "numerator": r.numerator,
                    "denominator": r.denominator, "change": change, "trend": trend]
        }
        c["rateNames"] = ReportColumn.rates
        c["series"] = series.map { m -> [String: Any] in
            ["month": m.month, "cells": Self.rates(m.total).map(\.percent), "total": m.total.total]
        }
        let classes = ["s1", "s2", "s3", "s4"]
        c["trendChart"] = Charts.lines(
            title: Texts.entries["chartTrend"]?.text ?? "", description: Localized("各月的四率，数值见下表。", en: "Each month's four rates; the table below gives the figures.").text,
            labels: series.map { String($0.month.suffix(2)) },
            series: ReportColumn.rates.indices.map { i in
                Charts.Series(name: ReportColumn.rates[i], cssClass: classes[i], values: series.map { Self.rates($0.total)[i].value })
            }, id: "trend")
        let statuses = ReportColumn.statuses.map { s -> (RequestStatus, Int) in (s, report.total.byStatus[s.rawValue] ?? 0) }
        c["statuses"] = statuses.map { ["key": $0.0.rawValue, "name": $0.0.displayLabel, "count": $0.1] as [String: Any] }
        c["monthTotal"] = report.total.total
        c["statusChart"] = Charts.bars(
            title: Texts.entries["chartStatus"]?.text ?? "", description: Localized("本月各状态的需求数，数值见下表。", en: "This month's requests by status; the table below gives the figures.").text,
            rows: statuses.map { ($0.0.displayLabel, $0.1) }, id: "status")
        // Overdue now, whatever month is shown: what needs chasing today, soonest due first.
        var filter = RequestFilter()
        filter.overdueOnly = true
        filter.sort = .due
        filter.limit = Self.overdueShown
        let overdue = try user == nil ? store.clearRequestPage(filter) : store.requestPage(filter)
        let today = store.today()
        c["overdueCount"] = overdue.total
        c["has_overdue"] = !overdue.records.isEmpty
        c["overdueMore"] = overdue.total > overdue.records.count
        c["overdue"] = overdue.records.map { r -> [String: Any] in
            var row: [String: Any] = [
                "id": r.id, "shortID": String(r.id.prefix(8)), "due": r.due ?? "—", "days": Self.days(from: r.due, to: today),
                "category": r.category, "place": "\(r.grid)/\(r.building)", "status": r.status.displayLabel,
            ]
            if user != nil { row["title"] = Display.personal(r, "title", r.title) }
            return row
        }
        return c
    }

    /// Whole days from `due` to `today` (both YYYY-MM-DD; 0 if either is not a day).
    static func days(from due: String?, to today: String) -> Int {
        let midnight = { (day: String) in Timestamp.parse(day + "T00:00:00.000Z") }
        guard let due, let a = midnight(due), let b = midnight(today) else { return 0 }
        return max(0, Int((b.timeIntervalSince(a) / 86_400).rounded()))
    }

    // MARK: By grid, building, category, service

    func grouped(_ by: ReportGrouping, month: String, user: String?) throws -> [String: Any] {
        let report = try figures(month, by: by).report
        let current = ["grid": "isGrid", "building": "isBuilding", "category": "isCategory", "service": "isService"][by.rawValue] ?? ""
        var c = common(Localized("按\(by.label) \(month)", en: "By \(by.englishLabel.lowercased()) \(month)").text, user: user, current: current)
        c.merge(monthContext(month, action: "/by/\(by.rawValue)")) { a, _ in a }
        c["heading"] = Localized("\(month) 按\(by.label)统计", en: "\(month) by \(by.englishLabel.lowercased())").text
        c["csvLink"] = "/by/\(by.rawValue)/report.csv?month=\(month)"
        c["groupHeader"] = by.displayLabel
        c["overdueHeader"] = ReportColumn.overdue
        c["rateNames"] = ReportColumn.rates
        let served = by == .service
        c["served"] = served
        c["servedHeader"] = ReportColumn.served
        c["hasRows"] = report.total.total > 0
        c["rows"] = report.allRows.enumerated().map { i, row -> [String: Any] in
            ["group": row.group, "total": row.total, "overdue": row.overdue, "rates": Self.rates(row).map(\.percent),
             "responseMedian": RequestReport.hours(row.responseHoursMedian), "servedCount": row.resolutionRate.numerator,
             "isTotal": i == report.rows.count]
        }
        c["chart"] = Charts.bars(
            title: Texts.entries["chartGroups"]?.text ?? "", description: Localized("每组的需求数，数值见下表。", en: "Requests per group; the table below gives the figures.").text,
            rows: report.rows.map { ($0.group, $0.total) }, id: "groups")
        return c
    }

    func csv(_ by: ReportGrouping, month: String) throws -> String {
        try figures(month, by: by).report.csv
    }

    // MARK: Request detail

    func request(_ id: String, user: String) throws -> [String: Any] {
        let r = try store.request(id)
        var c = common(Localized("需求 \(r.id.prefix(8))", en: "Request \(r.id.prefix(8))").text, user: user, current: "isRequest")
        c["shortID"] = String(r.id.prefix(8))
        c["fields"] = Display.requestFields(r, service: r.assignedService.map(store.serviceLabel)).map { ["label": $0.label, "value": $0.value] }
        let conflicts = try store.conflicts().filter { $0.record == r.id }
        c["has_conflicts"] = !conflicts.isEmpty
        c["conflicts"] = conflicts.map { x -> [String: Any] in
            ["id": x.id, "field": Display.fieldLabel(x.field), "values": x.values.map { Display.value($0.value, field: x.field) }.joined(separator: " | ")]
        }
        let notes = try store.notes(ofRequest: r.id)
        c["has_notes"] = !notes.isEmpty
        c["notes"] = notes.map { n -> [String: Any] in
            ["time": Display.time(n.createdAt), "author": Display.node(n.author ?? "?", n.authorName), "text": n.readable ? n.text : Display.unreadable]
        }
        c["history"] = try store.history(ofRecord: r.id).filter { !($0.field == Schema.deletedField && $0.value == .int(0)) }.map { h -> [String: Any] in
            ["time": Display.time(h.time, seconds: true), "node": Display.node(h.origin, h.originName), "field": Display.fieldLabel(h.field),
             "value": Display.value(h.value, field: h.field)]
        }
        return c
    }

    // MARK: Nodes

    func nodes(user: String?) throws -> [String: Any] {
        let list = try store.nodeActivity()
        var c = common(Texts.entries["nodesTitle"]?.text ?? "", user: user, current: "isNodes")
        c["has_nodes"] = !list.isEmpty
        c["nodes"] = list.map { row($0) }
        return c
    }

    func row(_ n: NodeActivity) -> [String: Any] {
        let seen = n.lastSeen
        let lagging = !n.revoked && (seen.flatMap(Timestamp.parse).map { Date().timeIntervalSince($0) > Self.laggingAfter } ?? true)
        let unknown = Texts.entries["unknown"]?.text ?? ""
        return [
            "id": n.nodeID, "shortID": String(n.nodeID.prefix(7)), "name": n.name ?? "?",
            "role": n.role.flatMap(NodeRole.init).map(\.displayLabel) ?? "?",
            "place": [n.grid, n.building].compactMap { $0 }.joined(separator: "/").isEmpty ? "—" : [n.grid, n.building].compactMap { $0 }.joined(separator: "/"),
            "lastSeen": seen.map { Display.time($0) } ?? (Texts.entries["never"]?.text ?? ""),
            "lastSync": n.lastSync.map { Display.time($0) } ?? (Texts.entries["never"]?.text ?? ""),
            "lastChange": n.lastChange.map { Display.time($0) } ?? "—",
            "toSend": n.toSend.map(String.init) ?? unknown, "toReceive": n.toReceive.map(String.init) ?? unknown,
            "quarantined": n.quarantined, "refused": n.refused, "openConflicts": n.openConflicts,
            "lagging": lagging, "revoked": n.revoked, "connected": n.connected,
        ]
    }

    func node(_ id: String, user: String?) throws -> [String: Any]? {
        guard let n = try store.nodeActivity().first(where: { $0.nodeID == id || $0.nodeID.replacingOccurrences(of: "-", with: "") == id }) else { return nil }
        var c = common(Texts.entries["nodeTitle"]?.text ?? "", user: user, current: "isNodes")
        c.merge(row(n)) { a, _ in a }
        let quarantine = try store.quarantine().filter { $0.origin == n.nodeID }
        c["has_quarantine"] = !quarantine.isEmpty
        c["quarantine"] = quarantine.map { ["receivedAt": Display.time($0.received_at), "reason": $0.detail, "changes": $0.changes] as [String: Any] }
        let conflicts = try store.conflicts(involving: n.nodeID)
        c["has_conflicts"] = !conflicts.isEmpty
        c["conflicts"] = conflicts.map { x -> [String: Any] in
            ["id": x.id, "record": x.record, "shortRecord": String(x.record.prefix(8)), "field": Display.fieldLabel(x.field),
             "isRequest": x.collection == Schema.requests.name]
        }
        return c
    }
}
