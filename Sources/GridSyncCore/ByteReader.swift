/// Reads the primitive encodings of the change and bundle formats from a byte buffer,
/// refusing anything truncated, overlong or non-minimal.
public struct ByteReader {
    private let base: UnsafeRawBufferPointer
    public private(set) var offset: Int
    private let what: Localized

    /// - Parameters:
    ///   - buffer: the bytes; must outlive the reader.
    ///   - what: names the thing being decoded in error messages (变更 / change, 数据包 / bundle).
    public init(_ buffer: UnsafeRawBufferPointer, what: Localized) {
        self.base = buffer
        self.offset = 0
        self.what = what
    }

    public var remaining: Int { base.count - offset }
    public var isAtEnd: Bool { offset == base.count }

    private func truncated() -> GridSyncError {
        GridSyncError(.malformed, Localized("\(what.zh)在第 \(offset) 字节处截断，文件或帧不完整，请重新复制或导出", en: "\(what.en) is truncated at byte \(offset); the file or frame is incomplete — copy or export it again"))
    }

    public mutating func readByte() throws(GridSyncError) -> UInt8 {
        guard offset < base.count else { throw truncated() }
        let b = base[offset]
        offset += 1
        return b
    }

    /// The next byte, without consuming it.
    public func peekByte() throws(GridSyncError) -> UInt8 {
        guard offset < base.count else { throw truncated() }
        return base[offset]
    }

