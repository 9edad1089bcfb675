import Crypto

/// The binary encoding of a change body (format version 3). `Protocol/SPEC.md` §2.1 gives the
/// layout; every count and length is checked against ``Limits`` before anything is allocated.
///
/// ```
/// u8 version (3) | varint sealedBytes | sealed section | core
/// sealed section = entry*                         one per sealed value, in op order
/// entry = varint len (≥ 13) | box                 the value's box
///       | 0x00 | commitment[16]                   an erased value: the box dropped, its commitment kept
/// core = origin[32] | varint seq | u64be hlc | prevHash[32]
///        varint nStrings | (varint len | utf8)*   strings: collections, record IDs, field names, scope IDs
///        varint nOrigins | origin[32]*            origins named by preds
///        varint nOps | op*
/// op = varint collection | varint record | varint field | value | varint nPred | (varint origin | varint seq)*
/// value = 0x00 | 0x01 zigzag-varint | 0x02 varint len utf8 | 0x03 varint scope | varint epoch
/// ```
///
/// The signature covers `version ‖ core ‖ commitment₁ ‖ … ‖ commitmentₙ` (``signedDigest(of:)``),
/// each commitment computed from its box or carried in place of a dropped one: an erased
/// record's boxes can be dropped (``redact(_:where:)``) and the change still verifies, while a
/// box altered anywhere fails the signature. A commitment never travels beside its box.
public enum ChangeCodec {
    public static let formatVersion: UInt8 = 3

    /// Encodes a change body. Strings and origins are interned in first-use order, so the same
    /// change always encodes to the same bytes.
    public static func encode(_ change: Change) -> [UInt8] {
        var strings: [String] = []
        var stringIndex: [String: Int] = [:]
        var origins: [NodeID] = []
        var originIndex: [NodeID: Int] = [:]
        func intern(_ s: String) -> Int {
            if let i = stringIndex[s] { return i }
            stringIndex[s] = strings.count
            strings.append(s)
            return strings.count - 1
        }
        func intern(_ n: NodeID) -> Int {
            if let i = originIndex[n] { return i }
            originIndex[n] = origins.count
            origins.append(n)
            return origins.count - 1
        }
        var opIndices: [(Int, Int, Int, [(Int, UInt64)], Int)] = []
        opIndices.reserveCapacity(change.ops.count)
        var section = ByteWriter(capacity: 0)
        for op in change.ops {
            let c = intern(op.collection)
            let r = intern(op.record)
            let f = intern(op.field)
            var scope = -1
            if case .sealed(let v) = op.value {
                scope = intern(v.scope)
                writeEntry(v, &section)
            }
            let preds = op.pred.map { (intern($0.origin), $0.seq) }
            opIndices.append((c, r, f, preds, scope))
        }
        var w = ByteWriter(capacity: 128 + change.ops.count * 48 + section.bytes.count)
        w.write(formatVersion)
        w.writeVarint(section.bytes.count)
        w.write(contentsOf: section.bytes)
        w.write(contentsOf: change.origin.bytes)
        w.writeVarint(change.seq)
        w.writeUInt64BE(change.hlc.raw)
        w.write(contentsOf: change.prevHash)
        w.writeVarint(strings.count)
        for s in strings { w.writeString(s) }
        w.writeVarint(origins.count)
        for o in origins { w.write(contentsOf: o.bytes) }
        w.writeVarint(change.ops.count)
        for (i, op) in change.ops.enumerated() {
            let (c, r, f, preds, scope) = opIndices[i]
            w.writeVarint(c)
            w.writeVarint(r)
            w.writeVarint(f)
            if case .sealed(let v) = op.value {
                w.write(3)
                w.writeVarint(scope)
                w.writeVarint(UInt64(v.epoch))
            } else {
                w.writeValue(op.value)
            }
            w.writeVarint(preds.count)
            for (o, s) in preds {
                w.writeVarint(o)
                w.writeVarint(s)
            }
        }
        return w.bytes
    }

    /// A sealed-section entry: the box, or a dropped box's commitment.
    static func writeEntry(_ v: SealedValue, _ section: inout ByteWriter) {
        if let box = v.box {
            section.writeVarint(box.count)
            section.write(contentsOf: box)
        } else {
            section.write(0)
            section.write(contentsOf: v.tag)
        }
    }

