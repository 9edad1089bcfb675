import GRDB
import GridSyncCore

/// What a centre sends to the district (docs/DISTRICT.md): the clear fields of its requests and
/// services. Which fields those are is the schema's rule (``Schema/isSealed(_:_:)``): a field
/// the schema marks personal is never read here, so no resident's data can leave the community
/// by this path, whatever the district's tables look like.
public enum DistrictFields {
    /// Request fields the district gets, in the order of ``DistrictRequest``: every field of
    /// `requests` that is not personal, bar the assigned person (a name; the service is kept).
    public static let requests: [String] = Schema.requests.specs.map(\.name).filter {
        !Schema.isSealed(Schema.requests.name, $0) && !withheld.contains($0) && !$0.hasPrefix("_")
    }

    /// Service fields the district gets: what a service is and offers, not who to call.
    public static let services: [String] = ["name", "provider_kind", "category", "grid", "status", "created_at"]

    /// Clear fields still kept home: names of people and how to reach them.
    static let withheld: Set<String> = ["assigned_person"]

    /// A stored time exactly as ``Timestamp/iso(_:)`` writes it, or nil: a value a hostile
    /// writer made up must not stop a push (the server would refuse the row).
    static func day(_ s: String?) -> String? {
        guard let s, !s.isEmpty, s >= "1900", (try? Validate.date(s, "due")) != nil else { return nil }
        return s
    }

    static func time(_ s: String?) -> String? {
        guard let s, let d = Timestamp.parse(s), d.timeIntervalSince1970 >= 0 else { return nil }
        return Timestamp.iso(UInt64((d.timeIntervalSince1970 * 1000).rounded())) == s ? s : nil
    }
}

/// One request as the district holds it: clear fields only.
public struct DistrictRequest: Sendable, Equatable {
    public var id: String
    public var grid: String
    public var building: String
    public var category: String
    public var due: String?
    public var urgent: Bool
    public var status: String
    public var assignedService: String?
    public var satisfaction: String?
    public var createdAt: String?
    public var acceptedAt: String?
    public var assignedAt: String?
    public var startedAt: String?
    public var resolvedAt: String?
    public var ratedAt: String?
    public var closedAt: String?
    /// Deleted here: the district keeps the row (so a push is an upsert) but counts it nowhere.
    public var deleted: Bool

    public init(
        id: String, grid: String, building: String, category: String, due: String?, urgent: Bool, status: String,
        assignedService: String?, satisfaction: String?, createdAt: String?, acceptedAt: String?, assignedAt: String?,
        startedAt: String?, resolvedAt: String?, ratedAt: String?, closedAt: String?, deleted: Bool
    ) {
        self.id = id
        self.grid = grid
        self.building = building
        self.category = category
        self.due = due
        self.urgent = urgent
        self.status = status
        self.assignedService = assignedService
        self.satisfaction = satisfaction
        self.createdAt = createdAt
        self.acceptedAt = acceptedAt
        self.assignedAt = assignedAt
        self.startedAt = startedAt
        self.resolvedAt = resolvedAt
        self.ratedAt = ratedAt
        self.closedAt = closedAt
        self.deleted = deleted
    }

    /// The request as a report reads it (``RequestReport/compute(_:options:nowMs:)``): the same
    /// record `gridsync report` computes from, personal fields absent. Nil for a status this
    /// build does not know.
    public var record: RequestRecord? {
        guard let s = RequestStatus(rawValue: status) else { return nil }
        return RequestRecord(
            id: id, status: s, grid: grid, building: building, unit: nil, room: nil, resident: nil, phone: nil,
            category: category, title: "", detail: nil, due: due, urgent: urgent, assignedService: assignedService,
            assignedPerson: nil, satisfaction: satisfaction, ratingComment: nil, createdAt: createdAt, acceptedAt: acceptedAt,
            assignedAt: assignedAt, startedAt: startedAt, resolvedAt: resolvedAt, ratedAt: ratedAt, closedAt: closedAt,
            overdue: false)
    }
}

