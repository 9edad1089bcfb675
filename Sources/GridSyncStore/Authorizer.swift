import Foundation
import GRDB
import GridSyncCore

/// Why a received change was quarantined instead of applied. The raw values are stable: they
/// are stored, shown by `gridsync quarantine list --json`, and sent to peers.
public enum QuarantineReason: String, Sendable, Codable, CaseIterable, Labelled {
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
    /// The change is stamped after 2100 (``Limits/maxPlausibleMs``): its node's clock is wrong.
    case badClock = "bad_clock"

    /// English label for tables: the code in words.
    public var englishLabel: String { rawValue.replacingOccurrences(of: "_", with: " ") }

    // catalogue: data — the reasons' Chinese names (Labelled)
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
        case .badClock: "时间戳不合理"
        }
    }
    // catalogue: end

    /// Whether a change refused for this reason still goes into the log, void: its origin's
    /// chain goes on and only its own ops stay unapplied. Out-of-scope writes by a member are
    /// an honest node's mistake often enough that they must never cut it off; everything else
    /// (strangers, revoked nodes, altered or misdated data) is held aside.
    public var isVoid: Bool { self == .outOfScope }

    /// Whether a later roster change can make the change acceptable (it is then retried).
    /// Altered or forged data never becomes acceptable.
    public var mayBeReleased: Bool { self != .badSignature && self != .brokenChain && self != .badClock }
}

/// A roster entry as the authoriser needs it.
struct RosterMember: Equatable {
    var role: NodeRole?
    var grid: String?
    var building: String?
    var status: String?
    var revokedAtMs: Int64?

    var isRevoked: Bool { status == "revoked" }
}

/// Decides whether a change may be applied, for received changes and local writes alike: its
/// origin is the centre or an active roster member (or was revoked only after making it), and
/// ``WritePolicy`` allows every record it writes. Roster changes and placements from earlier
/// changes of the same batch count, so a batch that enrols a node and then carries its changes
/// applies in one go.
///
/// Placement is judged against the record as this store holds it; see the threat model's known
/// gaps for the edge this leaves (a request moved between buildings while its old building
/// edits it).
struct Authorizer {
    let centre: NodeID?
    /// Whether the store belongs to a community: then personal values must be sealed.
    private(set) var inCommunity = false
    private(set) var roster: [NodeID: RosterMember]
    /// Writers judged by a scope other than the roster's: the local node outside a community or
    /// before its enrolment reached it.
    private var fixed: [NodeID: Writer] = [:]
    /// Placements of records written earlier in this batch (the store has not materialised them).
    private var pendingPlace: [RecordKey: Placement] = [:]
    /// Notes created earlier in this batch, with the request each is on.
    private var pendingNotes: [String: String] = [:]

    /// A request's placement as this store holds it (looked up once per change received).
    private let requestPlace: FastStatement

    init(centre: NodeID?, _ db: Database) throws {
        self.centre = centre
        requestPlace = try FastStatement(db, "SELECT grid, building FROM requests WHERE id = ?")
        var roster: [NodeID: RosterMember] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT id, role, grid, building, status, revoked_at FROM roster WHERE deleted = 0"))
        while let row = try rows.next() {
            guard let id = NodeID(rosterRecord: row[0]) else { continue }
            roster[id] = RosterMember(role: (row[1] as String?).flatMap(NodeRole.init), grid: row[2], building: row[3], status: row[4], revokedAtMs: row[5])
        }
        self.roster = roster
    }

    /// Loads the authoriser for the store's community, or nil when the store belongs to none
    /// (before `init --role centre` or `join`): then every well-formed change is accepted.
    static func load(_ db: Database) throws -> Authorizer? {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT centre FROM local_node")), let centre = try? NodeID(text: text) else { return nil }
        var a = try Authorizer(centre: centre, db)
        a.inCommunity = true
        return a
    }

    /// The authoriser for this node's own writes: in a community, the scope the roster this
    /// store holds gives the node (so a re-scoped or revoked laptop learns it at once); outside
    /// one, or before its enrolment arrived, the scope the store was created with.
    static func forLocalWrites(_ node: LocalNode, _ db: Database) throws -> Authorizer {
        var a = try load(db) ?? Authorizer(centre: node.role == .centre ? node.id : nil, db)
        if a.centre != node.id, a.roster[node.id]?.role == nil {
            a.fixed[node.id] = Writer(id: node.id, role: node.role == .centre && a.centre != nil ? .building : node.role, grid: node.grid, building: node.building)
        }
        return a
    }

