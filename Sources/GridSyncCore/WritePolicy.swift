/// A node as the write policy sees it: its identity and the scope the community's roster (or,
/// outside a community, its own store) gives it.
public struct Writer: Sendable, Hashable {
    public var id: NodeID
    public var role: NodeRole
    public var grid: String?
    public var building: String?

    public init(id: NodeID, role: NodeRole, grid: String?, building: String?) {
        self.id = id
        self.role = role
        self.grid = grid
        self.building = building
    }

    /// Whether this writer may write a record placed at `place`.
    public func covers(_ place: Placement) -> Bool {
        role.covers(grid: place.grid, building: place.building, ownGrid: grid, ownBuilding: building)
    }

    /// "网格 1 · 楼栋 3" — for people.
    public var scopeLabel: String {
        switch role {
        case .centre: Localized("社区中心（全部）", en: "the centre (everything)").text
        case .grid: Localized("网格 \(grid ?? "?")", en: "grid \(grid ?? "?")").text
        case .building: Localized("网格 \(grid ?? "?") · 楼栋 \(building ?? "?")", en: "grid \(grid ?? "?") · building \(building ?? "?")").text
        }
    }

    /// "a building node of grid 1, building 3" — for messages.
    public var scopeText: Localized {
        switch role {
        case .centre: Localized("社区中心", en: "the centre")
        case .grid: Localized("网格 \(grid ?? "?") 的网格节点", en: "a grid node of grid \(grid ?? "?")")
        case .building: Localized("网格 \(grid ?? "?")、楼栋 \(building ?? "?") 的楼栋节点", en: "a building node of grid \(grid ?? "?"), building \(building ?? "?")")
        }
    }
}

/// Where a placed record (a request) sits: its grid and building.
public struct Placement: Sendable, Hashable {
    public var grid: String?
    public var building: String?

    public init(grid: String?, building: String?) {
        self.grid = grid
        self.building = building
    }

    var text: Localized { Localized("网格 \(grid ?? "?")、楼栋 \(building ?? "?")", en: "grid \(grid ?? "?"), building \(building ?? "?")") }

    /// Where a placed record lies after a change: each of `grid` and `building` as the change
    /// sets it (`.some(nil)`: cleared), else as `before`. The write policy judges, and sealing
    /// seals for, this one placement. Nil when the record was not held and is not placed.
    public static func after(_ before: Placement?, grid: String??, building: String??) -> Placement? {
        if before == nil && grid == nil && building == nil { return nil }
        return Placement(grid: grid ?? before?.grid, building: building ?? before?.building)
    }
}

/// What one change does to one record, as the write policy judges it.
public struct RecordWrite: Sendable {
    public var collection: String
    public var record: String
    /// The fields the change sets on the record.
    public var fields: [String]
    /// Whether the judging store already held the record.
    public var exists: Bool
    /// For `placed` records: the place before the change (nil if not held) and after it. For
    /// `attachedToRequest` records: the place of the record they were attached to before the
    /// change (nil if not held) and of the one they are attached to after.
    public var before: Placement?
    public var after: Placement?
    /// What the change's values look like, for the sealing rules; nil outside a community
    /// (no keys exist there, so nothing is sealed).
    public var sealing: SealingFacts?
    /// The value an `_erased` op sets, if the change has one for this record.
    public var erasedValue: FieldValue?

    public init(
        collection: String, record: String, fields: [String], exists: Bool, before: Placement?, after: Placement?,
        sealing: SealingFacts? = nil, erasedValue: FieldValue? = nil
    ) {
        self.collection = collection
        self.record = record
        self.fields = fields
        self.exists = exists
        self.before = before
        self.after = after
        self.sealing = sealing
        self.erasedValue = erasedValue
    }
}

/// The shape of the values one change writes to one record: which personal fields it sets in
/// clear, which other fields it seals, and the scopes its sealed values name.
public struct SealingFacts: Sendable, Hashable {
    public var clearPersonal: [String]
    public var sealedNonPersonal: [String]
    public var scopes: Set<String>
    /// A sealed value names epoch 0, which no key has.
    public var epochZero: Bool

    public init(clearPersonal: [String] = [], sealedNonPersonal: [String] = [], scopes: Set<String> = [], epochZero: Bool = false) {
        self.clearPersonal = clearPersonal
        self.sealedNonPersonal = sealedNonPersonal
        self.scopes = scopes
        self.epochZero = epochZero
    }

    /// The facts of `ops` (all of one record of `schema`).
    public init(_ ops: [Op], schema: CollectionSchema) {
        self.init()
        for op in ops {
            let personal = schema.spec(op.field)?.personal ?? false
            switch op.value {
            case .sealed(let v):
                if personal { scopes.insert(v.scope) } else { sealedNonPersonal.append(op.field) }
                if v.epoch == 0 { epochZero = true }
            case .text, .int:
                if personal { clearPersonal.append(op.field) }
            case .null:
                break
            }
        }
    }
}

