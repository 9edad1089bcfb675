import GridSyncCore

/// Encodes and decodes message payloads (the bytes after the frame's type byte).
public enum MessageCodec {
    /// The frame payload for a message: type byte, then the message.
    public static func encode(_ message: Message) -> [UInt8] {
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
            w.write(b.caughtUp ? 1 : 0)
            w.writeVarint(b.changes.count)
            for c in b.changes {
                w.writeVarint(c.count)
                w.write(contentsOf: c)
            }
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
        var r = ByteReader(raw, what: "message")
        let type = try r.readByte()
        guard let kind = Message.Kind(rawValue: type) else {
            throw GridSyncError(.malformed, "unknown message type \(type)")
        }
        let message: Message
        switch kind {
        case .hello:
            guard try r.readUInt32BE() == Message.Hello.magic else {
                throw GridSyncError(.malformed, "HELLO has the wrong magic; the peer is not a GridSync node")
            }
            let hi = try r.readByte()
            let lo = try r.readByte()
            let node = NodeID(bytes: try r.readBytes(32))!
            let community = try r.readArray(32)
            guard let role = WireRole(rawValue: try r.readByte()) else {
                throw GridSyncError(.malformed, "HELLO has an unknown role")
            }
            let name = try r.readString(maxBytes: WireLimits.maxNameBytes, "node name")
            message = .hello(Message.Hello(version: UInt16(hi) << 8 | UInt16(lo), node: node, community: community, role: role, name: name))
        case .vector:
            message = .vector(try readVector(&r))
        case .changes:
            let id = try r.readVarint()
            let flags = try r.readByte()
            guard flags <= 1 else { throw GridSyncError(.malformed, "CHANGES has unknown flags \(flags)") }
            let n = try r.readCount(max: min(WireLimits.maxChangesPerBatch, r.remaining), "changes")
            var changes: [[UInt8]] = []
            changes.reserveCapacity(n)
            for _ in 0..<n {
                let len = try r.readCount(max: min(WireLimits.maxChangeBytes, r.remaining), "bytes in a change")
                changes.append(try r.readArray(len))
            }
            message = .changes(Message.Batch(id: id, caughtUp: flags & 1 == 1, changes: changes))
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
            let text = try r.readString(maxBytes: WireLimits.maxErrorMessageBytes, "error message")
            let code = WireErrorCode(rawValue: UInt16(hi) << 8 | UInt16(lo)) ?? .protocolViolation
            message = .error(WireError(code, text))
        }
        guard r.isAtEnd else {
            throw GridSyncError(.malformed, "\(kind) message has \(r.remaining) unexpected trailing bytes")
        }
        return message
    }

    static func readVector(_ r: inout ByteReader) throws(GridSyncError) -> VersionVector {
        let n = try r.readCount(max: min(WireLimits.maxVectorEntries, r.remaining / 33), "vector entries")
        var entries: [NodeID: UInt64] = [:]
        entries.reserveCapacity(n)
        for _ in 0..<n {
            let node = NodeID(bytes: try r.readBytes(32))!
            let seq = try r.readVarint()
            guard entries.updateValue(seq, forKey: node) == nil else {
                throw GridSyncError(.malformed, "vector names node \(node.short) twice")
            }
        }
        return VersionVector(entries)
    }
}
