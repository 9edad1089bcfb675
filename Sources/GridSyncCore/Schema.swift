import Crypto

/// What kind of value a field holds: how a person's input for it is parsed (when settling a
/// conflict, say) and how it is shown.
public enum FieldKind: Sendable, Hashable {
    /// Free text.
    case text
    /// A short place or code name: grid, building, unit, room.
    case place
    /// A phone number as typed.
    case phone
    /// A calendar day, YYYY-MM-DD.
    case date
    /// An ISO 8601 UTC timestamp written by the store.
    case timestamp
    /// 0 or 1.
    case flag
    /// An integer.
    case int
    /// A request's lifecycle status (``RequestStatus`` raw values).
    case status
    /// The ID of a record of another collection (or a node ID).
    case reference
}

/// One replicated field of a collection.
public struct FieldSpec: Sendable, Hashable {
    /// The field name used in ops, and the table column holding its current winner.
    public let name: String
    /// What people call it (Chinese): table headers, history, spreadsheet columns.
    public let label: String
    public let kind: FieldKind
    /// Whether the value identifies or describes a resident (name, phone, address, free text).
    /// Such values never go into logs or error messages.
    public let personal: Bool
    /// For a column the store derives itself: the field whose winning op's origin (node ID)
    /// fills it. Such a field is not writable: an op that sets it is refused everywhere.
    public let originOf: String?

    public var writable: Bool { originOf == nil }

    /// What an English reader calls it: the field name, words apart ("assigned service").
    public var englishLabel: String { name.trimmingCharacters(in: ["_"]).replacingOccurrences(of: "_", with: " ") }

    /// The field's name in this process's language: history, conflicts, messages.
    public var displayLabel: String { Localized(label, en: englishLabel).text }

    public init(_ name: String, _ label: String, _ kind: FieldKind = .text, personal: Bool = false, originOf: String? = nil) {
        self.name = name
        self.label = label
        self.kind = kind
        self.personal = personal
        self.originOf = originOf
    }
}

/// Who may write the records of a collection (judged by ``WritePolicy``).
public enum WriteRule: Sendable, Hashable {
    /// Only the community's centre.
    case centreOnly
    /// The centre and grid nodes.
    case centreAndGrid
    /// Each node its own record, whose ID is its node ID text; the centre any.
    case ownProfile
    /// Records placed in a grid and building (their `grid` and `building` fields): a node of
    /// that scope, the place judged before and after the change.
    case placed
    /// Append-only records attached to a `placed` record by their `request` field: a node in
    /// scope of that record may create them; once created only the centre may touch them.
    case attachedToRequest
}

/// A replicated collection: its name, table, fields and write rule. This is the one
/// declaration the store's tables, the merge, the write policy and parsing derive from; adding
/// a record type is one entry in ``Schema/all`` plus one migration creating its table.
public struct CollectionSchema: Sendable, Hashable {
    /// The collection name used in ops.
    public let name: String
    /// The SQLite table holding current values.
    public let table: String
    /// Replicated fields, in column order (excluding `_deleted`).
    public let specs: [FieldSpec]
    public let writers: WriteRule
    /// Each field's spec by name (the merge and the write policy look fields up per op).
    private let byName: [String: FieldSpec]

    public init(name: String, table: String, writers: WriteRule, _ specs: [FieldSpec]) {
        self.name = name
        self.table = table
        self.writers = writers
        self.specs = specs
        var byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        // catalogue: data — field labels (FieldSpec: englishLabel is the English)
        byName[Schema.deletedField] = FieldSpec(Schema.deletedField, "删除", .flag)
        if writers == .placed { byName[Schema.erasedField] = FieldSpec(Schema.erasedField, "抹除", .flag) }
        // catalogue: end
        self.byName = byName
    }

    /// Field names, in column order (excluding `_deleted`).
    public var fields: [String] { specs.map(\.name) }

    /// What people call the collection, in both languages: messages.
    public var label: Localized {
        switch name {
        case "requests": Localized("需求", en: "requests")
        case "services": Localized("服务", en: "services")
        case "notes": Localized("跟进记录", en: "notes")
        case "categories": Localized("类别", en: "categories")
        case "nodes": Localized("节点资料", en: "node profiles")
        case "roster": Localized("成员名册", en: "the roster")
        case "keys": Localized("密钥授权", en: "key grants")
        default: Localized(name, en: name)
        }
    }