/// One service as the district holds it.
public struct DistrictService: Sendable, Equatable {
    public var id: String
    public var name: String
    public var providerKind: String?
    public var category: String?
    public var grid: String?
    public var status: String?
    public var createdAt: String?
    public var deleted: Bool

    public init(id: String, name: String, providerKind: String?, category: String?, grid: String?, status: String?, createdAt: String?, deleted: Bool) {
        self.id = id
        self.name = name
        self.providerKind = providerKind
        self.category = category
        self.grid = grid
        self.status = status
        self.createdAt = createdAt
        self.deleted = deleted
    }
}

/// The records changed after a position of the change log, up to `through`.
public struct DistrictExtract: Sendable {
    /// The change log's last position the extract covers: the next push starts after it.
    public var through: Int64
    public var requests: [DistrictRequest]
    public var services: [DistrictService]
}

extension Store {
    /// The clear part of every request and service that a change after position `since` of
    /// the change log touched (everything for 0), read in one transaction.
    public func districtExtract(since: Int64) throws -> DistrictExtract {
        try read { db in
            let through = try Int64.fetchOne(db, sql: "SELECT coalesce(max(pos), 0) FROM changes") ?? 0
            guard through > since else { return DistrictExtract(through: max(through, since), requests: [], services: []) }
            let touched = since == 0 ? "" : "WHERE id IN (SELECT record FROM change_records WHERE pos > ? AND pos <= ?)"
            let arguments: StatementArguments = since == 0 ? [] : [since, through]
            let requestColumns = (["id"] + DistrictFields.requests + ["deleted"]).joined(separator: ", ")
            var requests: [DistrictRequest] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT \(requestColumns) FROM requests \(touched) ORDER BY id", arguments: arguments)
            // A time or day a report here cannot read (a hostile writer's) counts as none there too.
            func time(_ s: String?) -> String? { DistrictFields.time(s) }
            // Columns by position (the order of the SELECT), not by name: a name lookup per
            // value was a third of a push's time.
            let at = Dictionary(uniqueKeysWithValues: (["id"] + DistrictFields.requests + ["deleted"]).enumerated().map { ($1, $0) })
            func i(_ name: String) throws -> Int {
                guard let n = at[name] else { throw StoreError.corrupt("district field \(name)") }
                return n
            }
            let (cID, cGrid, cBuilding, cCategory, cDue, cUrgent, cStatus) = (try i("id"), try i("grid"), try i("building"), try i("category"), try i("due"), try i("urgent"), try i("status"))
            let (cService, cSatisfaction, cDeleted) = (try i("assigned_service"), try i("satisfaction"), try i("deleted"))
            let cTimes = try ["created_at", "accepted_at", "assigned_at", "started_at", "resolved_at", "rated_at", "closed_at"].map(i)
            while let row = try rows.next() {
                let t = cTimes.map { time(row[$0]) }
                requests.append(DistrictRequest(
                    id: row[cID], grid: row[cGrid] ?? "", building: row[cBuilding] ?? "", category: row[cCategory] ?? "",
                    due: DistrictFields.day(row[cDue]), urgent: (row[cUrgent] as Int64? ?? 0) != 0, status: row[cStatus] ?? "",
                    assignedService: row[cService], satisfaction: row[cSatisfaction],
                    createdAt: t[0], acceptedAt: t[1], assignedAt: t[2], startedAt: t[3], resolvedAt: t[4], ratedAt: t[5], closedAt: t[6],
                    deleted: (row[cDeleted] as Int64? ?? 0) != 0))
            }
            let serviceColumns = (["id"] + DistrictFields.services + ["deleted"]).joined(separator: ", ")
            let services = try Row.fetchAll(db, sql: "SELECT \(serviceColumns) FROM services \(touched) ORDER BY id", arguments: arguments).map { row in
                DistrictService(
                    id: row["id"], name: row["name"] ?? "", providerKind: row["provider_kind"], category: row["category"], grid: row["grid"],
                    status: row["status"], createdAt: DistrictFields.time(row["created_at"]),
                    deleted: (row["deleted"] as Int64? ?? 0) != 0)
            }
            return DistrictExtract(through: through, requests: requests, services: services)
        }
    }
}