    /// The writer `origin` is judged as when it makes a change at `hlc`, or why it may not write.
    func writer(_ origin: NodeID, at hlc: HLC) -> Result<Writer, Refusal> {
        if origin == centre { return .success(Writer(id: origin, role: .centre, grid: nil, building: nil)) }
        if let w = fixed[origin] { return .success(w) }
        guard let member = roster[origin], let role = member.role else {
            return .failure(Refusal(.notMember, Localized("不在社区成员名册上；社区中心用 `gridsync roster add` 登记它", en: "not on the community's roster; the centre adds it with `gridsync roster add`")))
        }
        if member.isRevoked {
            let revokedAt = member.revokedAtMs ?? 0
            if Int64(clamping: hlc.milliseconds) >= revokedAt {
                let at = Timestamp.iso(UInt64(max(0, revokedAt)))
                return .failure(Refusal(.revoked, Localized("社区中心已于 \(at) 吊销它，早于这个变更", en: "revoked by the centre at \(at), before it made this change")))
            }
        }
        return .success(Writer(id: origin, role: role, grid: member.grid, building: member.building))
    }

    /// A refusal: its reason code and plain words (no values).
    struct Refusal: Error {
        var reason: QuarantineReason
        var detail: Localized

        init(_ reason: QuarantineReason, _ detail: Localized) {
            self.reason = reason
            self.detail = detail
        }
    }


    /// The reason to refuse `change`, or nil to accept it. The words name the rule broken, not
    /// the origin (callers say whose change it was). Accepting records what the change does to
    /// the roster and to placements for the rest of the batch.
    mutating func check(_ change: Change, _ db: Database) throws -> (QuarantineReason, Localized)? {
        let writer: Writer
        switch self.writer(change.origin, at: change.hlc) {
        case .success(let w): writer = w
        case .failure(let r): return (r.reason, r.detail)
        }
        var order: [RecordKey] = []
        var byRecord: [RecordKey: [Op]] = [:]
        if let first = change.ops.first, change.ops.allSatisfy({ $0.record == first.record && $0.collection == first.collection }) {
            // One record (most changes): no grouping to do.
            let key = RecordKey(collection: first.collection, record: first.record)
            order = [key]
            byRecord[key] = change.ops
        } else {
            for op in change.ops {
                let key = RecordKey(collection: op.collection, record: op.record)
                if byRecord[key] == nil { order.append(key) }
                byRecord[key, default: []].append(op)
            }
        }
        var places: [RecordKey: Placement] = [:]
        var notes: [String: String] = [:]
        // Placed records first, so a note on a request the same change creates or moves is
        // judged by where the change puts it, whatever the order of the ops.
        let placedFirst = order.count == 1 ? order : order.filter { Schema.collection(named: $0.collection)?.writers == .placed }
            + order.filter { Schema.collection(named: $0.collection)?.writers != .placed }
        for key in placedFirst {
            let ops = byRecord[key]!
            func set(_ field: String) -> String?? {
                guard let op = ops.last(where: { $0.field == field }) else { return nil }
                return .some(op.value.text)
            }
            var write = RecordWrite(collection: key.collection, record: key.record, fields: ops.map(\.field), exists: false, before: nil, after: nil)
            if let schema = Schema.collection(named: key.collection) {
                if inCommunity { write.sealing = SealingFacts(ops, schema: schema) }
                write.erasedValue = ops.last { $0.field == Schema.erasedField }?.value
            }
            switch Schema.collection(named: key.collection)?.writers {
            case .placed:
                let before = try place(of: key, db)
                write.exists = before != nil
                write.before = before
                let after = Placement.after(before, grid: set("grid"), building: set("building"))
                write.after = after
                places[key] = after
            case .attachedToRequest:
                let stored = try NoteTable.request(ofNote: key.record, db)
                write.exists = pendingNotes[key.record] != nil || stored != nil
                let heldOn: String? = pendingNotes[key.record] ?? stored
                let request = (set("request") ?? heldOn).flatMap { $0 }
                if let request {
                    let target = RecordKey(collection: Schema.requests.name, record: request)
                    write.after = try places[target] ?? place(of: target, db)
                    notes[key.record] = request
                }
            default:
                break
            }
            if let reason = WritePolicy.check(write, by: writer) {
                return (.outOfScope, reason)
            }
        }
        if writer.role == .centre { noteRoster(change) }
        pendingPlace.merge(places) { _, new in new }
        pendingNotes.merge(notes) { _, new in new }
        return nil
    }

    private func place(of key: RecordKey, _ db: Database) throws -> Placement? {
        if let pending = pendingPlace[key] { return pending }
        guard let schema = Schema.collection(named: key.collection) else { return nil }
        if schema.name == Schema.requests.name {
            requestPlace.bind(1, key.record)
            return try requestPlace.first(db) { Placement(grid: $0.optionalText(0), building: $0.optionalText(1)) }
        }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT grid, building FROM \(schema.table) WHERE id = ?"), arguments: [key.record]) else { return nil }
        return Placement(grid: row[0], building: row[1])
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
            fixed[id] = nil
        }
    }
}