    /// Reads a sealed-section entry: a box with the commitment computed from it, or a dropped
    /// box's commitment.
    static func readEntry(_ s: inout ByteReader) throws(GridSyncError) -> (box: [UInt8]?, tag: [UInt8]) {
        if try s.peekByte() == 0 {
            _ = try s.readByte()
            return (nil, try s.readArray(SealedValue.tagBytes))
        }
        let box = try s.readBox()
        return (box, SealedValue.commitment(box))
    }

    /// Decodes and validates a change body. Throws ``GridSyncError`` with code `.malformed` or
    /// `.tooLarge` for anything that does not follow the format exactly.
    public static func decode(_ body: [UInt8]) throws(GridSyncError) -> Change {
        try decodeWithDigest(body).change
    }

    /// Decodes a body and computes its signed digest from the same pass (each box's commitment
    /// is computed once, for both).
    static func decodeWithDigest(_ body: [UInt8]) throws(GridSyncError) -> (change: Change, digest: [UInt8]) {
        guard body.count <= Limits.maxChangeBytes else {
            throw GridSyncError(.tooLarge, Localized("变更有 \(body.count) 字节，超过上限 \(Limits.maxChangeBytes)", en: "change is \(body.count) bytes, more than the limit of \(Limits.maxChangeBytes)"))
        }
        let result = body.withUnsafeBytes { raw in
            Result { () throws(GridSyncError) -> (change: Change, digest: [UInt8]) in
                let (change, coreStart) = try decode(raw)
                var h = SHA256()
                h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<1]))
                h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[coreStart...]))
                for op in change.ops {
                    if case .sealed(let v) = op.value { v.tag.withUnsafeBytes { h.update(bufferPointer: $0) } }
                }
                return (change, Array(h.finalize()))
            }
        }
        return try result.get()
    }

    /// The version byte checked, the sealed section's bytes and where the core starts: what
    /// every reader of a body (decode, digest, header peek) finds first.
    static func layout(_ raw: UnsafeRawBufferPointer) throws(GridSyncError) -> (section: UnsafeRawBufferPointer, coreStart: Int) {
        var r = ByteReader(raw, what: Localized("变更", en: "change"))
        let version = try r.readByte()
        guard version == formatVersion else {
            throw GridSyncError(.malformed, Localized("变更的格式版本为 \(version)，本程序只能读取版本 \(formatVersion)，请升级 gridsync", en: "change has format version \(version); this gridsync reads version \(formatVersion) — upgrade gridsync"))
        }
        let declared = try r.readVarint()
        guard declared <= UInt64(r.remaining) else {
            throw GridSyncError(.malformed, Localized("变更声明了 \(declared) 字节的密封值，但其后只有 \(r.remaining) 字节", en: "change declares \(declared) bytes of sealed values but only \(r.remaining) follow"))
        }
        let start = r.offset, end = r.offset + Int(declared)
        return (UnsafeRawBufferPointer(rebasing: raw[start..<end]), end)
    }

    /// Reads every entry of a sealed section, in order (at most one per op allowed).
    static func forEachEntry(_ section: UnsafeRawBufferPointer, _ body: (_ box: [UInt8]?, _ tag: [UInt8]) -> Void) throws(GridSyncError) {
        var s = ByteReader(section, what: Localized("变更", en: "change"))
        var entries = 0
        while !s.isAtEnd {
            guard entries < Limits.maxOpsPerChange else { throw GridSyncError(.tooLarge, Localized("变更中的密封值多于允许的操作数", en: "change has more sealed values than ops allowed")) }
            let (box, tag) = try readEntry(&s)
            body(box, tag)
            entries += 1
        }
    }

    /// Decodes a body; returns the change and where its core starts.
    static func decode(_ raw: UnsafeRawBufferPointer) throws(GridSyncError) -> (Change, Int) {
        // The sealed section: boxes in op order, matched to the sealed values below.
        let (section, coreStart) = try layout(raw)
        var boxes: [(box: [UInt8]?, tag: [UInt8])] = []
        try forEachEntry(section) { boxes.append(($0, $1)) }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[coreStart...]), what: Localized("变更", en: "change"))
        var nextBox = 0
        guard let origin = NodeID(bytes: try r.readBytes(32)) else { throw GridSyncError(.malformed, Localized("变更的来源节点无效", en: "change origin is not a valid node key")) }
        let seq = try r.readVarint()
        guard seq >= 1 else { throw GridSyncError(.malformed, Localized("变更的序号为 0，序号从 1 开始", en: "change has seq 0; sequence numbers start at 1")) }
        let hlc = HLC(raw: try r.readUInt64BE())
        let prevHash = try r.readArray(32)
        if seq == 1 && prevHash != Change.zeroHash {
            throw GridSyncError(.malformed, Localized("序号为 1 的变更，其前一哈希必须全为零", en: "change seq 1 must have an all-zero previous hash"))
        }
        // Each table entry takes at least one byte, so a count above `remaining` is a lie.
        let nStrings = try r.readCount(max: min(Limits.maxStringsPerChange, r.remaining), Localized("字符串", en: "strings"))
        var strings: [String] = []
        strings.reserveCapacity(nStrings)
        for _ in 0..<nStrings {
            strings.append(try r.readName())
        }
        // Names are interned: a repeated entry would let one field hide behind two indices.
        let sortedStrings = strings.sorted()
        for i in sortedStrings.indices.dropFirst() where sortedStrings[i] == sortedStrings[i - 1] {
            throw GridSyncError(.malformed, Localized("变更的字符串表中有重复名称", en: "change repeats a name in its string table"))
        }
        let nOrigins = try r.readCount(max: min(Limits.maxOriginsPerChange, r.remaining / 32), Localized("来源节点", en: "origins"))
        var origins: [NodeID] = []
        origins.reserveCapacity(nOrigins)
        for _ in 0..<nOrigins {
            origins.append(NodeID(bytes: try r.readBytes(32))!)
        }
        let nOps = try r.readCount(max: min(Limits.maxOpsPerChange, r.remaining / 5), Localized("操作", en: "ops"))
        guard nOps >= 1 else { throw GridSyncError(.malformed, Localized("变更中没有任何操作，不允许空变更", en: "change has no ops; an empty change is not allowed")) }
        var ops: [Op] = []
        ops.reserveCapacity(nOps)
        // (record index, field index) of every op, to refuse a field set twice in one change.
        var keys: [UInt64] = []
        keys.reserveCapacity(nOps)
        for _ in 0..<nOps {
            let c = try r.readIndex(below: nStrings, Localized("字符串", en: "string"))
            let rec = try r.readIndex(below: nStrings, Localized("字符串", en: "string"))
            let f = try r.readIndex(below: nStrings, Localized("字符串", en: "string"))
            let value: FieldValue
            if try r.peekByte() == 3 {
                _ = try r.readByte()
                let scope = strings[try r.readIndex(below: nStrings, Localized("字符串", en: "string"))]
                // A scope or epoch no key can have is the write policy's to refuse (void), not
                // the decoder's: a malformed change would stop every relay's whole batch.
                let epoch = try r.readEpoch()
                guard nextBox < boxes.count else { throw GridSyncError(.malformed, Localized("变更中的密封值多于其密封段所含", en: "change has more sealed values than its sealed section holds")) }
                value = .sealed(SealedValue(scope: scope, epoch: epoch, tag: boxes[nextBox].tag, box: boxes[nextBox].box))
                nextBox += 1
            } else {
                value = try r.readValue()
            }
            let nPred = try r.readCount(max: min(Limits.maxPredPerOp, r.remaining / 2), Localized("前驱", en: "preds"))
            var pred: [OpRef] = []
            pred.reserveCapacity(nPred)
            for _ in 0..<nPred {
                let o = try r.readIndex(below: nOrigins, Localized("来源节点", en: "origin"))
                let s = try r.readVarint()
                guard s >= 1 else { throw GridSyncError(.malformed, Localized("变更中有一个前驱的序号为 0", en: "change has a pred with seq 0")) }
                if origins[o] == origin && s >= seq {
                    throw GridSyncError(.malformed, Localized("变更 \(seq) 把其来源节点自己的或更晚的变更列为前驱", en: "change \(seq) names its own or a later change of its origin as a predecessor"))
                }
                pred.append(OpRef(origin: origins[o], seq: s))
            }
            keys.append(UInt64(rec) << 32 | UInt64(f))
            ops.append(Op(collection: strings[c], record: strings[rec], field: strings[f], value: value, pred: pred))
        }
        keys.sort()
        for i in keys.indices.dropFirst() where keys[i] == keys[i - 1] {
            let op = ops.first { UInt64(strings.firstIndex(of: $0.record)!) << 32 | UInt64(strings.firstIndex(of: $0.field)!) == keys[i] }!
            throw GridSyncError(.malformed, Localized("变更 \(seq) 两次设置记录 \(op.record) 的字段「\(op.field)」", en: "change \(seq) sets field '\(op.field)' of record \(op.record) twice"))
        }
        guard r.isAtEnd else {
            throw GridSyncError(.malformed, Localized("变更最后一个操作之后还有 \(r.remaining) 个多余字节", en: "change has \(r.remaining) unexpected bytes after its last op"))
        }
        guard nextBox == boxes.count else {
            throw GridSyncError(.malformed, Localized("变更的密封段有 \(boxes.count) 个密文，而密封值有 \(nextBox) 个", en: "change's sealed section holds \(boxes.count) boxes for \(nextBox) sealed values"))
        }
        return (Change(origin: origin, seq: seq, hlc: hlc, prevHash: prevHash, ops: ops), coreStart)
    }
}

