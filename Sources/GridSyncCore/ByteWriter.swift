/// Appends the primitive encodings used by the change and bundle formats.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ byte: UInt8) { bytes.append(byte) }

    public mutating func write<C: Collection>(contentsOf other: C) where C.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// Unsigned LEB128, minimal length.
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func writeVarint(_ value: Int) { writeVarint(UInt64(value)) }

    public mutating func writeUInt64BE(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public mutating func writeUInt32BE(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    /// A field value: `0x00` null, `0x01` zigzag varint, `0x02` text.
    public mutating func writeValue(_ value: FieldValue) {
        switch value {
        case .null:
            write(0)
        case .int(let v):
            write(1)
            writeVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
        case .text(let s):
            write(2)
            writeString(s)
        case .sealed(let v):
            // The stored form (record heads, conflict values, tables); a change carries the
            // box in its sealed section instead (``ChangeCodec``).
            write(3)
            writeString(v.scope)
            writeVarint(UInt64(v.epoch))
            write(contentsOf: v.tag)
            if let box = v.box {
                write(1)
                writeVarint(box.count)
                write(contentsOf: box)
            } else {
                write(0)
            }
        }
    }

    /// Varint length followed by the UTF-8 bytes.
    public mutating func writeString(_ s: String) {
        var copy = s
        copy.withUTF8 { utf8 in
            writeVarint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }
}
