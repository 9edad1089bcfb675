import Crypto

/// A community's identity, derived from its centre's key: the first 20 bytes of
/// SHA-256("gridsync community v1" ‖ centre public key).
///
/// Anyone holding a community ID can check that a node claiming to be its centre is: hash the
/// node's key and compare. The text form is the 20 bytes in base32 (32 characters), cut into
/// four groups of 8, each followed by a Luhn mod 32 check character and joined by dashes:
/// `XXXXXXXXC-XXXXXXXXC-XXXXXXXXC-XXXXXXXXC` (39 characters). A typo is caught by the check
/// characters.
public struct CommunityID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public static let byteCount = 20
    static let domain = Array("gridsync community v1".utf8)

    /// The community whose centre has `centre` as its key.
    public init(centre: NodeID) {
        var hasher = SHA256()
        hasher.update(data: Self.domain)
        hasher.update(data: centre.bytes)
        bytes = Array(hasher.finalize().prefix(Self.byteCount))
    }

    /// Whether `node` is this community's centre.
    public func isCentre(_ node: NodeID) -> Bool { CommunityID(centre: node) == self }

    /// Parses the text form, ignoring case, dashes and spaces.
    public init(text: String) throws(GridSyncError) {
        let cleaned = Array(text.uppercased().filter { $0 != "-" && $0 != " " }.utf8)
        guard cleaned.count == 36 else {
            throw GridSyncError(.invalidInput, Localized("社区 ID「\(text)」去掉短横后有 \(cleaned.count) 个字符，应为 36 个；请在社区中心用 `gridsync id` 重新复制", en: "community ID '\(text)' has \(cleaned.count) characters without dashes, expected 36; copy it again from `gridsync id` on the centre"))
        }
        var data: [UInt8] = []
        for group in 0..<4 {
            let part = Array(cleaned[group * 9..<group * 9 + 8])
            guard let check = Base32.luhnCheck(part), check == cleaned[group * 9 + 8] else {
                throw GridSyncError(.invalidInput, Localized("社区 ID「\(text)」第 \(group + 1) 组校验字符不符，有输入错误；请在社区中心用 `gridsync id` 重新复制", en: "community ID '\(text)' fails the check character of group \(group + 1): there is a typo; copy it again from `gridsync id` on the centre"))
            }
            data += part
        }
        guard let decoded = Base32.decode(data), decoded.count == Self.byteCount else {
            throw GridSyncError(.invalidInput, Localized("社区 ID「\(text)」不是有效的 base32；请在社区中心用 `gridsync id` 重新复制", en: "community ID '\(text)' is not valid base32; copy it again from `gridsync id` on the centre"))
        }
        bytes = decoded
    }

    public var text: String {
        let encoded = Array(Base32.encode(bytes).utf8)  // 32 characters
        return (0..<4).map { group in
            let part = Array(encoded[group * 8..<group * 8 + 8])
            return String(decoding: part + [Base32.luhnCheck(part)!], as: UTF8.self)
        }.joined(separator: "-")
    }

    public var description: String { text }
}
