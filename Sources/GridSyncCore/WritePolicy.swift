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
        case .centre: "社区中心（全部）"
        case .grid: "网格 \(grid ?? "?")"
        case .building: "网格 \(grid ?? "?") · 楼栋 \(building ?? "?")"
        }
    }

    /// "a building node of grid 1, building 3" — for messages.
    public var scopeText: String {
        switch role {
        case .centre: "the centre"
        case .grid: "a grid node of grid \(grid ?? "?")"
        case .building: "a building node of grid \(grid ?? "?"), building \(building ?? "?")"
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

    var text: String { "grid \(grid ?? "?"), building \(building ?? "?")" }
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

    public init(collection: String, record: String, fields: [String], exists: Bool, before: Placement?, after: Placement?) {
        self.collection = collection
        self.record = record
        self.fields = fields
        self.exists = exists
        self.before = before
        self.after = after
    }
}

/// The one rule for who may write what. Local writes (the CLI refuses at once) and received
/// changes (the receiver leaves them unapplied) are both judged by ``check(_:by:)``, so whatever
/// a receiver would refuse, the writer refuses first. Pure: the caller supplies the roster's
/// view of the writer and the record's placement.
public enum WritePolicy {
    /// Why `writer` may not make `write`, or nil if it may. The reason names collections,
    /// records (by an ID prefix), fields and places, never values.
    public static func check(_ write: RecordWrite, by writer: Writer) -> String? {
        let short = String(write.record.prefix(8))
        guard let schema = Schema.collection(named: write.collection) else {
            return writer.role == .centre ? nil : "collection '\(write.collection)' is written by the centre only in this version"
        }
        for field in write.fields where schema.spec(field)?.writable == false {
            return "\(schema.name).\(field) is filled in by every store itself and may not be written"
        }
        if writer.role == .centre { return nil }
        switch schema.writers {
        case .centreOnly:
            return "\(schema.name) is written by the centre only"
        case .centreAndGrid:
            return writer.role == .grid ? nil : "\(schema.name) (服务清单) are written by the centre and grid nodes, not by \(writer.scopeText)"
        case .ownProfile:
            return write.record == writer.id.text ? nil : "a node publishes only its own profile"
        case .placed:
            if let before = write.before, !writer.covers(before) {
                return "\(schema.name) \(short) lies in \(before.text), outside the scope of \(writer.scopeText)"
            }
            guard let after = write.after, writer.covers(after) else {
                return
                    "\(schema.name) \(short) would lie in \((write.after ?? Placement(grid: nil, building: nil)).text), outside the scope of \(writer.scopeText)"
            }
            return nil
        case .attachedToRequest:
            if write.exists { return "\(schema.name) are append-only: note \(short) exists and only the centre may change it" }
            guard let after = write.after, writer.covers(after) else {
                return "note \(short) is on a request outside the scope of \(writer.scopeText)"
            }
            return nil
        }
    }
}
