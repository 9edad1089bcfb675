/// The value of one field: null, a 64-bit integer, UTF-8 text, or a personal value sealed
/// under a scope key (``SealedValue``).
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case int(Int64)
    case text(String)
    case sealed(SealedValue)

    public var description: String {
        switch self {
        case .null: "null"
        case .int(let v): String(v)
        case .text(let s): s
        case .sealed(let v): v.description
        }
    }

    /// The sealed value, or nil for other kinds.
    public var sealed: SealedValue? {
        if case .sealed(let v) = self { return v }
        return nil
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
        case .sealed: 3
        }
    }

    /// A total order used only to break ties deterministically.
    static func tieBreak(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): x < y
        case (.text(let x), .text(let y)): Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.sealed(let x), .sealed(let y)): x.tag.lexicographicallyPrecedes(y.tag)
        default: a.tag < b.tag
        }
    }
}
