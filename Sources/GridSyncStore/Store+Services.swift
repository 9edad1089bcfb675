import GRDB
import GridSyncCore

/// The fields of a new or edited service; nil leaves a field unset or unchanged.
public struct ServiceInput: Sendable {
    public var name: String?
    public var provider: String?
    public var providerKind: ProviderKind?
    public var category: String?
    public var grid: String?
    public var contact: String?
    public var description: String?

    public init() {}
}

extension Store {
    /// Refuses at once a service write the write policy refuses (before anything is parsed).
    private func requireServiceWriter() throws {
        let writer = try read { db in try localWriter(db) }
        try checkScope(RecordWrite(collection: Schema.services.name, record: "", fields: [], exists: false, before: nil, after: nil), by: writer)
    }

    /// Adds a service to the 服务清单 and returns its ID.
    public func addService(_ input: ServiceInput) throws -> String {
        try requireServiceWriter()
        let name = try Validate.required(input.name, "--name")
        let id = RecordID.make()
        _ = try localWrite { db, change in
            if let category = input.category { try requireCategory(category, db) }
            let s = Schema.services
            change.set(s, id, "name", .text(name))
            try setOptional(input, id, &change)
            change.set(s, id, "provider_kind", .text((input.providerKind ?? .centre).rawValue))
            change.set(s, id, "grid", .text(try Validate.place(input.grid ?? node.grid, "--grid") ?? "") )
            change.set(s, id, "status", .text("active"))
            change.set(s, id, "created_at", .text(Timestamp.iso(wallClock())))
        }
        return id
    }

    private func setOptional(_ input: ServiceInput, _ id: String, _ change: inout PendingChange) throws {
        let s = Schema.services
        if let v = try Validate.text(input.provider, "--provider", maxCharacters: 200) { change.set(s, id, "provider", .orNull(v)) }
        if let v = try Validate.text(input.category, "--category", maxCharacters: 32) { change.set(s, id, "category", .orNull(v)) }
        if let v = try Validate.text(input.contact, "--contact", maxCharacters: 200) { change.set(s, id, "contact", .orNull(v)) }
        if let v = try Validate.text(input.description, "--description") { change.set(s, id, "description", .orNull(v)) }
    }

    /// Edits a service.
    public func editService(_ idPrefix: String, _ input: ServiceInput) throws -> String {
        try requireServiceWriter()
        let (id, _) = try localWrite { db, change -> String in
            let id = try resolveID(idPrefix, table: "services", kind: "service", db)
            if let category = input.category, !category.isEmpty { try requireCategory(category, db) }
            if let name = input.name { change.set(Schema.services, id, "name", .text(try Validate.required(name, "--name"))) }
            if let kind = input.providerKind { change.set(Schema.services, id, "provider_kind", .text(kind.rawValue)) }
            if let grid = try Validate.place(input.grid, "--grid") { change.set(Schema.services, id, "grid", .orNull(grid)) }
            try setOptional(input, id, &change)
            return id
        }
        return id
    }

    /// Retires a service: it stays on record but can no longer be assigned.
    public func retireService(_ idPrefix: String) throws -> String {
        try requireServiceWriter()
        let (id, _) = try localWrite { db, change -> String in
            let id = try resolveID(idPrefix, table: "services", kind: "service", db)
            change.set(Schema.services, id, "status", .text("retired"))
            return id
        }
        return id
    }

    /// Services, active first, then by name.
    public func services(includeRetired: Bool = true) throws -> [ServiceRecord] {
        try read { db in
            let sql = "SELECT * FROM services WHERE deleted = 0" + (includeRetired ? "" : " AND status = 'active'")
                + " ORDER BY status = 'retired', name, id"
            return try Row.fetchAll(db, sql: sql).map(Self.service)
        }
    }

    /// One service by ID or unique prefix.
    public func service(_ idPrefix: String) throws -> ServiceRecord {
        try read { db in
            let id = try resolveID(idPrefix, table: "services", kind: "service", db)
            return Self.service(try Row.fetchOne(db, sql: "SELECT * FROM services WHERE id = ?", arguments: [id])!)
        }
    }

    static func service(_ row: Row) -> ServiceRecord {
        ServiceRecord(
            id: row["id"], name: row["name"] ?? "", provider: row["provider"], providerKind: row["provider_kind"],
            category: row["category"], grid: row["grid"], contact: row["contact"], description: row["description"],
            status: row["status"] ?? "active", createdAt: row["created_at"])
    }
}
