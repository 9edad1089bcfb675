import Foundation
import GRDB
import GridSyncCore

/// Why a received change was quarantined instead of applied. The raw values are stable: they
/// are stored, shown by `gridsync quarantine list --json`, and sent to peers.
public enum QuarantineReason: String, Sendable, Codable, CaseIterable {
    /// The origin is not on the community's roster.
    case notMember = "not_member"
    /// The origin was revoked before it made the change.
    case revoked
    /// The change writes outside its origin's scope (another building's request, a service
    /// from a building node, the roster from anyone but the centre…).
    case outOfScope = "out_of_scope"
    /// The signature does not verify: altered on the way, or forged.
    case badSignature = "bad_signature"
    /// The change does not link to the hash of its origin's previous change.
    case brokenChain = "broken_chain"
    /// An earlier change of the same origin is quarantined, so this one cannot follow it.
    case followsQuarantined = "follows_quarantined"
    /// The change builds on a change that is quarantined.
    case dependsOnQuarantined = "depends_on_quarantined"

    /// Chinese label for tables.
    public var label: String {
        switch self {
        case .notMember: "非本社区节点"
        case .revoked: "节点已吊销"
        case .outOfScope: "超出权限范围"
        case .badSignature: "签名无效"
        case .brokenChain: "链条断裂"
        case .followsQuarantined: "前序变更被隔离"
        case .dependsOnQuarantined: "依赖被隔离的变更"
        }
    }

    /// Whether a later roster change can make the change acceptable (it is then retried).
    /// Altered or forged data never becomes acceptable.
    public var mayBeReleased: Bool { self != .badSignature && self != .brokenChain }
}

/// A roster entry as the authoriser needs it.
struct RosterMember: Equatable {
    var role: NodeRole?
    var grid: String?
    var building: String?
    var status: String?
    var revokedAtMs: Int64?

    var isRevoked: Bool { status == "revoked" }

    func covers(grid g: String?, building b: String?) -> Bool {
        role?.covers(grid: g, building: b, ownGrid: grid, ownBuilding: building) ?? false
    }
}

/// Decides, for a store that belongs to a community, whether a received change may be
/// applied: its origin is the centre or an active roster member (or was revoked only after
/// making it), and every op is within the origin's scope. Roster changes and request scopes
/// from earlier changes of the same batch count, so a batch that enrols a node and then carries
/// its changes applies in one go.
///
/// Scope is judged against the record as this store holds it; see the threat model's known
/// gaps for the edge this leaves (a request moved between buildings while its old building
/// edits it).
struct Authorizer {
    let centre: NodeID
    private(set) var roster: [NodeID: RosterMember]
    /// grid and building of requests written earlier in this batch.
    private var pendingScope: [String: (grid: String?, building: String?)] = [:]

    init(centre: NodeID, _ db: Database) throws {
        self.centre = centre
        var roster: [NodeID: RosterMember] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT id, role, grid, building, status, revoked_at FROM roster WHERE deleted = 0")
        while let row = try rows.next() {
            guard let id = NodeID(rosterRecord: row[0]) else { continue }
            roster[id] = RosterMember(role: (row[1] as String?).flatMap(NodeRole.init), grid: row[2], building: row[3], status: row[4], revokedAtMs: row[5])
        }
        self.roster = roster
    }

    /// Loads the authoriser for the store's community, or nil when the store belongs to none
    /// (before `init --role centre` or `join`): then every well-formed change is accepted.
    static func load(_ db: Database) throws -> Authorizer? {
        guard let text = try String.fetchOne(db, sql: "SELECT centre FROM local_node"), let centre = try? NodeID(text: text) else { return nil }
        return try Authorizer(centre: centre, db)
    }

    /// Whether the change carries roster ops (which the caller verifies before trusting).
    static func touchesRoster(_ change: Change) -> Bool {
        change.ops.contains { $0.collection == Schema.roster.name }
    }

