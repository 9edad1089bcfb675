import GridSyncCore

/// Encodes and decodes message payloads (the bytes after the frame's type byte).
public enum MessageCodec {
    /// CHANGES lists shorter than this are sent as they are: DEFLATE gains little on them.
    public static let deflateThreshold = 512

    /// The frame payload for a message: type byte, then the message. A CHANGES list of at
    /// least ``deflateThreshold`` bytes is DEFLATE-compressed when that makes it smaller,
    /// unless `compress` is false.
    public static func encode(_ message: Message, compress: Bool = true) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.write(message.kind.rawValue)
        switch message {
        case .hello(let h):
            w.writeUInt32BE(Message.Hello.magic)
            w.write(UInt8(h.version >> 8))
            w.write(UInt8(h.version & 0xff))
            w.write(contentsOf: h.node.bytes)
            w.write(contentsOf: h.community)
            w.write(h.role.rawValue)
            w.writeString(h.name)
        case .vector(let v):
            writeVector(v, &w)
        case .changes(let b):
            w.writeVarint(b.id)
            var list = ByteWriter(capacity: b.changes.reduce(8) { $0 + $1.count + 3 })
            list.writeVarint(b.changes.count)
            for c in b.changes {
                list.writeVarint(c.count)
                list.write(contentsOf: c)
            }
            let flags: UInt8 = b.caughtUp ? Message.Batch.caughtUpFlag : 0
            if compress, list.bytes.count >= deflateThreshold {
                let packed = Deflate.compress(list.bytes)
                if packed.count + 4 < list.bytes.count {
                    w.write(flags | Message.Batch.deflatedFlag)
                    w.writeVarint(list.bytes.count)
                    w.write(contentsOf: packed)
                    break
                }
            }
            w.write(flags)
            w.write(contentsOf: list.bytes)
        case .ack(let batch, let v):
            w.writeVarint(batch)
            writeVector(v, &w)
        case .ping(let n), .pong(let n):
            w.writeUInt64BE(n)
        case .error(let e):
            w.write(UInt8(e.code.rawValue >> 8))
            w.write(UInt8(e.code.rawValue & 0xff))
            var text = e.message
            if text.utf8.count > WireLimits.maxErrorMessageBytes {
                text = String(decoding: text.utf8.prefix(WireLimits.maxErrorMessageBytes - 3), as: UTF8.self)
            }
            w.writeString(text)
        case .refused(let batch, let changes):
            w.writeVarint(batch)
            w.writeVarint(changes.count)
            for c in changes {
                w.write(contentsOf: c.origin.bytes)
                w.writeVarint(c.seq)
                w.write(UInt8(c.code.rawValue >> 8))
                w.write(UInt8(c.code.rawValue & 0xff))
            }
        }
        return w.bytes
    }

    static func writeVector(_ v: VersionVector, _ w: inout ByteWriter) {
        let entries = v.entries.sorted { $0.key < $1.key }
        w.writeVarint(entries.count)
        for (node, seq) in entries {
            w.write(contentsOf: node.bytes)
            w.writeVarint(seq)
        }
    }

    /// Decodes a frame payload. Every count is checked against its limit and the bytes left.
    public static func decode(_ payload: [UInt8]) throws(WireError) -> Message {
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(GridSyncError) -> Message in try decode(raw) }
        }
        switch result {
        case .success(let m): return m
        case .failure(let e):
            throw WireError(e.code == .tooLarge ? .frameTooLarge : .protocolViolation, e.message)
        }
    }

    static func decode(_ raw: UnsafeRawBufferPointer) throws(GridSyncError) -> Message {
        var r = ByteReader(raw, what: Localized("消息", en: "message"))
        let type = try r.readByte()
        guard let kind = Message.Kind(rawValue: type) else {
            throw GridSyncError(.malformed, Localized("未知的消息类型 \(type)", en: "unknown message type \(type)"))
        }
        let message: Message
        switch kind {
        case .hello:
            guard try r.readUInt32BE() == Message.Hello.magic else {
                throw GridSyncError(.malformed, Localized("HELLO 的标识不对，对方不是 GridSync 节点", en: "HELLO has the wrong magic; the peer is not a GridSync node"))
            }
            let hi = try r.readByte()
            let lo = try r.readByte()
            let node = NodeID(bytes: try r.readBytes(32))!
            let community = try r.readArray(32)
            guard let role = WireRole(rawValue: try r.readByte()) else {
                throw GridSyncError(.malformed, Localized("HELLO 中的角色未知", en: "HELLO has an unknown role"))
            }
            let name = try r.readString(maxBytes: WireLimits.maxNameBytes, Localized("节点名称", en: "node name"))
            message = .hello(Message.Hello(version: UInt16(hi) << 8 | UInt16(lo), node: node, community: community, role: role, name: name))
        case .vector:
            message = .vector(try readVector(&r))
        case .changes:
            let id = try r.readVarint()
            let flags = try r.readByte()
            let known = Message.Batch.caughtUpFlag | Message.Batch.deflatedFlag
            guard flags & ~known == 0 else { throw GridSyncError(.malformed, Localized("CHANGES 有未知的标志 \(flags)", en: "CHANGES has unknown flags \(flags)")) }
            let changes: [[UInt8]]
            if flags & Message.Batch.deflatedFlag != 0 {
                let size = try r.readCount(max: WireLimits.maxInflatedBatchBytes, Localized("压缩批次解压后的字节", en: "inflated bytes of a compressed batch"))
                let inflated = try Deflate.inflate(r.readBytes(r.remaining), size: size)
                changes = try inflated.withUnsafeBytes { raw in
                    Result { () throws(GridSyncError) -> [[UInt8]] in
                        var inner = ByteReader(raw, what: Localized("压缩批次", en: "compressed batch"))
                        let list = try readChangeList(&inner)
                        guard inner.isAtEnd else {
                            throw GridSyncError(.malformed, Localized("压缩批次在最后一个变更之后还有 \(inner.remaining) 字节", en: "compressed batch has \(inner.remaining) bytes after its last change"))
                        }
                        return list
                    }
                }.get()
            } else {
                changes = try readChangeList(&r)
            }
            message = .changes(Message.Batch(id: id, caughtUp: flags & Message.Batch.caughtUpFlag != 0, changes: changes))
        case .ack:
            let batch = try r.readVarint()
            message = .ack(batch: batch, vector: try readVector(&r))
        case .ping:
            message = .ping(try r.readUInt64BE())
        case .pong:
            message = .pong(try r.readUInt64BE())
        case .error:
            let hi = try r.readByte()
            let lo = try r.readByte()
            let text = try r.readString(maxBytes: WireLimits.maxErrorMessageBytes, Localized("错误消息", en: "error message"))
            let code = WireErrorCode(rawValue: UInt16(hi) << 8 | UInt16(lo)) ?? .protocolViolation
            message = .error(WireError(code, text))
        case .refused:
            let batch = try r.readVarint()
            // Each entry takes at least 35 bytes: the count is checked against what is left.
            let n = try r.readCount(max: min(WireLimits.maxChangesPerBatch, r.remaining / 35), Localized("被拒绝的变更", en: "refused changes"))
            var changes: [Message.Refusal] = []
            changes.reserveCapacity(n)
            for _ in 0..<n {
                let origin = NodeID(bytes: try r.readBytes(32))!
                let seq = try r.readVarint()
                let hi = try r.readByte()
                let lo = try r.readByte()
                changes.append(Message.Refusal(origin: origin, seq: seq, code: WireErrorCode(rawValue: UInt16(hi) << 8 | UInt16(lo)) ?? .protocolViolation))
            }
            message = .refused(batch: batch, changes: changes)
        }
        guard r.isAtEnd else {
            throw GridSyncError(.malformed, Localized("\(kind) 消息末尾有 \(r.remaining) 个多余字节", en: "\(kind) message has \(r.remaining) unexpected trailing bytes"))
        }
        return message
    }

    /// `varint n`, then `n × (varint length, change)`.
    static func readChangeList(_ r: inout ByteReader) throws(GridSyncError) -> [[UInt8]] {
        let n = try r.readCount(max: min(WireLimits.maxChangesPerBatch, r.remaining), Localized("变更", en: "changes"))
        var changes: [[UInt8]] = []
        changes.reserveCapacity(n)
        for _ in 0..<n {
            let len = try r.readCount(max: min(WireLimits.maxChangeBytes, r.remaining), Localized("变更字节", en: "bytes in a change"))
            changes.append(try r.readArray(len))
        }
        return changes
    }

    static func readVector(_ r: inout ByteReader) throws(GridSyncError) -> VersionVector {
        let n = try r.readCount(max: min(WireLimits.maxVectorEntries, r.remaining / 33), Localized("版本向量条目", en: "vector entries"))
        var entries: [NodeID: UInt64] = [:]
        entries.reserveCapacity(n)
        for _ in 0..<n {
            let node = NodeID(bytes: try r.readBytes(32))!
            let seq = try r.readVarint()
            guard entries.updateValue(seq, forKey: node) == nil else {
                throw GridSyncError(.malformed, Localized("版本向量两次列出节点 \(node.short)", en: "vector names node \(node.short) twice"))
            }
        }
        return VersionVector(entries)
    }
}
