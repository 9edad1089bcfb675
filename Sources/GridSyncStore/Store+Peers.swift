import GRDB
import GridSyncCore

/// One peer as the daemon last saw it.
public struct PeerStatus: Sendable, Codable, Equatable {
    public var peer: String
    public var direction: String
    public var nodeID: String?
    public var name: String?
    public var connected: Bool
    public var lastConnected: String?
    public var lastSync: String?
    public var lastError: String?
    /// Changes this node holds that the peer lacked when last heard from.
    public var toSend: UInt64?
    /// Changes the peer held that this node lacked when last heard from.
    public var toReceive: UInt64?
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case peer, direction, nodeID = "node_id", name, connected, lastConnected = "last_connected"
        case lastSync = "last_sync", lastError = "last_error", toSend = "to_send", toReceive = "to_receive"
        case updatedAt = "updated_at"
    }
}

/// A change to one peer's row; nil fields stay as they are.
public struct PeerUpdate: Sendable {
    public var direction: String
    public var nodeID: String?
    public var name: String?
    public var connected: Bool?
    public var connectedNow = false
    public var syncedNow = false
    public var error: String?
    public var clearError = false
    public var peerVector: VersionVector?

    public init(direction: String) { self.direction = direction }
}

extension Store {
    /// Records what the daemon learned about a peer.
    public func updatePeer(_ peer: String, _ u: PeerUpdate) throws {
        let now = Timestamp.iso(wallClock())
        do {
            try writer.write { db in
                try db.execute(
                    sql: "INSERT INTO peer_status (peer, direction, updated_at) VALUES (?, ?, ?) ON CONFLICT (peer) DO UPDATE SET updated_at = excluded.updated_at",
                    arguments: [peer, u.direction, now])
                if let v = u.nodeID { try db.execute(sql: "UPDATE peer_status SET node_id = ? WHERE peer = ?", arguments: [v, peer]) }
                if let v = u.name { try db.execute(sql: "UPDATE peer_status SET name = ? WHERE peer = ?", arguments: [v, peer]) }
                if let v = u.connected { try db.execute(sql: "UPDATE peer_status SET connected = ? WHERE peer = ?", arguments: [v, peer]) }
                if u.connectedNow { try db.execute(sql: "UPDATE peer_status SET last_connected = ? WHERE peer = ?", arguments: [now, peer]) }
                if u.syncedNow { try db.execute(sql: "UPDATE peer_status SET last_sync = ? WHERE peer = ?", arguments: [now, peer]) }
                if let e = u.error { try db.execute(sql: "UPDATE peer_status SET last_error = ? WHERE peer = ?", arguments: [e, peer]) }
                if u.clearError { try db.execute(sql: "UPDATE peer_status SET last_error = NULL WHERE peer = ?", arguments: [peer]) }
                if let v = u.peerVector { try db.execute(sql: "UPDATE peer_status SET peer_vector = ? WHERE peer = ?", arguments: [v.text, peer]) }
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// Marks every peer disconnected (the daemon starts or stops).
    public func resetPeerConnections() throws {
        // Inbound rows that never named a node are attempts (older versions kept one per
        // connection), not peers.
        try writer.write { db in
            try db.execute(sql: "UPDATE peer_status SET connected = 0; DELETE FROM peer_status WHERE direction = 'in' AND node_id IS NULL")
        }
    }

    /// Every peer the daemon has talked to or dialed, with what is left to exchange.
    public func peers() throws -> [PeerStatus] {
        let local = try vector()
        return try read { db in
            // The name comes from the roster (or the node's signed profile), not from what the
            // peer said in HELLO.
            try Row.fetchAll(db, sql: """
                SELECT p.*, coalesce(r.name, n.name, p.name) AS shown_name FROM peer_status p
                LEFT JOIN roster r ON r.id = 'member-' || replace(p.node_id, '-', '') AND r.deleted = 0
                LEFT JOIN nodes n ON n.id = p.node_id
                WHERE p.direction = 'out' OR p.node_id IS NOT NULL
                ORDER BY p.direction DESC, p.peer
                """).map { row in
                let pv = (row["peer_vector"] as String?).flatMap { try? VersionVector(text: $0) }
                return PeerStatus(
                    peer: row["peer"], direction: row["direction"], nodeID: row["node_id"], name: row["shown_name"],
                    connected: row["connected"] as Bool, lastConnected: row["last_connected"], lastSync: row["last_sync"],
                    lastError: row["last_error"], toSend: pv.map { local.count(missingFrom: $0) },
                    toReceive: pv.map { $0.count(missingFrom: local) }, updatedAt: row["updated_at"])
            }
        }
    }

    /// The highest change-log position: grows with every write, local or received.
    public func logPosition() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(pos), 0) FROM changes") ?? 0 }
    }
}

extension Store {
    /// SQLite's `PRAGMA integrity_check`: `["ok"]` for a sound file.
    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
