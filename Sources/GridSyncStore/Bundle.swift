import Crypto
import Foundation
import GRDB
import GridSyncCore

/// Change bundle files: sneakernet sync.
///
/// ```
/// "GRIDSYNC" (8 bytes) | u16be version (1) | u16be flags (0)
/// ( u32be length (1 … 1 MiB + 64) | change: body ‖ signature )*
/// u32be 0 | u64be change count | SHA-256 of every byte before it (32 bytes)
/// ```
/// Changes appear in the exporter's log order, which is causal order, so the importer can
/// apply them front to back.
public enum ChangeBundle {
    static let magic = Array("GRIDSYNC".utf8)
    /// The bundle format this build writes and reads.
    public static let version: UInt16 = 1
    static let headerBytes = 12
    static let trailerBytes = 4 + 8 + 32
    static let maxEntryBytes = Limits.maxChangeBytes + SignedChange.signatureBytes

    /// Writes a bundle file atomically: `produce` calls `emit` with each encoded change in
    /// order; the file appears at `path` only if everything succeeded.
    public static func write(to path: String, _ produce: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws -> Int {
        let tmp = path + ".partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try PrivateFiles.create(tmp)
        guard let handle = FileHandle(forWritingAtPath: tmp) else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw GridSyncError(.io, Localized("无法创建 \(path)；请检查文件夹存在且可写", en: "cannot create \(path); check that the directory exists and is writable"))
        }
        var ok = false
        defer {
            try? handle.close()
            if !ok { try? FileManager.default.removeItem(atPath: tmp) }
        }
        var hasher = SHA256()
        var buffer = ByteWriter(capacity: 1 << 20)
        func flush() throws {
            hasher.update(data: buffer.bytes)
            try handle.write(contentsOf: buffer.bytes)
            buffer = ByteWriter(capacity: 1 << 20)
        }
        buffer.write(contentsOf: magic)
        buffer.write(UInt8(version >> 8))
        buffer.write(UInt8(version & 0xff))
        buffer.write(0)
        buffer.write(0)
        var count: UInt64 = 0
        try produce { encoded in
            precondition(encoded.count <= maxEntryBytes)
            buffer.writeUInt32BE(UInt32(encoded.count))
            buffer.write(contentsOf: encoded)
            count += 1
            if buffer.bytes.count >= 1 << 20 { try flush() }
        }
        buffer.writeUInt32BE(0)
        buffer.writeUInt64BE(count)
        try flush()
        do {
            try handle.write(contentsOf: Array(hasher.finalize()))
            try handle.synchronize()
        } catch {
            throw GridSyncError(.io, Localized("无法写入 \(path)（磁盘满了？）；没有导出任何内容", en: "cannot write \(path) (is the disk full?); nothing was exported"))
        }
        guard rename(tmp, path) == 0 else {
            throw GridSyncError(.io, Localized("无法把做好的数据包移到 \(path)；请检查权限", en: "cannot move the finished bundle to \(path); check permissions"))
        }
        ok = true
        return Int(count)
    }

    /// A bundle file, mapped and checked: magic, version, checksum and framing are verified
    /// before any change is decoded.
    public struct Reader: Sendable {
        let data: Data
        /// Number of changes in the bundle.
        public let count: Int
        let entries: [Range<Int>]

        public init(path: String) throws {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            guard let size = (attributes?[.size] as? NSNumber)?.intValue else {
                throw GridSyncError(.io, Localized("无法读取数据包 \(path)；请检查路径", en: "cannot read bundle \(path); check the path"))
            }
            guard size <= Limits.maxBundleBytes else {
                throw GridSyncError(.tooLarge, Localized("数据包 \(path) 有 \(size) 字节，超过上限 \(Limits.maxBundleBytes)；请用 --since 分批导出", en: "bundle \(path) is \(size) bytes, over the limit of \(Limits.maxBundleBytes); export it in parts with --since"))
            }
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            } catch {
                throw GridSyncError(.io, Localized("无法读取数据包 \(path)；请检查路径和权限", en: "cannot read bundle \(path); check the path and permissions"))
            }
            try self.init(data: data)
        }

