import Foundation
import GridSyncCore

/// Input checks for local writes. Messages name the flag and the rule, never the value, since
/// values may be residents' personal data.
enum Validate {
    static func required(_ value: String?, _ flag: String) throws -> String {
        let trimmed = value?.trimmed ?? ""
        guard !trimmed.isEmpty else {
            throw GridSyncError(.invalidInput, Localized("\(flag) 必填，且不能为空", en: "\(flag) is required and must not be empty"))
        }
        return try text(trimmed, flag)!
    }

    /// Optional text: nil stays nil; otherwise trimmed and size-checked.
    static func text(_ value: String?, _ flag: String, maxCharacters: Int = 4000) throws -> String? {
        guard let value else { return nil }
        // U+FFFD is what bytes that were not UTF-8 became on the way in (a terminal in GBK, say).
        guard !value.unicodeScalars.contains(where: { $0 == "\u{0}" || $0 == "\u{FFFD}" }) else {
            throw GridSyncError(.invalidInput, Localized("\(flag) 不是有效的 UTF-8 文本（含 NUL 字节或其他编码）；请把终端或文件设为 UTF-8（没有写入任何内容）", en: "\(flag) is not valid UTF-8 text (a NUL byte, or bytes in another encoding); set the terminal or file to UTF-8 (nothing was written)"))
        }
        let trimmed = value.trimmed
        guard trimmed.count <= maxCharacters, trimmed.utf8.count <= Limits.maxTextValueBytes else {
            throw GridSyncError(.invalidInput, Localized("\(flag) 超过 \(maxCharacters) 个字符；请缩短", en: "\(flag) is longer than \(maxCharacters) characters; shorten it"))
        }
        return trimmed
    }

    static func phone(_ value: String?, _ flag: String = "--phone") throws -> String? {
        guard let value = try text(value, flag, maxCharacters: 32) else { return nil }
        let allowed = Set("0123456789+-() ")
        guard value.isEmpty || (value.count >= 3 && value.allSatisfy { allowed.contains($0) }) else {
            throw GridSyncError(.invalidInput, Localized("\(flag) 应为 3–32 位数字（可含空格、+、-、括号）", en: "\(flag) must be 3–32 digits (spaces, +, -, parentheses allowed)"))
        }
        return value
    }

    /// A calendar date written YYYY-MM-DD.
    static func date(_ value: String?, _ flag: String) throws -> String? {
        guard let value, !value.isEmpty else { return value }
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y)
        else {
            throw GridSyncError(.invalidInput, Localized("\(flag) 不是日期；请写成 YYYY-MM-DD，例如 2026-12-31", en: "\(flag) is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31"))
        }
        return value
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// A short place or code name: grid, building, unit, room.
    static func place(_ value: String?, _ flag: String) throws -> String? {
        try text(value, flag, maxCharacters: 64)
    }
}

/// New record IDs: 128 random bits as 32 lowercase hex digits.
enum RecordID {
    /// 32 hex digits of 16 random bytes (two draws from the system's generator, not sixteen).
    static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let a: UInt64 = rng.next(), b: UInt64 = rng.next()
        return withUnsafeBytes(of: (a, b)) { Hex.encode($0) }
    }
}
