import Foundation
import GRDB
import GridSyncCore

/// The community this store belongs to.
public struct CommunityInfo: Sendable, Equatable {
    public var id: CommunityID
    public var centre: NodeID
    /// Where `gridsync join` reached the centre (nil on the centre itself).
    public var centreAddress: String?
}

/// A roster entry as `gridsync roster list` shows it.
public struct RosterEntry: Sendable, Codable, Equatable {
    public var node_id: String
    public var name: String?
    public var role: String?
    public var grid: String?
    public var building: String?
    /// "active" or "revoked".
    public var status: String
    /// When the centre revoked the node (ISO 8601 UTC), if it did.
    public var revoked_at: String?
}

/// Who may connect: the community's centre and its active roster members, as one store holds
/// them at one moment.
public struct Membership: Sendable {
    public let community: CommunityInfo?
    let roster: [String: RosterEntry]

    /// Why `peer` may not connect, or nil if it may.
    public func refusal(of peer: NodeID) -> String? {
        guard let community else { return "this node belongs to no community yet; run `gridsync join`" }
        if peer == community.centre { return nil }
        guard let entry = roster[peer.text], entry.role != nil else {
            return "node \(peer.text) is not on the community's roster; the centre enrols it with `gridsync roster add \(peer.text) …`"
        }
        if entry.status == "revoked" {
            return "node \(peer.text) (\(entry.name ?? "?")) was revoked at \(entry.revoked_at ?? "?")"
        }
        return nil
    }
}

enum QuarantineTable {
    static let releasable = QuarantineReason.allCases.filter(\.mayBeReleased).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// The held changes a roster change for `origins` may make acceptable — theirs, and those
    /// that depended on a held change — in origin and seq order. Nothing else is loaded.
    static func retryable(_ db: Database, origins: Set<NodeID>) throws -> [[UInt8]] {
        var sql = "SELECT change FROM quarantine WHERE in_log = 0 AND reason IN (\(releasable)) AND (reason = 'depends_on_quarantined'"
        if !origins.isEmpty { sql += " OR origin IN (\(origins.map { "'\($0.text)'" }.joined(separator: ", ")))" }
        return try Data.fetchAll(db, sql: sql + ") ORDER BY origin, seq").map { Array($0) }
    }

    /// Forgets the counts kept for `origins`: their changes will be offered again.
    static func forgetCounts(of origins: Set<NodeID>, _ db: Database) throws {
        for o in origins { try db.execute(sql: "DELETE FROM quarantine_summary WHERE origin = ?", arguments: [o.text]) }
    }
}

extension Store {
    // MARK: Community

    /// The community this store belongs to, or nil before `init --role centre` or `join`.
    public func community() throws -> CommunityInfo? {
        try read { db in try Self.community(db) }
    }

    static func community(_ db: Database) throws -> CommunityInfo? {
        guard let row = try Row.fetchOne(db, sql: "SELECT community, centre, centre_address FROM local_node"),
            let idText = row[0] as String?, let centreText = row[1] as String?
        else { return nil }
        return CommunityInfo(id: try CommunityID(text: idText), centre: try NodeID(text: centreText), centreAddress: row[2])
    }

    /// Makes this (centre) node the centre of a new community whose ID derives from its key.
    func foundCommunity() throws {
        precondition(node.role == .centre)
        try writer.write { db in
            try db.execute(sql: "UPDATE local_node SET community = ?, centre = ?", arguments: [CommunityID(centre: node.id).text, node.id.text])
        }
    }

