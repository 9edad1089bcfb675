import GridSyncCore

/// The current heads of every field of one record, as stored in `record_state.heads`.
///
/// One blob per record keeps applying a change to one row write instead of one per field.
/// Origins are local `origins.idx` values, so the blob is meaningful only in its own store.
///
/// ```
/// varint nFields | ( varint len | field utf8 | varint nHeads | head* )*
/// head = varint origin | varint seq | u64be hlc | value (as in a change)
/// ```
struct RecordHeads {
    struct Entry: Hashable {
        var origin: Int64
        var seq: Int64
        var hlc: UInt64
        var value: FieldValue
    }

    /// (field, heads) pairs sorted by field name. A record has a few dozen fields at most, so
    /// a scan beats hashing the names.
    private(set) var fields: [(name: String, heads: [Entry])] = []

    init() {}

    /// The heads of a field; empty if it was never written.
    subscript(field: String) -> [Entry] {
        get {
            for f in fields where f.name == field { return f.heads }
            return []
        }
        set {
            var i = 0
            while i < fields.count && fields[i].name < field { i += 1 }
            if i < fields.count && fields[i].name == field {
                fields[i].heads = newValue
            } else {
                fields.insert((field, newValue), at: i)
            }
        }
    }

    init(decoding bytes: [UInt8]) throws(GridSyncError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(GridSyncError) -> [(name: String, heads: [Entry])] in
                var r = ByteReader(raw, what: Localized("存储的记录状态", en: "stored record state"))
                var fields: [(name: String, heads: [Entry])] = []
                let n = try r.readCount(max: raw.count, Localized("字段", en: "fields"))
                fields.reserveCapacity(n)
                for _ in 0..<n {
                    let name = try r.readName()
                    let count = try r.readCount(max: raw.count, Localized("头", en: "heads"))
                    var heads: [Entry] = []
                    heads.reserveCapacity(count)
                    for _ in 0..<count {
                        let origin = Int64(try r.readVarint())
                        let seq = Int64(try r.readVarint())
                        let hlc = try r.readUInt64BE()
                        heads.append(Entry(origin: origin, seq: seq, hlc: hlc, value: try r.readValue()))
                    }
                    fields.append((name, heads))
                }
                return fields
            }
        }
        fields = try result.get()
    }

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 * fields.count)
        w.writeVarint(fields.count)
        for (name, heads) in fields {
            w.writeString(name)
            w.writeVarint(heads.count)
            for h in heads {
                w.writeVarint(UInt64(h.origin))
                w.writeVarint(UInt64(h.seq))
                w.writeUInt64BE(h.hlc)
                w.writeValue(h.value)
            }
        }
        return w.bytes
    }

    /// Drops the box of every sealed value (an erasure).
    mutating func redactAll() {
        for i in fields.indices {
            for j in fields[i].heads.indices {
                if case .sealed(let v) = fields[i].heads[j].value { fields[i].heads[j].value = .sealed(v.redacted) }
            }
        }
    }

    /// Several heads holding different values.
    static func isConflict(_ heads: [Entry]) -> Bool {
        FieldMerge.isConflict(values: heads.lazy.map(\.value))
    }
}