    public mutating func readBytes(_ count: Int) throws(GridSyncError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw truncated() }
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<offset + count])
        offset += count
        return slice
    }

    public mutating func readArray(_ count: Int) throws(GridSyncError) -> [UInt8] {
        Array(try readBytes(count))
    }

    /// Unsigned LEB128; at most 10 bytes, minimal encoding only.
    public mutating func readVarint() throws(GridSyncError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<10 {
            let byte = try readByte()
            if index == 9 && byte > 1 {
                throw GridSyncError(.malformed, Localized("\(what.zh)第 \(offset - 1) 字节处的变长整数超过 64 位", en: "\(what.en) has a varint that overflows 64 bits at byte \(offset - 1)"))
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && index > 0 {
                    throw GridSyncError(.malformed, Localized("\(what.zh)第 \(offset - 1) 字节处的变长整数不是最短编码", en: "\(what.en) has a non-minimal varint at byte \(offset - 1)"))
                }
                return result
            }
            shift += 7
        }
        throw GridSyncError(.malformed, Localized("\(what.zh)第 \(offset) 字节处的变长整数超过 10 字节", en: "\(what.en) has a varint longer than 10 bytes at byte \(offset)"))
    }

    /// A varint that must not exceed `limit`; `name` (what is counted) appears in the error.
    public mutating func readCount(max limit: Int, _ name: @autoclosure () -> Localized) throws(GridSyncError) -> Int {
        let v = try readVarint()
        guard limit >= 0, v <= UInt64(limit) else {
            let name = name()
            throw GridSyncError(.tooLarge, Localized("\(what.zh)声明了 \(v) 个\(name.zh)，超过上限 \(limit)", en: "\(what.en) declares \(v) \(name.en), more than the limit of \(limit)"))
        }
        return Int(v)
    }

    public mutating func readUInt64BE() throws(GridSyncError) -> UInt64 {
        let raw = try readBytes(8)
        var v: UInt64 = 0
        for b in raw { v = v << 8 | UInt64(b) }
        return v
    }

    public mutating func readUInt32BE() throws(GridSyncError) -> UInt32 {
        let raw = try readBytes(4)
        var v: UInt32 = 0
        for b in raw { v = v << 8 | UInt32(b) }
        return v
    }

    /// A name (collection, record ID, field): 1–64 bytes of `[A-Za-z0-9_-]`, checked on the
    /// bytes before a String is made.
    public mutating func readName() throws(GridSyncError) -> String {
        let count = try readCount(max: Limits.maxNameBytes, Localized("名称字节", en: "bytes in a name"))
        let raw = try readBytes(count).assumingMemoryBound(to: UInt8.self)
        guard count > 0, raw.allSatisfy(Names.isNameByte) else {
            throw GridSyncError(.malformed, Localized("\(what.zh)含有无效名称（只允许 1–64 个 A–Z a–z 0–9 _ - 字符）", en: "\(what.en) has an invalid name (allowed: 1–64 of A–Z a–z 0–9 _ -)"))
        }
        return String(decoding: raw, as: UTF8.self)
    }

    /// A field value: `0x00` null, `0x01` zigzag varint, `0x02` text (≤ 64 KiB, valid UTF-8).
    public mutating func readValue() throws(GridSyncError) -> FieldValue {
        switch try readByte() {
        case 0: return .null
        case 1:
            let z = try readVarint()
            return .int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        case 2: return .text(try readString(maxBytes: Limits.maxTextValueBytes, Localized("文本值", en: "text value")))
        case 3:
            let (scope, epoch, tag) = try readSealedClearPart()
            let box: [UInt8]?
            switch try readByte() {
            case 0: box = nil
            case 1: box = try readBox()
            default: throw GridSyncError(.malformed, Localized("\(what.zh)中有一个密封值的密文标记无效", en: "\(what.en) has a sealed value with an invalid box marker"))
            }
            return .sealed(SealedValue(scope: scope, epoch: epoch, tag: tag, box: box))
        case let tag: throw GridSyncError(.malformed, Localized("\(what.zh)含有未知的值类型标记 \(tag)", en: "\(what.en) has unknown value tag \(tag)"))
        }
    }

    /// The clear part of a stored sealed value: scope ID, epoch, value tag.
    mutating func readSealedClearPart() throws(GridSyncError) -> (String, UInt32, [UInt8]) {
        let scope = try readName()
        return (scope, try readEpoch(), try readArray(SealedValue.tagBytes))
    }

    /// A key epoch: at most 2^32 − 1 (epoch 0, which no key has, is the write policy's to refuse).
    public mutating func readEpoch() throws(GridSyncError) -> UInt32 {
        let e = try readVarint()
        guard e <= UInt64(UInt32.max) else { throw GridSyncError(.malformed, Localized("\(what.zh)中有一个密封值的密钥纪元为 \(e)，纪元须小于 2^32", en: "\(what.en) has a sealed value with key epoch \(e); epochs are below 2^32")) }
        return UInt32(e)
    }

    /// A box (synthetic IV ‖ ciphertext): a length of at least 13 and at most
    /// ``Limits/maxSealedBoxBytes``.
    public mutating func readBox() throws(GridSyncError) -> [UInt8] {
        let n = try readCount(max: min(Limits.maxSealedBoxBytes, remaining), Localized("密文字节", en: "bytes in a sealed box"))
        guard n >= SealedValue.minBoxBytes else {
            throw GridSyncError(.malformed, Localized("\(what.zh)中有一个 \(n) 字节的密文，短于合成 IV 加一个字节", en: "\(what.en) has a sealed box of \(n) bytes, shorter than a synthetic IV and one byte"))
        }
        return try readArray(n)
    }

    /// An index into a table of `count` entries.
    public mutating func readIndex(below count: Int, _ table: @autoclosure () -> Localized) throws(GridSyncError) -> Int {
        let v = try readVarint()
        guard v < UInt64(count) else {
            let table = table()
            throw GridSyncError(.malformed, Localized("\(what.zh)引用了\(table.zh)表的第 \(v) 项，而该表只有 \(count) 项", en: "\(what.en) refers to entry \(v) of its \(table.en) table, which has \(count) entries"))
        }
        return Int(v)
    }

    /// A varint length (≤ `maxBytes`) and that many bytes of valid UTF-8.
    public mutating func readString(maxBytes: Int, _ name: @autoclosure () -> Localized) throws(GridSyncError) -> String {
        let count = try readCount(max: maxBytes, Localized("\(name().zh)字节", en: "bytes in a \(name().en)"))
        let raw = try readBytes(count)
        guard let s = String(validating: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            let name = name()
            throw GridSyncError(.malformed, Localized("\(what.zh)中的\(name.zh)不是有效的 UTF-8", en: "\(what.en) has a \(name.en) that is not valid UTF-8"))
        }
        return s
    }
}
