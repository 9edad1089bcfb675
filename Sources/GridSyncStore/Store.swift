import Foundation
import GRDB
import GridSyncCore

/// One node's replica: a SQLite file (WAL) holding the change log, field heads and plain
/// tables of current values (`requests`, `services`, `request_notes`, the `conflicts` view).
///
/// Every local write becomes one signed change applied through the same path as changes from
/// peers, so local and remote data obey the same rules. The CLI and the daemon may use the same
/// file at once.
public final class Store: Sendable {
    /// The store file, or `:memory:`.
    public let path: String
    /// This node.
    public let node: LocalNode
    let writer: any DatabaseWriter
    let key: NodeKey
    /// This node's signing key, for the daemon's TLS certificate (which binds the connection
    /// to the node ID). Nothing else outside the store signs with it.
    public var nodeKey: NodeKey { key }
    let wallClock: @Sendable () -> UInt64
    /// The scope keys last unwrapped from the store's grants.
    let keyrings = KeyringCache()

    /// Milliseconds since the Unix epoch.
    public static let systemClock: @Sendable () -> UInt64 = {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }

    private init(path: String, writer: any DatabaseWriter, key: NodeKey, node: LocalNode, wallClock: @escaping @Sendable () -> UInt64) {
        self.path = path
        self.writer = writer
        self.key = key
        self.node = node
        self.wallClock = wallClock
    }

    /// SQLite page cache per connection, in MiB, unless the caller asks for another size.
    public static let defaultCacheMiB = 64

