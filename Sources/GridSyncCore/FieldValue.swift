/// The value of one field: null, a 64-bit integer or UTF-8 text.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case int(Int64)
    case text(String)

    public var description: String {
        switch self {
        case .null: "null"
        case .int(let v): String(v)
        case .text(let s): s
        }
    }

    /// The text, or nil for other kinds.
    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    /// The integer, or nil for other kinds.
    public var int: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    var tag: UInt8 {
        switch self {
        case .null: 0
        case .int: 1
        case .text: 2
        }
    }

    /// A total order used only to break ties deterministically.
    static func tieBreak(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): x < y
        case (.text(let x), .text(let y)): Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        default: a.tag < b.tag
        }
    }
}