/// Rules for collection names, record IDs and field names.
public enum Names {
    /// 1–64 ASCII letters, digits, `_` or `-`.
    public static func isValid(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= Limits.maxNameBytes else { return false }
        return u.allSatisfy(isNameByte)
    }

    @inline(__always)
    public static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }
}

extension ChangeCodec {
    /// Reads only the origin and seq of a change body, for the duplicate fast path: a change
    /// the receiver already holds needs no full decode, only a hash comparison.
    public static func peekHeader(_ body: [UInt8]) throws(GridSyncError) -> (origin: NodeID, seq: UInt64) {
        let result = body.withUnsafeBytes { raw in
            return Result { () throws(GridSyncError) -> (NodeID, UInt64) in
                var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[try layout(raw).coreStart...]), what: Localized("变更", en: "change"))
                guard let origin = NodeID(bytes: try r.readBytes(32)) else {
                    throw GridSyncError(.malformed, Localized("变更的来源节点无效", en: "change origin is not a valid node key"))
                }
                return (origin, try r.readVarint())
            }
        }
        return try result.get()
    }
}

extension ChangeCodec {
    /// Where the core (the signed part after the version byte) starts in a body.
    static func coreStart(_ raw: UnsafeRawBufferPointer) throws(GridSyncError) -> Int {
        try layout(raw).coreStart
    }