        public init(data: Data) throws {
            self.data = data
            let size = data.count
            guard size >= headerBytes + trailerBytes, Array(data.prefix(8)) == magic else {
                throw GridSyncError(.malformed, Localized("这个文件不是 GridSync 数据包（文件头不对）；请使用 `gridsync bundle export` 生成的文件", en: "this file is not a GridSync bundle (wrong header); pass a file made by `gridsync bundle export`"))
            }
            let bytes = [UInt8](data.prefix(headerBytes))
            let version = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
            guard version == ChangeBundle.version else {
                throw GridSyncError(.malformed, Localized("不支持数据包格式版本 \(version)（本程序读取版本 \(ChangeBundle.version)）；请升级 gridsync", en: "bundle format version \(version) is not supported (this gridsync reads version \(ChangeBundle.version)); upgrade gridsync"))
            }
            guard bytes[10] == 0 && bytes[11] == 0 else {
                throw GridSyncError(.malformed, Localized("数据包使用了本程序不认识的标志；请升级 gridsync", en: "bundle uses flags this gridsync does not know; upgrade gridsync"))
            }
            let digest = Array(SHA256.hash(data: data.prefix(size - 32)))
            guard digest == Array(data.suffix(32)) else {
                throw GridSyncError(.malformed, Localized("数据包已损坏或不完整（校验和不符）；请重新复制或导出", en: "bundle is damaged or incomplete (checksum mismatch); copy or export it again"))
            }
            var entries: [Range<Int>] = []
            var offset = headerBytes
            let end = size - 32
            func u32(_ at: Int) -> Int {
                let b = [UInt8](data[at..<at + 4])
                return Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
            }
            while true {
                guard offset + 4 <= end else {
                    throw GridSyncError(.malformed, Localized("数据包没有结束标记；请重新复制或导出", en: "bundle ends without its end marker; copy or export it again"))
                }
                let length = u32(offset)
                offset += 4
                if length == 0 { break }
                guard length <= maxEntryBytes else {
                    throw GridSyncError(.tooLarge, Localized("数据包第 \(entries.count + 1) 项声明了 \(length) 字节，超过上限 \(maxEntryBytes)", en: "bundle entry \(entries.count + 1) declares \(length) bytes, over the limit of \(maxEntryBytes)"))
                }
                guard offset + length <= end - 8 else {
                    throw GridSyncError(.malformed, Localized("数据包第 \(entries.count + 1) 项超出了文件末尾", en: "bundle entry \(entries.count + 1) runs past the end of the file"))
                }
                entries.append(offset..<offset + length)
                offset += length
            }
            guard offset + 8 == end else {
                throw GridSyncError(.malformed, Localized("数据包结束标记之后还有多余字节", en: "bundle has unexpected bytes after its end marker"))
            }
            let countBytes = [UInt8](data[offset..<offset + 8])
            var declared: UInt64 = 0
            for b in countBytes { declared = declared << 8 | UInt64(b) }
            guard declared == UInt64(entries.count) else {
                throw GridSyncError(.malformed, Localized("数据包声明有 \(declared) 个变更，实际有 \(entries.count) 个", en: "bundle says it holds \(declared) changes but holds \(entries.count)"))
            }
            self.entries = entries
            self.count = entries.count
        }

        /// The encoded changes (`body ‖ signature`) in `range`, undecoded.
        public func entries(_ range: Range<Int>) -> [[UInt8]] {
            range.map { [UInt8](data[entries[$0]]) }
        }

        /// Decodes the changes in `range` (indices into the bundle).
        public func changes(_ range: Range<Int>) throws -> [SignedChange] {
            var out: [SignedChange] = []
            out.reserveCapacity(range.count)
            for i in range {
                do {
                    out.append(try SignedChange(encoded: [UInt8](data[entries[i]])))
                } catch {
                    throw error.within(Localized("数据包第 \(i + 1) 项", en: "bundle entry \(i + 1)"))
                }
            }
            return out
        }
    }
}

/// What importing a bundle did.
public struct ImportReport: Sendable {
    public var changesInBundle: Int
    public var apply: ApplyReport
}

extension Store {
    /// Changes per apply step while importing: bounds memory; all steps share one transaction.
    static let importBatch = 10_000

