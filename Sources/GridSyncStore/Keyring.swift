import Crypto
import Foundation
import GRDB
import GridSyncCore

/// The scope keys this node holds: the grants the centre wrapped to its agreement key,
/// unwrapped in memory (never written to disk in clear). The centre and grid nodes hold grid
/// roots and derive every scope key of those grids; a building lead holds its building's key.
struct Keyring: Sendable {
    /// grid → epoch → root.
    private(set) var roots: [String: [UInt32: GridRoot]] = [:]
    /// scope ID → epoch → key, granted or derived.
    private(set) var keys: [String: [UInt32: ScopeKey]] = [:]
    /// grid → the newest epoch any grant names (whoever it is for): writers seal under it.
    private(set) var currentEpoch: [String: UInt32] = [:]
    /// scope ID → place, for the scopes of the grids whose roots this node holds.
    private var places: [String: Placement] = [:]
    /// Scope keys derived from roots so far (three HKDFs each), shared by every copy of this
    /// keyring: reading a register opens thousands of values under a few keys.
    private var derived = DerivedKeys()

    static var empty: Keyring { Keyring() }

    /// Loads every grant in the store and unwraps those made for `key`'s node.
    static func load(_ key: NodeKey, _ db: Database) throws -> Keyring {
        var ring = Keyring()
        let me = key.nodeID.text
        let agreement = key.agreementKey
        let rows = try Row.fetchCursor(db, sql: "SELECT kind, grid, building, scope, epoch, recipient, wrapped FROM key_grants WHERE deleted = 0")
        while let row = try rows.next() {
            guard let kind: String = row[0], let grid: String = row[1], let epochValue: Int64 = row[4],
                let epoch = UInt32(exactly: epochValue), epoch >= 1
            else { continue }
            let building: String? = row[2]
            ring.currentEpoch[grid] = max(ring.currentEpoch[grid] ?? 0, epoch)
            guard (row[5] as String?) == me, let wrappedText: String = row[6], let wrapped = Data(base64Encoded: wrappedText),
                let recipient = try? NodeID(text: me)
            else { continue }
            let scope: String? = row[3]
            let info = KeyGrant.info(kind: kind, grid: grid, scope: scope, epoch: epoch, recipient: recipient)
            // A grant that does not unwrap (altered, or made for another key) gives nothing;
            // `gridsync status` shows it as not usable.
            guard let secret = KeyGrant.unwrap(Array(wrapped), with: agreement, info: info) else { continue }
            switch kind {
            case GrantKind.root:
                guard let root = try? GridRoot(bytes: secret) else { continue }
                ring.roots[grid, default: [:]][epoch] = root
            case GrantKind.scope:
                guard let scope, scope == ScopeID.of(grid: grid, building: building) else { continue }
                ring.keys[scope, default: [:]][epoch] = ScopeKey(secret: secret, scope: scope, epoch: epoch)
            default:
                continue
            }
        }
        if !ring.roots.isEmpty {
            // The places the roster and the grants name; readers add each record's own place
            // (``learn(_:)``) before opening its values, so nothing here scans the registers.
            let placeRows = try Row.fetchAll(db, sql: """
                SELECT DISTINCT grid, building FROM key_grants WHERE grid IS NOT NULL
                UNION SELECT DISTINCT grid, building FROM roster WHERE grid IS NOT NULL
                """)
            for row in placeRows {
                guard let grid: String = row[0], ring.roots[grid] != nil else { continue }
                ring.learn(Placement(grid: grid, building: row[1]))
                ring.learn(Placement(grid: grid, building: nil))
            }
        }
        return ring
    }

    /// Remembers where a scope lies, so its key can be derived from a held root.
    mutating func learn(_ place: Placement) {
        guard let grid = place.grid else { return }
        places[ScopeID.of(grid: grid, building: place.building)] = place
    }

    /// Adds a root this node just made (the centre, in the transaction that grants it).
    mutating func add(root: GridRoot, grid: String, epoch: UInt32) {
        roots[grid, default: [:]][epoch] = root
        currentEpoch[grid] = max(currentEpoch[grid] ?? 0, epoch)
        // Copies made before this root share the old memo; this one starts its own.
        derived = DerivedKeys()
    }

    /// The root of `grid` at `epoch`, if held.
    func root(_ grid: String, _ epoch: UInt32) -> GridRoot? { roots[grid]?[epoch] }

    /// Whether this node holds any key at all.
    var isEmpty: Bool { roots.isEmpty && keys.isEmpty }

