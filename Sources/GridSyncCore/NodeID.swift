import Crypto

/// A node's identity: its Ed25519 public key (32 bytes).
///
/// The text form, as users see and type it, is the key in RFC 4648 base32 (52 characters),
/// cut into four 13-character chunks each followed by a Luhn mod 32 check character, and grouped
/// by 7 with dashes: `XXXXXXX-XXXXXXX-…` (8 groups, 56 characters). A mistyped character is
/// caught by the check characters. ``short`` is the first group, for tables.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw Ed25519 public key.
    public let bytes: [UInt8]

    public static let byteCount = 32

    /// Wraps a raw public key. Returns nil unless it is exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses the text form, ignoring case, dashes and spaces.
    public init(text: String) throws(GridSyncError) {
        let cleaned = text.uppercased().filter { $0 != "-" && $0 != " " }
        guard cleaned.count == 56 else {
            throw GridSyncError(.invalidInput, Localized("节点 ID「\(text)」去掉短横后有 \(cleaned.count) 个字符，应为 56 个；请用 `gridsync id` 重新复制", en: "node ID '\(text)' has \(cleaned.count) characters without dashes, expected 56; copy it again from `gridsync id`"))
        }
        let chars = Array(cleaned.utf8)
        var data: [UInt8] = []
        for chunk in 0..<4 {
            let part = Array(chars[chunk * 14..<chunk * 14 + 13])
            let check = chars[chunk * 14 + 13]
            guard let expected = Base32.luhnCheck(part), expected == check else {
                throw GridSyncError(.invalidInput, Localized("节点 ID「\(text)」第 \(chunk * 2 + 1)–\(chunk * 2 + 2) 组校验字符不符，有输入错误；请用 `gridsync id` 重新复制", en: "node ID '\(text)' fails its check character in group \(chunk * 2 + 1)–\(chunk * 2 + 2): there is a typo; copy it again from `gridsync id`"))
            }
            data.append(contentsOf: part)
        }
        guard let decoded = Base32.decode(data), decoded.count == Self.byteCount else {
            throw GridSyncError(.invalidInput, Localized("节点 ID「\(text)」不是有效的 base32；请用 `gridsync id` 重新复制", en: "node ID '\(text)' is not valid base32; copy it again from `gridsync id`"))
        }
        self.bytes = decoded
    }

    /// The 56-character grouped text form with check characters.
    public var text: String {
        let encoded = Array(Base32.encode(bytes).utf8)  // 52 characters
        var withChecks: [UInt8] = []
        for chunk in 0..<4 {
            let part = Array(encoded[chunk * 13..<chunk * 13 + 13])
            withChecks.append(contentsOf: part)
            withChecks.append(Base32.luhnCheck(part)!)
        }
        var out = ""
        for (i, c) in withChecks.enumerated() {
            if i > 0 && i % 7 == 0 { out.append("-") }
            out.append(Character(Unicode.Scalar(c)))
        }
        return out
    }

    /// The record ID of this node's entry in the roster collection (record IDs are unique
    /// across collections, and the `nodes` profile already uses ``text``).
    public var rosterRecord: String { "member-" + text.filter { $0 != "-" } }

    /// The node whose roster entry is `record`, if it is one.
    public init?(rosterRecord record: String) {
        guard record.hasPrefix("member-"), let id = try? NodeID(text: String(record.dropFirst(7))) else { return nil }
        self = id
    }

    /// The first group of the text form: enough to tell nodes of one community apart in a table.
    public var short: String { String(text.prefix(7)) }

    public var description: String { text }

    public static func == (lhs: NodeID, rhs: NodeID) -> Bool { lhs.bytes == rhs.bytes }

    /// Hashes the 32 bytes in one call (the synthesised version combines them one by one).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// RFC 4648 base32 without padding, and the Luhn mod 32 check character.
enum Base32 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): c - UInt8(ascii: "2") + 26
        default: nil
        }
    }

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ chars: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in chars {
            guard let v = value(of: c) else { return nil }
            buffer = buffer << 5 | UInt32(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits - 8)))
                bits -= 8
            }
        }
        // Leftover bits must be zero padding.
        if bits > 0 && buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }

    /// Luhn mod N (N = 32) check character over base32 characters.
    static func luhnCheck(_ chars: [UInt8]) -> UInt8? {
        var factor: UInt32 = 1
        var sum: UInt32 = 0
        for c in chars {
            guard let v = value(of: c) else { return nil }
            var addend = factor * UInt32(v)
            factor = factor == 2 ? 1 : 2
            addend = addend / 32 + addend % 32
            sum += addend
        }
        let check = (32 - sum % 32) % 32
        return alphabet[Int(check)]
    }
}