    /// The reason to refuse `change`, or nil to accept it. Accepting records what the change
    /// does to the roster and to request scopes for the rest of the batch.
    mutating func check(_ change: Change, _ db: Database) throws -> (QuarantineReason, String)? {
        let origin = change.origin
        let who = "node \(origin.short)"
        if origin == centre {
            noteRoster(change)
            try notePlacements(change, db)
            return nil
        }
        guard let member = roster[origin], member.role != nil else {
            return (.notMember, "\(who) is not on the community's roster; the centre adds it with `gridsync roster add`")
        }
        if member.isRevoked {
            let revokedAt = member.revokedAtMs ?? 0
            if Int64(clamping: change.hlc.milliseconds) >= revokedAt {
                return (.revoked, "\(who) was revoked at \(Timestamp.iso(UInt64(max(0, revokedAt)))); this change was made after that")
            }
        }
        if member.role == .centre {
            noteRoster(change)
            try notePlacements(change, db)
            return nil
        }
        var updates: [String: (grid: String?, building: String?)] = [:]
        var byRecord: [String: [Op]] = [:]
        var order: [String] = []
        for op in change.ops {
            if byRecord[op.record] == nil { order.append(op.record) }
            byRecord[op.record, default: []].append(op)
        }
        for record in order {
            let ops = byRecord[record]!
            let collection = ops[0].collection
            let short = String(record.prefix(8))
            switch collection {
            case Schema.roster.name, Schema.categories.name:
                return (.outOfScope, "\(who) wrote \(collection), which only the centre writes")
            case Schema.nodes.name:
                guard record == origin.text else {
                    return (.outOfScope, "\(who) wrote the profile of another node; a node publishes only its own")
                }
            case Schema.services.name:
                guard member.role?.writesServices == true else {
                    return (.outOfScope, "\(who) (a building node) wrote service \(short); services are written by the centre and grid nodes")
                }
            case Schema.requests.name:
                let current = try scope(ofRequest: record, db)
                func set(_ field: String) -> String?? {
                    guard let op = ops.last(where: { $0.field == field }) else { return nil }
                    return .some(op.value.text)
                }
                let grid = set("grid") ?? current?.grid
                let building = set("building") ?? current?.building
                if let current, !member.covers(grid: current.grid, building: current.building) {
                    return (.outOfScope, "\(who) edited request \(short) of grid \(current.grid ?? "?"), building \(current.building ?? "?"), outside its scope")
                }
                guard member.covers(grid: grid, building: building) else {
                    return (.outOfScope, "\(who) wrote request \(short) for grid \(grid ?? "?"), building \(building ?? "?"), outside its scope")
                }
                updates[record] = (grid, building)
            case Schema.notes.name:
                var request = ops.last(where: { $0.field == "request" })?.value.text
                if request == nil {
                    request = try String.fetchOne(db.cachedStatement(sql: "SELECT request FROM request_notes WHERE id = ?"), arguments: [record])
                }
                let target = try request.flatMap { id in try updates[id] ?? scope(ofRequest: id, db) }
                guard let target,
                    member.covers(grid: target.grid, building: target.building)
                else {
                    return (.outOfScope, "\(who) wrote note \(short) on a request outside its scope")
                }
            default:
                return (.outOfScope, "\(who) wrote collection '\(collection)', which this version accepts from the centre only")
            }
        }
        pendingScope.merge(updates) { _, new in new }
        return nil
    }

    /// Records where the requests an accepted change writes now sit, for later changes of the
    /// batch (which the store has not materialised yet).
    private mutating func notePlacements(_ change: Change, _ db: Database) throws {
        for op in change.ops where op.collection == Schema.requests.name && (op.field == "grid" || op.field == "building") {
            var place = try scope(ofRequest: op.record, db) ?? (nil, nil)
            if op.field == "grid" { place.grid = op.value.text } else { place.building = op.value.text }
            pendingScope[op.record] = place
        }
    }

    private func scope(ofRequest id: String, _ db: Database) throws -> (grid: String?, building: String?)? {
        if let pending = pendingScope[id] { return pending }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT grid, building FROM requests WHERE id = ?"), arguments: [id]) else { return nil }
        return (row[0], row[1])
    }

    /// Applies the centre's roster ops to the in-memory roster (the centre is its only writer,
    /// so the batch order is the order they were made in).
    private mutating func noteRoster(_ change: Change) {
        for op in change.ops where op.collection == Schema.roster.name {
            guard let id = NodeID(rosterRecord: op.record) else { continue }
            var m = roster[id] ?? RosterMember()
            switch op.field {
            case "role": m.role = op.value.text.flatMap(NodeRole.init)
            case "grid": m.grid = op.value.text
            case "building": m.building = op.value.text
            case "status": m.status = op.value.text
            case "revoked_at": m.revokedAtMs = op.value.int
            case Schema.deletedField: if op.value.int == 1 { m.role = nil }
            default: break
            }
            roster[id] = m
        }
    }
}
