/// The replicated collections and their fields.
///
/// Every field is replicated as ops; the store keeps a plain table per collection holding each
/// field's current winner in a column of the same name (`_deleted` becomes `deleted`). Fields
/// a newer version adds replicate and merge like any other, and appear in the table once this
/// version learns them.
public struct CollectionSchema: Sendable, Hashable {
    /// The collection name used in ops.
    public let name: String
    /// The SQLite table holding current values.
    public let table: String
    /// Replicated field names, in column order (excluding `_deleted`).
    public let fields: [String]

    /// The merge policy of a field.
    public func policy(for field: String) -> MergePolicy {
        name == Schema.requests.name && field == "status" ? .lifecycle : .lastWriterWins
    }

    /// The table column for a field, or nil if this version does not know the field.
    public func column(for field: String) -> String? {
        if field == Schema.deletedField { return "deleted" }
        return fields.contains(field) ? field : nil
    }
}

public enum Schema {
    /// The field that marks a record deleted (value 1) or kept (value 0).
    public static let deletedField = "_deleted"

    /// 需求清单: residents' requests.
    public static let requests = CollectionSchema(
        name: "requests", table: "requests",
        fields: [
            "grid", "building", "unit", "room", "resident", "phone", "category", "title", "detail",
            "due", "urgent", "status", "assigned_service", "assigned_person", "satisfaction",
            "rating_comment", "created_at", "accepted_at", "assigned_at", "started_at",
            "resolved_at", "rated_at", "closed_at",
        ])

    /// 服务清单: services offered by the centre, resident units, volunteers, organisations.
    public static let services = CollectionSchema(
        name: "services", table: "services",
        fields: ["name", "provider", "provider_kind", "category", "grid", "contact", "description", "status", "created_at"])

    /// 跟进记录: append-only follow-up notes on requests. Each note is its own record, written
    /// once, so notes never conflict.
    public static let notes = CollectionSchema(
        name: "notes", table: "request_notes",
        fields: ["request", "text", "author", "created_at"])

    /// Request categories added by the centre, on top of ``defaultCategories``.
    public static let categories = CollectionSchema(
        name: "categories", table: "categories", fields: ["name", "created_at"])

    /// Node profiles: each node publishes its own name, role and scope.
    public static let nodes = CollectionSchema(
        name: "nodes", table: "nodes", fields: ["name", "role", "grid", "building"])

    /// The community's roster: which nodes belong, with what role and scope, and which were
    /// revoked (`status` "revoked", `revoked_at` the centre's clock in Unix ms). Record ID: the
    /// node ID's text form. Only the centre writes it; every node checks received changes
    /// against it.
    public static let roster = CollectionSchema(
        name: "roster", table: "roster", fields: ["name", "role", "grid", "building", "status", "revoked_at"])

    public static let all: [CollectionSchema] = [requests, services, notes, categories, nodes, roster]

    public static func collection(named name: String) -> CollectionSchema? {
        all.first { $0.name == name }
    }

    /// Categories every node knows without replication (from the reform documents).
    public static let defaultCategories = [
        "居家养老", "助残", "四点半课堂", "物业", "环境卫生", "矛盾纠纷调解", "证明开具", "就业创业",
        "社会保障", "法律咨询", "其他",
    ]
}

/// The kind of node, which decides what it may write.
public enum NodeRole: String, CaseIterable, Sendable, Codable {
    case centre, grid, building

    /// Whether a node of this role, serving `ownGrid` and `ownBuilding`, may write a request
    /// placed in `grid` and `building`: the centre anything, a grid node its grid's, a building
    /// node its building's. The one rule both local writes and received changes are held to.
    public func covers(grid: String?, building: String?, ownGrid: String?, ownBuilding: String?) -> Bool {
        switch self {
        case .centre: true
        case .grid: grid != nil && grid == ownGrid
        case .building: grid != nil && grid == ownGrid && building != nil && building == ownBuilding
        }
    }

    /// Whether a node of this role may write services (服务清单): the centre and grid nodes.
    public var writesServices: Bool { self != .building }

    public var label: String {
        switch self {
        case .centre: "社区中心"
        case .grid: "网格"
        case .building: "楼栋"
        }
    }
}

/// Who provides a service (服务清单 provider kinds).
public enum ProviderKind: String, CaseIterable, Sendable {
    case centre, unit, volunteer, organisation

    public var label: String {
        switch self {
        case .centre: "社区中心"
        case .unit: "驻区单位"
        case .volunteer: "党员志愿者"
        case .organisation: "社会组织"
        }
    }

    public init?(input: String) {
        if let k = ProviderKind(rawValue: input) { self = k; return }
        if let k = ProviderKind.allCases.first(where: { $0.label == input }) { self = k; return }
        return nil
    }
}