    /// The key that sealed `value`, if this node holds or can derive it.
    func key(for scope: String, epoch: UInt32) -> ScopeKey? {
        if let k = keys[scope]?[epoch] { return k }
        guard let place = places[scope], let grid = place.grid, let root = roots[grid]?[epoch] else { return nil }
        return derived.key(scope, epoch) { ScopeKey(secret: root.scopeSecret(building: place.building), scope: scope, epoch: epoch) }
    }

    /// The key to seal new values for `place` with: the grid's newest epoch. Fails (with words
    /// a worker can act on) when this node does not hold it.
    func sealingKey(for place: Placement) throws -> ScopeKey {
        guard let grid = place.grid else {
            throw GridSyncError(.invalidInput, Localized("居民信息须属于某个网格才能加密保存", en: "a request needs a grid before its residents' data can be sealed"))
        }
        let scope = ScopeID.of(grid: grid, building: place.building)
        guard let epoch = currentEpoch[grid] else {
            throw GridSyncError(.notPermitted, Localized("""
                本节点还没有收到网格 \(grid) 的密钥，暂不能写入居民信息：社区中心收到本节点的资料后才发放。\
                请与社区中心同步（`gridsync sync`，或让守护进程运行），然后再写入（没有写入任何内容）
                """, en: """
                this node holds no key for grid \(grid) yet: \
                the centre issues it once it has this node's profile. Sync with the centre (`gridsync sync`, or let the daemon run), then write again (nothing was written)
                """))
        }
        if let k = keys[scope]?[epoch] { return k }
        if let root = roots[grid]?[epoch] {
            return derived.key(scope, epoch) { ScopeKey(secret: root.scopeSecret(building: place.building), scope: scope, epoch: epoch) }
        }
        throw GridSyncError(.notPermitted, Localized("""
            本节点没有\(place.building.map { "楼栋 \($0)" } ?? "网格 \(grid)")当前（纪元 \(epoch)）的密钥，不能写入那里的居民信息：\
            那里不在本节点的范围内，或社区中心更换了密钥而新的授权还没有到达本节点；请与社区中心同步，或联系社区中心（没有写入任何内容）
            """, en: """
            this node holds no current key (epoch \(epoch)) for \
            grid \(grid)\(place.building.map { ", building \($0)" } ?? ""): it is outside this node's scope, or the centre rotated the key and its grant has not \
            reached this node yet; sync with the centre, or ask it (nothing was written)
            """))
    }

    /// Opens a value written at `collection`/`record`/`field`: clear values as they are, sealed
    /// ones if this node holds their key (else unchanged, still sealed).
    func open(_ value: FieldValue, _ collection: String, _ record: String, _ field: String) -> FieldValue {
        guard case .sealed(let s) = value, !s.isRedacted, let k = key(for: s.scope, epoch: s.epoch) else { return value }
        return k.open(s, collection: collection, record: record, field: field) ?? value
    }
}

/// Scope keys a keyring derived from its roots, by scope and epoch. A root never changes
/// under a (grid, epoch), so a derived key stays right for the keyring's life.
final class DerivedKeys: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: [UInt32: ScopeKey]] = [:]

    func key(_ scope: String, _ epoch: UInt32, derive: () -> ScopeKey) -> ScopeKey {
        lock.lock()
        defer { lock.unlock() }
        if let k = keys[scope]?[epoch] { return k }
        let k = derive()
        keys[scope, default: [:]][epoch] = k
        return k
    }
}

/// The kinds of key grant (`keys.kind`).
enum GrantKind {
    /// A grid's root of one epoch: for the centre and the grid's grid nodes.
    static let root = "root"
    /// One scope's key of one epoch: for a building lead.
    static let scope = "scope"
}

/// The keyring a store last loaded, and the grant count it was loaded at.
final class KeyringCache: @unchecked Sendable {
    private let lock = NSLock()
    private var version = ""
    private var ring = Keyring.empty

    /// Which grants `db` holds, as a count and the newest row (two index lookups): it changes
    /// whenever a grant is added or replaced. The search index records it too.
    static func version(_ db: Database) throws -> String {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT count(*), coalesce(max(rowid), 0) FROM key_grants"))
        return "\(row?[0] as Int64? ?? 0):\(row?[1] as Int64? ?? 0)"
    }

    /// The keyring for the grants `db` holds now, reloaded only when they changed.
    func get(_ key: NodeKey, _ db: Database) throws -> Keyring {
        let now = try Self.version(db)
        lock.lock()
        if version == now {
            defer { lock.unlock() }
            return ring
        }
        lock.unlock()
        let fresh = try Keyring.load(key, db)
        lock.lock()
        version = now
        ring = fresh
        lock.unlock()
        return fresh
    }
}