/// The one rule for who may write what. Local writes (the CLI refuses at once) and received
/// changes (the receiver leaves them unapplied) are both judged by ``check(_:by:)``, so whatever
/// a receiver would refuse, the writer refuses first. Pure: the caller supplies the roster's
/// view of the writer and the record's placement.
public enum WritePolicy {
    /// Why `writer` may not make `write`, or nil if it may. The reason names collections,
    /// records (by an ID prefix), fields and places, never values.
    public static func check(_ write: RecordWrite, by writer: Writer) -> Localized? {
        let short = String(write.record.prefix(8))
        guard let schema = Schema.collection(named: write.collection) else {
            return writer.role == .centre
                ? nil : Localized("本版本中集合「\(write.collection)」只由社区中心写入", en: "collection '\(write.collection)' is written by the centre only in this version")
        }
        for field in write.fields where schema.spec(field)?.writable == false {
            return Localized("\(schema.label.zh)的「\(schema.fieldLabel(field).zh)」（\(schema.name).\(field)）由每个存储自行填写，不可写入", en: "\(schema.name).\(field) is filled in by every store itself and may not be written")
        }
        if write.fields.contains(Schema.erasedField), schema.writers == .placed {
            guard writer.role == .centre else { return Localized("只有社区中心可以抹除\(schema.label.zh)（\(short)）", en: "only the centre erases \(schema.name) (\(short))") }
            guard write.erasedValue == .int(1) else { return Localized("抹除把 \(Schema.erasedField) 设为 1，且不可撤销", en: "an erasure sets \(Schema.erasedField) to 1 and is never undone") }
        }
        if let reason = scopeRule(write, by: writer, schema) { return reason }
        if let facts = write.sealing, let reason = sealingRule(facts, write, schema) { return reason }
        return nil
    }

    /// Who may write the records of the collection, and where.
    static func scopeRule(_ write: RecordWrite, by writer: Writer, _ schema: CollectionSchema) -> Localized? {
        let short = String(write.record.prefix(8))
        if writer.role == .centre { return nil }
        switch schema.writers {
        case .centreOnly:
            return Localized("\(schema.label.zh)只由社区中心写入", en: "\(schema.name) is written by the centre only")
        case .centreAndGrid:
            return writer.role == .grid
                ? nil : Localized("服务清单由社区中心和网格节点写入，\(writer.scopeText.zh)不能写入", en: "\(schema.name) are written by the centre and grid nodes, not by \(writer.scopeText.en)")
        case .ownProfile:
            return write.record == writer.id.text ? nil : Localized("节点只能发布自己的资料", en: "a node publishes only its own profile")
        case .placed:
            if let before = write.before, !writer.covers(before) {
                return Localized("\(schema.label.zh) \(short) 位于\(before.text.zh)，不在\(writer.scopeText.zh)的范围内", en: "\(schema.name) \(short) lies in \(before.text.en), outside the scope of \(writer.scopeText.en)")
            }
            guard let after = write.after, writer.covers(after) else {
                let place = (write.after ?? Placement(grid: nil, building: nil)).text
                return Localized("\(schema.label.zh) \(short) 将位于\(place.zh)，不在\(writer.scopeText.zh)的范围内", en: "\(schema.name) \(short) would lie in \(place.en), outside the scope of \(writer.scopeText.en)")
            }
            return nil
        case .attachedToRequest:
            if write.exists { return Localized("跟进记录只能追加：记录 \(short) 已存在，只有社区中心可以修改", en: "\(schema.name) are append-only: note \(short) exists and only the centre may change it") }
            guard let after = write.after, writer.covers(after) else {
                return Localized("跟进记录 \(short) 所属的需求不在\(writer.scopeText.zh)的范围内", en: "note \(short) is on a request outside the scope of \(writer.scopeText.en)")
            }
            return nil
        }
    }

    /// Inside a community personal fields are sealed, for the scope of where the record lies
    /// after the change (a note: where its request lies), and nothing else is.
    static func sealingRule(_ facts: SealingFacts, _ write: RecordWrite, _ schema: CollectionSchema) -> Localized? {
        let short = String(write.record.prefix(8))
        if let field = facts.clearPersonal.first {
            return Localized("\(schema.label.zh)的「\(schema.fieldLabel(field).zh)」是个人信息，在社区内必须按其范围密封", en: "\(schema.name).\(field) is personal and must be sealed for its scope inside a community")
        }
        if let field = facts.sealedNonPersonal.first {
            return Localized("\(schema.label.zh)的「\(schema.fieldLabel(field).zh)」不是个人信息，必须明文写入", en: "\(schema.name).\(field) is not personal and must be written in clear")
        }
        if facts.epochZero { return Localized("\(schema.label.zh) \(short) 有一个用纪元 0 密封的值，而没有任何密钥属于纪元 0", en: "\(schema.name) \(short) has a value sealed under key epoch 0, which no key has") }
        guard !facts.scopes.isEmpty else { return nil }
        guard let after = write.after, let grid = after.grid else {
            return Localized("\(schema.label.zh) \(short) 有密封值，却没有可供密封的网格", en: "\(schema.name) \(short) has sealed values but no grid to seal them for")
        }
        let expected = ScopeID.of(grid: grid, building: after.building)
        if facts.scopes.contains(where: { $0 != expected }) {
            return Localized("\(schema.label.zh) \(short) 有为\(after.text.zh)以外的范围密封的值", en: "\(schema.name) \(short) has values sealed for another scope than \(after.text.en)")
        }
        return nil
    }
}