    static func configuration(cacheMiB: Int = defaultCacheMiB) -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let pages = -1024 * max(1, cacheMiB)
        config.prepareDatabase { db in
            // secure_delete: pages freed (an erased record's old boxes) are zeroed, not left behind.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = \(pages); PRAGMA secure_delete = ON")
        }
        return config
    }

    /// Creates a new store and node key. Fails if a store already exists at `path`.
    ///
    /// With a `passphrase`, the key file is sealed under it (scrypt): opening the store then
    /// needs it (``open(path:cacheMiB:concurrent:passphrase:wallClock:)``).
    public static func create(
        path: String, name: String, role: NodeRole, grid: String?, building: String?, passphrase: String? = nil,
        wallClock: @escaping @Sendable () -> UInt64 = Store.systemClock
    ) throws -> Store {
        let keyPath = KeyFile.path(forStore: path)
        if FileManager.default.fileExists(atPath: path) || FileManager.default.fileExists(atPath: keyPath) {
            throw GridSyncError(.alreadyInitialized, Localized("\(path) 已有存储；请直接使用它，或用 --db 指定新路径", en: "a store already exists at \(path); use it, or pass --db with a new path"))
        }
        try PrivateFiles.createFolder(PrivateFiles.folder(of: path))
        if let passphrase { try KeyFile.check(passphrase) }
        let key = NodeKey()
        try KeyFile.write(key, to: keyPath, passphrase: passphrase)
        do {
            // An empty file is an empty database: SQLite keeps its mode for the WAL and SHM.
            try PrivateFiles.create(path)
            let pool = try DatabasePool(path: path, configuration: configuration())
            return try initialize(
                writer: pool, path: path, key: key, name: name, role: role, grid: grid, building: building,
                foundCommunity: role == .centre, wallClock: wallClock)
        } catch {
            try? FileManager.default.removeItem(atPath: keyPath)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw Store.wrap(error, path: path)
        }
    }

    /// A store in memory, for tests. Unlike ``create(path:name:role:grid:building:wallClock:)``
    /// a centre founds a community only if `foundCommunity` says so: replication tests use
    /// centres as replicas that accept each other's changes.
    public static func inMemory(
        name: String, role: NodeRole, grid: String? = nil, building: String? = nil, key: NodeKey = NodeKey(),
        foundCommunity: Bool = false, wallClock: @escaping @Sendable () -> UInt64 = Store.systemClock
    ) throws -> Store {
        let queue = try DatabaseQueue(configuration: configuration())
        return try initialize(
            writer: queue, path: ":memory:", key: key, name: name, role: role, grid: grid, building: building,
            foundCommunity: foundCommunity && role == .centre, wallClock: wallClock)
    }

    private static func initialize(
        writer: any DatabaseWriter, path: String, key: NodeKey, name: String, role: NodeRole,
        grid: String?, building: String?, foundCommunity: Bool, wallClock: @escaping @Sendable () -> UInt64
    ) throws -> Store {
        try Migrations.migrator.migrate(writer)
        let node = LocalNode(id: key.nodeID, name: name, role: role, grid: grid, building: building)
        try writer.write { db in
            try db.execute(
                sql: "INSERT INTO local_node (id, node_id, name, role, grid, building, created_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
                arguments: [node.id.text, name, role.rawValue, grid, building, Timestamp.iso(wallClock())])
        }
        let store = Store(path: path, writer: writer, key: key, node: node, wallClock: wallClock)
        if foundCommunity { try store.foundCommunity() }
        try store.publishProfile()
        return store
    }

    /// Opens an existing store and its key file.
    /// - Parameters:
    ///   - cacheMiB: SQLite page cache per connection; a long-running daemon uses less than a
    ///     one-off bulk import.
    ///   - concurrent: a pool of reader connections beside the writer, for a process that reads
    ///     while it writes (the daemon). Otherwise one connection: GRDB's pool writes when it
    ///     opens a store whose WAL file is empty, which would make a one-off read wait for
    ///     another process's write; one connection on a store in WAL mode never does.
    ///   - passphrase: asked only when the key file is protected by one; returns nil when none
    ///     can be had (no terminal, no passphrase file).
    public static func open(
        path: String, cacheMiB: Int = Store.defaultCacheMiB, concurrent: Bool = false,
        passphrase: () throws -> String? = { nil },
        wallClock: @escaping @Sendable () -> UInt64 = Store.systemClock
    ) throws -> Store {
        guard FileManager.default.fileExists(atPath: path) else {
            throw GridSyncError(.notInitialized, Localized("\(path) 没有存储；请用 `gridsync init --name 名称 --role centre", en: "grid"))
        }
        do {
            let key = try KeyFile.read(from: KeyFile.path(forStore: path), passphrase: passphrase)
            PrivateFiles.tighten(store: path)
            let pool: any DatabaseWriter = concurrent
                ? try DatabasePool(path: path, configuration: configuration(cacheMiB: cacheMiB))
                : try DatabaseQueue(path: path, configuration: configuration(cacheMiB: cacheMiB))
            // Migrating takes the write lock; a store already up to date is only read, so reads
            // never wait for another process's long write.
            if try !pool.read({ try Migrations.migrator.hasCompletedMigrations($0) }) { try Migrations.migrator.migrate(pool) }
            let node = try pool.read { db -> LocalNode in
                guard let row = try Row.fetchOne(db, sql: "SELECT node_id, name, role, grid, building FROM local_node") else {
                    throw GridSyncError(.notInitialized, Localized("\(path) 的存储从未初始化；请删除它并运行 `gridsync init`", en: "the store at \(path) was never initialised; delete it and run `gridsync init`"))
                }
                guard let role = NodeRole(rawValue: row[2]) else { throw StoreError.corrupt("local_node.role") }
                return LocalNode(id: try NodeID(text: row[0]), name: row[1], role: role, grid: row[3], building: row[4])
            }
            guard node.id == key.nodeID else {
                throw GridSyncError(.malformed, Localized("密钥文件 \(KeyFile.path(forStore: path)) 属于另一个节点；请把正确的密钥文件放在存储旁边", en: "the key file \(KeyFile.path(forStore: path)) belongs to another node than the store; put the right key file beside the store"))
            }
            return Store(path: path, writer: pool, key: key, node: node, wallClock: wallClock)
        } catch {
            throw wrap(error, path: path)
        }
    }

    /// Turns SQLite errors into actionable messages (statement arguments are never included).
    static func wrap(_ error: any Error, path: String) -> any Error {
        if error is GridSyncError { return error }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return GridSyncError(.malformed, Localized("\(path) 不是 GridSync 存储，或已损坏；请检查 --db 路径", en: "\(path) is not a GridSync store or is damaged; check the --db path"))
            case .SQLITE_FULL:
                return GridSyncError(.io, Localized("\(path) 所在磁盘已满；请腾出空间后重试（没有修改任何内容）", en: "the disk holding \(path) is full; free some space and try again (nothing was changed)"))
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return GridSyncError(.io, Localized("存储 \(path) 正忙（另一个进程正在长时间写入）；请稍后重试", en: "the store \(path) is busy (another process holds a long write); try again"))
            case .SQLITE_IOERR:
                return GridSyncError(.io, Localized("无法读写 \(path)（磁盘满了或有故障？）；没有修改任何内容", en: "cannot read or write \(path) (is the disk full or failing?); nothing was changed"))
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
                return GridSyncError(.io, Localized("无法以写入方式打开 \(path)；请检查路径和权限", en: "cannot open \(path) for writing; check the path and its permissions"))
            default:
                return GridSyncError(.io, Localized("\(path) 出现 SQLite 错误 \(e.resultCode.rawValue)；没有修改任何内容", en: "SQLite error \(e.resultCode.rawValue) on \(path); nothing was changed"))
            }
        }
        return error
    }

    // MARK: Local writes

    /// Runs `body` in one write transaction; the fields it sets become one signed change,
    /// applied before the transaction commits. Returns the body's result and the change (nil if
    /// nothing was set).
    func localWrite<T>(_ body: (Database, inout PendingChange) throws -> T) throws -> (T, SignedChange?) {
        do {
            return try writer.writeWithoutTransaction { db in
                var output: (T, SignedChange?)?
                try db.inTransaction(.immediate) {
                    var (authorizer, writer) = try beginLocalWrites(db)
                    var pending = PendingChange(writer: writer)
                    let result = try body(db, &pending)
                    guard !pending.sets.isEmpty else {
                        output = (result, nil)
                        return .commit
                    }
                    let signed = try commitLocal(pending, &authorizer, db)
                    output = (result, signed)
                    return .commit
                }
                return output!
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// Writes the given fields as one local change, judged like every local write. Returns the
    /// signed change, or nil when `sets` is empty.
    @discardableResult
    func localSet(_ sets: [PendingChange.Set]) throws -> SignedChange? {
        try localWrite { _, change in
            for s in sets { change.set(s.collection, s.record, s.field, s.value) }
        }.1
    }

    /// Several local changes in one transaction: each closure fills one change.
    func localWriteMany(_ bodies: [(inout PendingChange) -> Void]) throws {
        do {
            try writer.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    var (authorizer, writer) = try beginLocalWrites(db)
                    for body in bodies {
                        var pending = PendingChange(writer: writer)
                        body(&pending)
                        if !pending.sets.isEmpty { _ = try commitLocal(pending, &authorizer, db) }
                    }
                    return .commit
                }
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// Checks, once per write transaction, that this node may write at all: its clock is
    /// plausible, it holds its own history (not a backup behind it), and the roster it holds
    /// has not revoked it. Returns the authoriser every change of the transaction is judged by,
    /// and the writer this node is judged as.
    func beginLocalWrites(_ db: Database) throws -> (Authorizer, Writer) {
        let wall = wallClock()
        guard wall <= Limits.maxPlausibleMs else {
            throw GridSyncError(.notPermitted, Localized("本机时钟不对（显示为 \(Timestamp.iso(wall))，晚于 2100 年）；请把日期和时间调对后再写入（没有写入任何内容）", en: "this computer's clock says \(Timestamp.iso(wall)), after 2100; set the date and time right, then write again (nothing was written)"))
        }
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT own_seq_seen, centre FROM local_node"))
        let seen = UInt64(max(0, row?[0] as Int64? ?? 0))
        let own = try UInt64(Int64.fetchOne(db.cachedStatement(sql: "SELECT max_seq FROM origins WHERE node_id = ?"), arguments: [node.id.text]) ?? 0)
        if seen > own {
            throw GridSyncError(.notPermitted, Localized("""
                本机存储是旧的备份，须先取回本节点的变更再写入：其他节点持有本节点到 \(seen) 的变更，而本存储只有到 \(own) 的。\
                写入之前先取回它们，否则本节点的历史会分叉：让 `gridsync daemon` 与社区中心同步，\
                或在社区中心运行 `gridsync bundle export --since @本机.vector` 并在这里导入该数据包（没有写入任何内容）
                """, en: """
                other nodes hold this node's changes up to \(seen) but this store has only \(own): it was restored from an older copy. \
                Take them back before writing, or this node's history would fork: let `gridsync daemon` sync with the centre, \
                or on the centre run `gridsync bundle export --since @THIS.vector` and import that bundle here (nothing was written)
                """))
        }
        if let centreText = row?[1] as String?, centreText != node.id.text,
            let newest = try Int64.fetchOne(db.cachedStatement(sql: """
                SELECT c.hlc FROM changes c JOIN origins o ON o.idx = c.origin WHERE o.node_id = ? ORDER BY c.seq DESC LIMIT 1
                """), arguments: [centreText]),
            wall > HLC(raw: UInt64(bitPattern: newest)).milliseconds + Limits.maxLeadOverCentreMs
        {
            let centreTime = Timestamp.iso(HLC(raw: UInt64(bitPattern: newest)).milliseconds)
            throw GridSyncError(.notPermitted, Localized("""
                本机时钟可能不对：它显示 \(Timestamp.iso(wall))，比社区中心最新的变更（\(centreTime)）晚 90 天以上。\
                如果日期不对，请调对；如果这台笔记本确实离开了这么久，请先与社区中心同步（没有写入任何内容）
                """, en: """
                this computer's clock says \(Timestamp.iso(wall)), more than 90 days after the newest change from the centre (\(centreTime)). \
                If the date is wrong, set it right; if this laptop really was away that long, sync with the centre first (nothing was written)
                """))
        }
        let authorizer = try Authorizer.forLocalWrites(node, db)
        return (authorizer, try localWriter(of: authorizer))
    }

    func commitLocal(_ pending: PendingChange, _ authorizer: inout Authorizer, _ db: Database) throws -> SignedChange {
        let wall = wallClock()
        var applier = try ChangeApplier(db, clock: try loadClock(db), wallMs: wall, own: node.id)
        let states = try RecordStateStatements(db)
        var loaded: [RecordKey: RecordHeads?] = [:]
        func heads(_ key: RecordKey, _ field: String) throws -> [OpRef] {
            if loaded[key] == nil { loaded[key] = .some(try states.load(key, db)) }
            return (loaded[key]!?[field] ?? []).map { OpRef(origin: applier.origins.nodeID($0.origin), seq: UInt64($0.seq)) }
        }
        var ops: [Op] = []
        // Where each (record, field) already has its op: a field set twice keeps the last value.
        var opIndex: [RecordKey: [String: Int]] = [:]
        var touched: [RecordKey] = []
        var setDeleted = Set<RecordKey>()
        // Inside a community personal values leave this node sealed, never in clear.
        let sets = authorizer.inCommunity ? try sealPersonal(pending.sets, by: pending.writer, db) : pending.sets
        for set in sets {
            let key = RecordKey(collection: set.collection, record: set.record)
            if let i = opIndex[key]?[set.field] {
                ops[i].value = set.value
                continue
            }
            if opIndex[key] == nil { touched.append(key) }
            opIndex[key, default: [:]][set.field] = ops.count
            ops.append(Op(collection: set.collection, record: set.record, field: set.field, value: set.value, pred: try heads(key, set.field)))
            if set.field == Schema.deletedField { setDeleted.insert(key) }
        }
        // Keep-alive: an edit of an existing record re-asserts `_deleted = 0` over the heads it
        // saw, so an edit concurrent with a delete shows up as a conflict on `_deleted`.
        for key in touched where !setDeleted.contains(key) {
            let predHeads = try heads(key, Schema.deletedField)
            if loaded[key]! != nil {
                ops.append(Op(collection: key.collection, record: key.record, field: Schema.deletedField, value: .int(0), pred: predHeads))
            }
        }
        let own = applier.origins.state(node.id)
        let hlc = applier.clock.tick(wallMs: wall)
        let change = Change(
            origin: node.id, seq: (own?.maxSeq ?? 0) + 1, hlc: hlc,
            prevHash: own?.lastHash ?? Change.zeroHash, ops: ops)
        // The receivers' rule, applied here first: what they would refuse is never written.
        if let (_, detail) = try authorizer.check(change, db) {
            throw GridSyncError(.notPermitted, Localized("本节点无权写入此项（其他节点都会拒绝）：\(detail.zh)（没有写入任何内容）", en: "this node may not write that — every other node would refuse it: \(detail.en) (nothing was written)"))
        }
        let signed = key.sign(change)
        // Every peer refuses a change over the limit, so one must never be made: it would stop
        // this node's history from syncing at all.
        guard signed.body.count <= Limits.maxChangeBytes else {
            throw GridSyncError(.tooLarge, Localized("这次写入会产生 \(signed.body.count) 字节的变更，超过单个变更上限 \(Limits.maxChangeBytes)；请分几次写入", en: "this write would make a change of \(signed.body.count) bytes, more than the \(Limits.maxChangeBytes) a change may hold; write less at once"))
        }
        var report = try applier.apply([.decoded(signed)], db, trusted: true)
        if report.rosterChanged { try retryQuarantined(&applier, &report, db) }
        try saveClock(applier.clock, db)
        return signed
    }

    /// After a roster change: tries again the held changes that change can make acceptable —
    /// those of the nodes whose roster records changed, and those that depended on a held
    /// change — and forgets the counts kept for those nodes (their senders offer the changes
    /// again). Released changes can release others, so it repeats while a pass releases any.
    func retryQuarantined(_ applier: inout ChangeApplier, _ report: inout ApplyReport, _ db: Database) throws {
        let members = report.rosterMembers
        try QuarantineTable.forgetCounts(of: members, db)
        for _ in 0..<16 {
            let retry = try QuarantineTable.retryable(db, origins: members)
            guard !retry.isEmpty else { return }
            let r = try applier.apply(retry.map { .encoded($0) }, db, source: "retry")
            report.applied += r.applied
            report.ops += r.ops
            if r.applied == 0 { return }
        }
    }

    func loadClock(_ db: Database) throws -> HybridClock {
        let last = try Int64.fetchOne(try db.cachedStatement(sql: "SELECT last_hlc FROM local_node")) ?? 0
        return HybridClock(last: HLC(raw: UInt64(bitPattern: last)))
    }

    func saveClock(_ clock: HybridClock, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE local_node SET last_hlc = ?").execute(arguments: [Int64(bitPattern: clock.last.raw)])
    }

    /// Publishes this node's name, role and scope as a replicated `nodes` record.
    func publishProfile() throws {
        _ = try localWrite { _, change in
            let id = node.id.text
            change.set(Schema.nodes, id, "name", .text(node.name))
            change.set(Schema.nodes, id, "role", .text(node.role.rawValue))
            change.set(Schema.nodes, id, "grid", node.grid.map(FieldValue.text) ?? .null)
            change.set(Schema.nodes, id, "building", node.building.map(FieldValue.text) ?? .null)
            change.set(Schema.nodes, id, "agreement_key", .text(agreementKeyText))
        }
    }

    // MARK: Remote changes

    /// Applies changes from a peer or a bundle in one transaction: all or nothing.
    @discardableResult
    public func apply(_ changes: [SignedChange]) throws -> ApplyReport {
        try applyInOneTransaction { apply in try apply(changes.map { .decoded($0) }) }
    }

    /// Runs `feed`, which may hand any number of batches to the apply function it gets, all in
    /// one transaction: if anything throws, nothing is kept.
    ///
    /// `source` names where the changes came from (a peer, a bundle file) in the quarantine.
    /// When an applied change touched the roster, quarantined changes that a roster change can
    /// make acceptable are tried again in the same transaction.
    func applyInOneTransaction(
        source: String = "local",
        _ feed: (_ apply: ([ChangeApplier.Input]) throws -> Void) throws -> Void,
        after: (Database) throws -> Void = { _ in }
    ) throws -> ApplyReport {
        do {
            return try writer.writeWithoutTransaction { db in
                var report = ApplyReport()
                try db.inTransaction(.immediate) {
                    var applier = try ChangeApplier(db, clock: try loadClock(db), wallMs: wallClock(), own: node.id)
                    try feed { batch in report.merge(try applier.apply(batch, db, source: source)) }
                    if report.rosterChanged { try retryQuarantined(&applier, &report, db) }
                    try saveClock(applier.clock, db)
                    // The centre grants keys to a member as soon as it has the member's profile.
                    if report.rosterChanged || report.profilesChanged { report.issuedGrants = try issueOwedGrants(db) }
                    try after(db)
                    return .commit
                }
                return report
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// This store's version vector.
    public func vector() throws -> VersionVector {
        try writer.read { db in try OriginTable.load(db).vector }
    }

    /// Reads with a consistent snapshot.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch {
            throw Store.wrap(error, path: path)
        }
    }
}

/// The fields one local write sets; becomes one change.
struct PendingChange {
    /// How this node is judged in this transaction (the roster's scope for it).
    let writer: Writer

    struct Set {
        var collection: String
        var record: String
        var field: String
        var value: FieldValue
    }

    private(set) var sets: [Set] = []

    init(writer: Writer) { self.writer = writer }

    mutating func set(_ schema: CollectionSchema, _ record: String, _ field: String, _ value: FieldValue) {
        set(schema.name, record, field, value)
    }

    mutating func set(_ collection: String, _ record: String, _ field: String, _ value: FieldValue) {
        sets.append(Set(collection: collection, record: record, field: field, value: value))
    }
}

/// Timestamps stored in the plain tables: ISO 8601, UTC, millisecond precision
/// (`2026-11-23T02:15:00.123Z`), so they sort as text and read the same on every node.
public enum Timestamp {
    public static func iso(_ ms: UInt64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // By hand: String(format:) costs more than the rest of a local write's bookkeeping.
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(0x30 + UInt8((v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); out.append(0x2D)
        digits(Int(parts.tm_mon) + 1, 2); out.append(0x2D)
        digits(Int(parts.tm_mday), 2); out.append(0x54)
        digits(Int(parts.tm_hour), 2); out.append(0x3A)
        digits(Int(parts.tm_min), 2); out.append(0x3A)
        digits(Int(parts.tm_sec), 2); out.append(0x2E)
        digits(Int(ms % 1000), 3); out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses what ``iso(_:)`` writes.
    public static func parse(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count == 24, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A, u[19] == 0x2E, u[23] == 0x5A else { return nil }
        func num(_ r: Range<Int>) -> Int? { Int(String(decoding: u[r], as: UTF8.self)) }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
            let se = num(17..<19), let ms = num(20..<23)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(mo - 1)
        parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(mi)
        parts.tm_sec = Int32(se)
        let t = timegm(&parts)
        return Date(timeIntervalSince1970: Double(t) + Double(ms) / 1000)
    }
}