    /// A field's name for messages, in both languages ("resident" / 居民).
    public func fieldLabel(_ field: String) -> Localized {
        guard let spec = spec(field) else { return Localized(field, en: field) }
        return Localized(spec.label, en: spec.englishLabel)
    }

    /// The spec of a field this version knows, `_deleted` included.
    public func spec(_ field: String) -> FieldSpec? { byName[field] }

    /// The merge policy of a field.
    public func policy(for field: String) -> MergePolicy {
        spec(field)?.kind == .status ? .lifecycle : .lastWriterWins
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

    /// The field that erases a placed record's personal data (value 1, written by the centre
    /// only, never undone): every node drops the boxes of the record's sealed values and of its
    /// notes', from its tables and its stored changes (SPEC §2.9).
    public static let erasedField = "_erased"

    // catalogue: data — field labels (FieldSpec: englishLabel is the English) and the default categories
    /// 需求清单: residents' requests.
    public static let requests = CollectionSchema(
        name: "requests", table: "requests", writers: .placed,
        [
            FieldSpec("grid", "网格", .place), FieldSpec("building", "楼栋", .place),
            FieldSpec("unit", "单元", .place, personal: true), FieldSpec("room", "房号", .place, personal: true),
            FieldSpec("resident", "居民", personal: true), FieldSpec("phone", "电话", .phone, personal: true),
            FieldSpec("category", "类别"), FieldSpec("title", "标题", personal: true), FieldSpec("detail", "详情", personal: true),
            FieldSpec("due", "期限", .date), FieldSpec("urgent", "紧急", .flag), FieldSpec("status", "状态", .status),
            FieldSpec("assigned_service", "派单服务", .reference), FieldSpec("assigned_person", "经办人"),
            FieldSpec("satisfaction", "满意度"), FieldSpec("rating_comment", "评价意见", personal: true),
            FieldSpec("created_at", "创建时间", .timestamp), FieldSpec("accepted_at", "受理时间", .timestamp),
            FieldSpec("assigned_at", "派单时间", .timestamp), FieldSpec("started_at", "开始办理时间", .timestamp),
            FieldSpec("resolved_at", "办结时间", .timestamp), FieldSpec("rated_at", "评价时间", .timestamp),
            FieldSpec("closed_at", "关闭时间", .timestamp),
        ])

    /// 服务清单: services offered by the centre, resident units, volunteers, organisations.
    public static let services = CollectionSchema(
        name: "services", table: "services", writers: .centreAndGrid,
        [
            FieldSpec("name", "名称"), FieldSpec("provider", "提供方"), FieldSpec("provider_kind", "提供方类型"), FieldSpec("category", "类别"),
            FieldSpec("grid", "网格", .place), FieldSpec("contact", "联系人"), FieldSpec("description", "说明"), FieldSpec("status", "状态"),
            FieldSpec("created_at", "创建时间", .timestamp),
        ])

    /// 跟进记录: append-only follow-up notes on requests. Each note is its own record, written
    /// once, so notes never conflict. `author` is not replicated: the store fills it with the
    /// origin of the change that wrote the note.
    public static let notes = CollectionSchema(
        name: "notes", table: "request_notes", writers: .attachedToRequest,
        [
            FieldSpec("request", "需求", .reference), FieldSpec("text", "内容", personal: true),
            FieldSpec("author", "记录人", .reference, originOf: "request"), FieldSpec("created_at", "记录时间", .timestamp),
        ])

    /// Request categories added by the centre, on top of ``defaultCategories``.
    public static let categories = CollectionSchema(
        name: "categories", table: "categories", writers: .centreOnly,
        [FieldSpec("name", "名称"), FieldSpec("created_at", "创建时间", .timestamp)])

    /// Node profiles: each node publishes its own name, role and scope.
    public static let nodes = CollectionSchema(
        name: "nodes", table: "nodes", writers: .ownProfile,
        [
            FieldSpec("name", "名称"), FieldSpec("role", "角色"), FieldSpec("grid", "网格", .place), FieldSpec("building", "楼栋", .place),
            FieldSpec("agreement_key", "协商公钥"),
        ])

    /// The community's roster: which nodes belong, with what role and scope, and which were
    /// revoked (`status` "revoked", `revoked_at` the centre's clock in Unix ms). Record ID: the
    /// node ID's text form. Only the centre writes it; every node checks received changes
    /// against it.
    public static let roster = CollectionSchema(
        name: "roster", table: "roster", writers: .centreOnly,
        [
            FieldSpec("name", "名称"), FieldSpec("role", "角色"), FieldSpec("grid", "网格", .place), FieldSpec("building", "楼栋", .place),
            FieldSpec("status", "状态"), FieldSpec("revoked_at", "吊销时间", .int),
        ])

    /// Key grants: a grid root (`kind` "root") or one scope's key (`kind` "scope") of one epoch,
    /// wrapped by the centre to one node's agreement key (SPEC §2.8). Record ID: ``grantID``.
    public static let keys = CollectionSchema(
        name: "keys", table: "key_grants", writers: .centreOnly,
        [
            FieldSpec("kind", "类型"), FieldSpec("grid", "网格", .place), FieldSpec("building", "楼栋", .place),
            FieldSpec("scope", "范围"), FieldSpec("epoch", "纪元", .int), FieldSpec("recipient", "接收节点", .reference),
            FieldSpec("wrapped", "密文"), FieldSpec("created_at", "创建时间", .timestamp),
        ])

    /// A grant's record ID: `k` and 24 hex digits of SHA-256(kind, grid, scope, epoch, recipient).
    public static func grantID(kind: String, grid: String, scope: String?, epoch: UInt32, recipient: NodeID) -> String {
        "k" + Hex.encode(SHA256.hash(data: KeyGrant.info(kind: kind, grid: grid, scope: scope, epoch: epoch, recipient: recipient)).prefix(12))
    }

    public static let all: [CollectionSchema] = [requests, services, notes, categories, nodes, roster, keys]

    /// The fields of `collection` that are sealed inside a community.
    public static func isSealed(_ name: String, _ field: String) -> Bool {
        collection(named: name)?.spec(field)?.personal ?? false
    }

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func collection(named name: String) -> CollectionSchema? { byName[name] }

    /// Categories every node knows without replication (from the reform documents).
    public static let defaultCategories = [
        "居家养老", "助残", "四点半课堂", "物业", "环境卫生", "矛盾纠纷调解", "证明开具", "就业创业",
        "社会保障", "法律咨询", "其他",
    ]
    // catalogue: end
}

/// The kind of node, which decides what it may write.
public enum NodeRole: String, CaseIterable, Sendable, Codable {
    case centre, grid, building