    /// Imports a bundle in one transaction: either every change in it applies, or none does.
    /// `progress` hears how many of the bundle's changes have been applied, after each batch.
    public func importBundle(at path: String, progress: ((Int, Int) -> Void)? = nil) throws -> ImportReport {
        let reader = try ChangeBundle.Reader(path: path)
        let report = try applyInOneTransaction(source: "bundle " + (path as NSString).lastPathComponent) { apply in
            var start = 0
            while start < reader.count {
                let end = min(start + Store.importBatch, reader.count)
                try apply(reader.entries(start..<end).map { .encoded($0) })
                progress?(end, reader.count)
                start = end
            }
        }
        return ImportReport(changesInBundle: reader.count, apply: report)
    }

    /// Writes the changes `since` lacks to a bundle file, in log order. Returns how many.
    @discardableResult
    public func exportBundle(to path: String, since: VersionVector = VersionVector()) throws -> Int {
        try read { db in
            try ChangeBundle.write(to: path) { emit in try forEachChange(missingFrom: since, db, emit) }
        }
    }
}

extension Store {
    /// Up to `maxChanges` (and about `maxBytes`) of the changes `vector` lacks, encoded, in log
    /// order; `more` tells whether any were left out. Each origin costs one index range scan
    /// bounded by `maxChanges`, so a fetch costs the same whatever the history's length.
    public func encodedChanges(missingFrom vector: VersionVector, maxChanges: Int, maxBytes: Int) throws -> (changes: [[UInt8]], more: Bool) {
        try read { db in try encodedChanges(missingFrom: vector, maxChanges: maxChanges, maxBytes: maxBytes, db) }
    }

    func encodedChanges(missingFrom vector: VersionVector, maxChanges: Int, maxBytes: Int, _ db: Database) throws -> (changes: [[UInt8]], more: Bool) {
        let origins = try OriginTable.load(db)
        let byOrigin = try db.cachedStatement(sql: "SELECT pos FROM changes WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?")
        var positions: [Int64] = []
        var missing: UInt64 = 0
        for (idx, state) in origins.states where state.maxSeq > vector[state.id] {
            missing += state.maxSeq - vector[state.id]
            positions += try Int64.fetchAll(byOrigin, arguments: [idx, Int64(vector[state.id]), maxChanges])
        }
        positions.sort()
        let body = try FastStatement(db, "SELECT body, signature FROM changes WHERE pos = ?")
        var out: [[UInt8]] = []
        var bytes = 0
        for pos in positions.prefix(maxChanges) {
            body.bind(1, pos)
            guard let encoded = try body.first(db, { $0.blob(0) + $0.blob(1) }) else { throw StoreError.corrupt("changes.pos \(pos)") }
            if !out.isEmpty && bytes + encoded.count > maxBytes { break }
            bytes += encoded.count
            out.append(encoded)
        }
        return (out, UInt64(out.count) < missing)
    }

    /// Every change `vector` lacks, in log order, page by page within the caller's read: each
    /// page is a causal prefix of what is left, so raising the vector by it gives the rest.
    func forEachChange(missingFrom vector: VersionVector, _ db: Database, _ body: ([UInt8]) throws -> Void) throws {
        var remaining = vector
        while true {
            let (page, more) = try encodedChanges(missingFrom: remaining, maxChanges: 10_000, maxBytes: 16 << 20, db)
            for encoded in page {
                let (origin, seq) = try ChangeCodec.peekHeader(encoded)
                remaining.raise(origin, to: seq)
                try body(encoded)
            }
            if !more { return }
        }
    }

    /// Applies encoded changes from a peer in one transaction and returns what happened and the
    /// store's vector afterwards. `source` names the peer in the quarantine.
    public func apply(encoded changes: [[UInt8]], from source: String = "peer") throws -> (report: ApplyReport, vector: VersionVector) {
        // An empty batch (a peer saying "that was all") needs no write transaction.
        guard !changes.isEmpty else { return (ApplyReport(), try vector()) }
        var vector = VersionVector()
        let report = try applyInOneTransaction(source: source) { apply in
            try apply(changes.map { .encoded($0) })
        } after: { db in
            vector = try OriginTable.load(db).vector
        }
        return (report, vector)
    }

    /// The changes `vector` lacks, in log (causal) order: what a peer holding `vector` needs.
    public func changes(missingFrom vector: VersionVector) throws -> [SignedChange] {
        try read { db in
            var out: [SignedChange] = []
            try forEachChange(missingFrom: vector, db) { out.append(try SignedChange(encoded: $0)) }
            return out
        }
    }
}