    /// Records that this node belongs to `community`, whose centre is `centre` (checked against
    /// the community ID) reached at `address`. Refuses to switch an already joined store to
    /// another community.
    public func join(community: CommunityID, centre: NodeID, address: String?) throws {
        guard node.role != .centre else {
            throw GridSyncError(.invalidInput, Localized("本节点是社区中心，它建立了自己的社区，不能加入别的社区", en: "this node is a centre; it founded its own community and cannot join another"))
        }
        guard community.isCentre(centre) else {
            throw GridSyncError(.notPermitted, Localized("节点 \(centre.short) 不是社区 \(community.text) 的中心：它的密钥与该 ID 不符；请检查社区 ID 和地址", en: "node \(centre.short) is not the centre of community \(community.text): its key does not hash to that ID; check the community ID and the address"))
        }
        if let existing = try self.community(), existing.id != community {
            throw GridSyncError(.invalidInput, Localized("本存储已属于社区 \(existing.id.text)；一个节点只属于一个社区，加入别的社区请用新的存储", en: "this store already belongs to community \(existing.id.text); a node belongs to one community — use a new store for another"))
        }
        do {
            try writer.write { db in
                try db.execute(
                    sql: "UPDATE local_node SET community = ?, centre = ?, centre_address = ?",
                    arguments: [community.text, centre.text, address])
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    // MARK: Roster

    private func requireCentre(_ what: Localized) throws {
        guard node.role == .centre, try community()?.centre == node.id else {
            throw GridSyncError(.notPermitted, Localized("只有社区中心可以\(what.zh)；请在社区中心的存储上运行", en: "only the community centre \(what.en); run this on the centre's store"))
        }
    }

    /// Adds `member` to the roster with a role and scope, or updates it (a revoked node stays
    /// revoked: enrol its replacement under a new key).
    public func rosterAdd(_ member: NodeID, name: String, role: NodeRole, grid: String?, building: String?) throws {
        try requireCentre(Localized("登记节点", en: "enrols nodes"))
        guard member != node.id else { throw GridSyncError(.invalidInput, Localized("社区中心始终是自己社区的成员；请登记其他节点", en: "the centre is always a member of its own community; enrol the other nodes")) }
        guard role != .centre else { throw GridSyncError(.invalidInput, Localized("--role 应为 grid 或 building；一个社区只有一个中心", en: "--role must be grid or building; a community has one centre")) }
        guard grid?.isEmpty == false else { throw GridSyncError(.invalidInput, Localized("网格节点和楼栋节点需要 --grid", en: "--grid is required for grid and building nodes")) }
        if role == .building, building?.isEmpty != false { throw GridSyncError(.invalidInput, Localized("楼栋节点需要 --building", en: "--building is required for a building node")) }
        let name = try Validate.required(name, "--name")
        _ = try Validate.place(grid, "--grid")
        _ = try Validate.place(building, "--building")
        let previous = try roster().first(where: { $0.node_id == member.text })
        if previous?.status == "revoked" {
            throw GridSyncError(.notPermitted, Localized("节点 \(member.short) 已被吊销，且不能恢复；如果笔记本已找回，请为它新建存储（`gridsync init`）并登记新的 ID", en: "node \(member.short) was revoked and stays revoked; if the laptop was recovered, give it a new store (`gridsync init`) and enrol its new ID"))
        }
        _ = try localWrite { _, change in
            let id = member.rosterRecord
            change.set(Schema.roster, id, "name", .text(name))
            change.set(Schema.roster, id, "role", .text(role.rawValue))
            change.set(Schema.roster, id, "grid", grid.map(FieldValue.text) ?? .null)
            change.set(Schema.roster, id, "building", role == .building ? building.map(FieldValue.text) ?? .null : .null)
            change.set(Schema.roster, id, "status", .text("active"))
        }
        // Re-scoped: the old grid's keys rotate, so the node reads none of what is written
        // there from now on (it keeps what it could read before).
        let newBuilding = role == .building ? building : nil
        var rotate = Set<String>()
        if let previous, let oldGrid = previous.grid, oldGrid != grid || previous.building != newBuilding || previous.role != role.rawValue {
            rotate.insert(oldGrid)
        }
        try issueGrants(rotating: rotate)
    }

    /// Revokes `member`: from now on every node refuses changes it makes and connections from it.
    public func rosterRevoke(_ member: NodeID) throws {
        try requireCentre(Localized("吊销节点", en: "revokes nodes"))
        guard try roster().contains(where: { $0.node_id == member.text }) else {
            throw GridSyncError(.notFound, Localized("节点 \(member.short) 不在成员名册上；`gridsync roster list` 列出所有成员", en: "node \(member.short) is not on the roster; `gridsync roster list` shows who is"))
        }
        let now = wallClock()
        let grid = try roster().first(where: { $0.node_id == member.text })?.grid
        _ = try localWrite { _, change in
            change.set(Schema.roster, member.rosterRecord, "status", .text("revoked"))
            change.set(Schema.roster, member.rosterRecord, "revoked_at", .int(Int64(now)))
        }
        // A new epoch for its grid: the revoked laptop reads nothing written there afterwards.
        try issueGrants(rotating: grid.map { [$0] } ?? [])
    }

    /// The roster member whose node ID is `text` or starts with it (dashes and case ignored),
    /// such as the 7 characters messages show.
    public func rosterMember(_ text: String) throws -> NodeID {
        if let id = try? NodeID(text: text) { return id }
        let want = text.uppercased().filter { $0 != "-" && $0 != " " }
        // Node IDs are base32 (A–Z, 2–7); anything else (a name, a phone) is not repeated.
        guard !want.isEmpty, want.allSatisfy({ ("A"..."Z").contains($0) || ("2"..."7").contains($0) }) else {
            throw GridSyncError(.invalidInput, Localized("这不是节点 ID；`gridsync roster list` 列出所有节点", en: "that is not a node ID; `gridsync roster list` shows them"))
        }
        let matches = try roster().filter { $0.node_id.filter { $0 != "-" }.hasPrefix(want) }
        switch matches.count {
        case 0: throw GridSyncError(.notFound, Localized("成员名册上没有以此开头的节点 ID；`gridsync roster list` 列出所有节点", en: "no node on the roster has an ID starting with that; `gridsync roster list` shows them"))
        case 1: return try NodeID(text: matches[0].node_id)
        default:
            let shown = matches.prefix(5).map { "\($0.node_id.prefix(15)) (\($0.name ?? "?"))" }.joined(separator: ", ")
            throw GridSyncError(.ambiguous, Localized("有多个节点的 ID 以此开头：\(shown)；请多输入几个字符", en: "several nodes' IDs start with that: \(shown); type more characters"))
        }
    }

    /// The roster as this store holds it, by name.
    public func roster() throws -> [RosterEntry] {
        try read { db in try Self.roster(db) }
    }

    static func roster(_ db: Database) throws -> [RosterEntry] {
        try Row.fetchAll(db, sql: "SELECT id, name, role, grid, building, status, revoked_at FROM roster WHERE deleted = 0 ORDER BY name, id").compactMap { row in
            guard let id = NodeID(rosterRecord: row[0]) else { return nil }
            return RosterEntry(
                node_id: id.text, name: row[1], role: row[2], grid: row[3], building: row[4], status: row[5] ?? "active",
                revoked_at: (row[6] as Int64?).map { Timestamp.iso(UInt64(max(0, $0))) })
        }
    }

    /// The community and its roster, read once to judge several peers.
    public func membership() throws -> Membership {
        try read { db in
            let community = try Self.community(db)
            var roster: [String: RosterEntry] = [:]
            for entry in try Self.roster(db) { roster[entry.node_id] = entry }
            return Membership(community: community, roster: roster)
        }
    }
}