    /// Whether a node of this role, serving `ownGrid` and `ownBuilding`, may write a request
    /// placed in `grid` and `building`: the centre anything, a grid node its grid's, a building
    /// node its building's.
    public func covers(grid: String?, building: String?, ownGrid: String?, ownBuilding: String?) -> Bool {
        switch self {
        case .centre: true
        case .grid: grid != nil && grid == ownGrid
        case .building: grid != nil && grid == ownGrid && building != nil && building == ownBuilding
        }
    }

    // catalogue: data — the roles' Chinese names (Labelled)
    public var label: String {
        switch self {
        case .centre: "社区中心"
        case .grid: "网格"
        case .building: "楼栋"
        }
    }
    // catalogue: end
}

/// Who provides a service (服务清单 provider kinds).
public enum ProviderKind: String, CaseIterable, Sendable {
    case centre, unit, volunteer, organisation

    // catalogue: data — the provider kinds' Chinese names (Labelled)
    public var label: String {
        switch self {
        case .centre: "社区中心"
        case .unit: "驻区单位"
        case .volunteer: "党员志愿者"
        case .organisation: "社会组织"
        }
    }
    // catalogue: end

    public init?(input: String) {
        if let k = ProviderKind(rawValue: input) { self = k; return }
        if let k = ProviderKind.allCases.first(where: { $0.label == input }) { self = k; return }
        return nil
    }
}
