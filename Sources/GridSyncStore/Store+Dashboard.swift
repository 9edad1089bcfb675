import Foundation
import GRDB
import GridSyncCore

/// One enrolled node as the centre sees it: when it was last heard of, what is left to exchange
/// with it, and what of it needs a person.
public struct NodeActivity: Sendable, Codable, Equatable {
    public var nodeID: String
    public var name: String?
    public var role: String?
    public var grid: String?
    public var building: String?
    public var revoked: Bool
    /// When its newest change this store holds was made (its own clock).
    public var lastChange: String?
    /// When this node last finished a sync with it directly.
    public var lastSync: String?
    public var connected: Bool
    /// Changes this node holds that it lacks, and the reverse, as of its last sync with this
    /// node (nil: never synced with it directly).
    public var toSend: UInt64?
    public var toReceive: UInt64?
    /// Its changes this node refused on receipt (the quarantine).
    public var quarantined: Int
    /// This node's own changes it refused.
    public var refused: Int
    /// Open conflicts with a competing value written by it.
    public var openConflicts: Int

    /// The later of ``lastChange`` and ``lastSync``: when it was last heard of.
    public var lastSeen: String? {
        switch (lastChange.flatMap(Timestamp.parse), lastSync.flatMap(Timestamp.parse)) {
        case (let a?, let b?): a > b ? lastChange : lastSync
        case (.some, nil): lastChange
        case (nil, .some): lastSync
        case (nil, nil): nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id", name, role, grid, building, revoked
        case lastChange = "last_change", lastSync = "last_sync", connected
        case toSend = "to_send", toReceive = "to_receive", quarantined, refused
        case openConflicts = "open_conflicts"
    }
}

extension Store {
    /// Every node on the roster with what this store knows of its activity (the dashboard's
    /// nodes page), in roster order.
    public func nodeActivity() throws -> [NodeActivity] {
        let peers = try peers()
        let quarantined = Dictionary(try quarantine().map { ($0.origin, $0.changes) }, uniquingKeysWith: +)
        return try read { db in
            let roster = try Self.roster(db)
            var lastChange: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT o.node_id, (SELECT c.hlc FROM changes c WHERE c.origin = o.idx AND c.seq = o.max_seq) FROM origins o
                """) {
                if let hlc = row[1] as Int64? { lastChange[row[0]] = Timestamp.iso(HLC(raw: UInt64(bitPattern: hlc)).milliseconds) }
            }
            let conflicts = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
                SELECT o.node_id, count(DISTINCT v.conflict) FROM conflict_values v JOIN origins o ON o.idx = v.origin GROUP BY o.node_id
                """).map { ($0[0] as String, $0[1] as Int) })
            let refused = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT peer, count(*) FROM refused_by_peers GROUP BY peer")
                .map { ($0[0] as String, $0[1] as Int) })
            return roster.map { e in
                let mine = peers.filter { $0.nodeID == e.node_id }
                let synced = mine.compactMap(\.lastSync).max { a, b in (Timestamp.parse(a) ?? .distantPast) < (Timestamp.parse(b) ?? .distantPast) }
                let latest = mine.first { $0.lastSync == synced } ?? mine.first
                return NodeActivity(
                    nodeID: e.node_id, name: e.name, role: e.role, grid: e.grid, building: e.building, revoked: e.status == "revoked",
                    lastChange: lastChange[e.node_id], lastSync: synced, connected: mine.contains(where: \.connected),
                    toSend: latest?.toSend, toReceive: latest?.toReceive, quarantined: quarantined[e.node_id] ?? 0,
                    refused: refused[e.node_id] ?? 0, openConflicts: conflicts[e.node_id] ?? 0)
            }
        }
    }
}

/// A dashboard account: a name and when it was added (the credential stays in the store).
public struct DashboardAccount: Sendable, Codable, Equatable {
    public var name: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case name, createdAt = "created_at"
    }
}

extension Store {
    /// Longest account name, in characters.
    public static let maxAccountName = 64

    /// Checks an account name: 1 to 64 characters, no spaces or control characters.
    public static func checkAccountName(_ name: String) throws {
        guard !name.isEmpty, name.count <= maxAccountName,
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.isWhitespace }) else {
            throw GridSyncError(.invalidInput, Localized("账户名须为 1 到 \(maxAccountName) 个字符，不含空格和控制字符", en: "an account name is 1 to \(maxAccountName) characters, without spaces or control characters"))
        }
    }

    /// The dashboard's accounts, by name. They live in this store only: never replicated.
    public func dashboardAccounts() throws -> [DashboardAccount] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT name, created_at FROM dashboard_accounts ORDER BY name").map {
                DashboardAccount(name: $0[0], createdAt: $0[1])
            }
        }
    }

    /// The stored credential of account `name` (a password hash), or nil if there is none.
    public func dashboardCredential(_ name: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT credential FROM dashboard_accounts WHERE name = ?", arguments: [name]) }
    }

    /// Adds account `name`, or sets its credential if it exists; true if it was new.
    @discardableResult
    public func setDashboardAccount(_ name: String, credential: String) throws -> Bool {
        try Self.checkAccountName(name)
        let now = Timestamp.iso(wallClock())
        do {
            return try writer.write { db in
                let existed = try Bool.fetchOne(db, sql: "SELECT 1 FROM dashboard_accounts WHERE name = ?", arguments: [name]) ?? false
                try db.execute(sql: """
                    INSERT INTO dashboard_accounts (name, credential, created_at) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET credential = excluded.credential
                    """, arguments: [name, credential, now])
                return !existed
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// Removes account `name`; throws if there is no such account.
    public func removeDashboardAccount(_ name: String) throws {
        let removed: Bool
        do {
            removed = try writer.write { db in
                try db.execute(sql: "DELETE FROM dashboard_accounts WHERE name = ?", arguments: [name])
                return db.changesCount > 0
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
        guard removed else {
            throw GridSyncError(.notFound, Localized("没有名为「\(name)」的看板账户（`gridsync dashboard user list` 列出所有账户）", en: "no dashboard account named '\(name)' (`gridsync dashboard user list` lists them)"))
        }
    }
}

extension Store {
    /// Requests matching `filter` with their clear fields only: nothing is opened, so nothing
    /// personal can be shown (a page for someone not signed in).
    public func clearRequestPage(_ filter: RequestFilter) throws -> RequestPage {
        try requestPage(filter, opening: false)
    }

    /// How a request's detail names the service it is assigned to: `助老送餐 (1a2b3c4d)`, or
    /// the ID alone if this node holds no such service.
    public func serviceLabel(_ id: String) -> String {
        (try? service(id)).map { "\($0.name) (\(id.prefix(8)))" } ?? id
    }

    /// Today (YYYY-MM-DD) in the local time zone, by this store's clock: what "overdue" is
    /// judged against.
    public func today() -> String { LocalDay(timeZone: .current).of(ms: wallClock()) }

    /// Open conflicts with a competing value written by `node` (its ID text).
    public func conflicts(involving node: String) throws -> [ConflictRecord] {
        try conflicts().filter { c in c.values.contains { $0.origin == node } }
    }
}