    /// Where the signed core starts in an encoded body: after the version byte, the sealed
    /// section's length and the section (what tools altering a signed field must skip).
    public static func coreOffset(_ body: [UInt8]) throws(GridSyncError) -> Int {
        try body.withUnsafeBytes { raw in Result { () throws(GridSyncError) -> Int in try coreStart(raw) } }.get()
    }

    /// SHA-256(version ‖ core ‖ commitment₁ ‖ … ‖ commitmentₙ): what the origin signs. A
    /// dropped box leaves its commitment, so a body whose boxes were dropped has the same digest.
    public static func signedDigest(of body: [UInt8]) throws(GridSyncError) -> [UInt8] {
        try body.withUnsafeBytes { raw in Result { () throws(GridSyncError) -> [UInt8] in try signedDigest(raw) } }.get()
    }

    /// The same over bytes in place (a duplicate's body inside `body ‖ signature`, uncopied),
    /// reading the sealed section's entries but not the ops.
    static func signedDigest(_ raw: UnsafeRawBufferPointer) throws(GridSyncError) -> [UInt8] {
        let (section, start) = try layout(raw)
        var h = SHA256()
        h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<1]))
        h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[start...]))
        try forEachEntry(section) { _, tag in tag.withUnsafeBytes { h.update(bufferPointer: $0) } }
        return Array(h.finalize())
    }

    /// The body with the boxes of the ops `drop` picks replaced by their commitments (an
    /// erasure): the sealed section is rewritten, the core kept byte for byte, so the
    /// signature still verifies. Returns nil when no box is dropped.
    public static func redact(_ body: [UInt8], where drop: (Op) -> Bool) throws(GridSyncError) -> [UInt8]? {
        let change = try decode(body)
        var section = ByteWriter(capacity: 0)
        var dropped = false
        for op in change.ops {
            guard case .sealed(let v) = op.value else { continue }
            if v.box != nil, drop(op) {
                dropped = true
                writeEntry(v.redacted, &section)
            } else {
                writeEntry(v, &section)
            }
        }
        guard dropped else { return nil }
        let start = try coreOffset(body)
        var w = ByteWriter(capacity: body.count)
        w.write(formatVersion)
        w.writeVarint(section.bytes.count)
        w.write(contentsOf: section.bytes)
        w.write(contentsOf: body[start...])
        return w.bytes
    }
}
