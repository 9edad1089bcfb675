import Foundation

/// The language of everything a person reads: Chinese unless the environment asks for English.
public enum Language: String, Sendable, CaseIterable {
    case zh, en

    /// This process's language, read once from the environment (``from(environment:)``).
    public static let current = from(environment: ProcessInfo.processInfo.environment)

    /// `GRIDSYNC_LANG`, else `LC_ALL`, else `LC_MESSAGES`, else `LANG`: the first that is set
    /// decides — English when it starts with `en` (`en`, `en_US.UTF-8`), Chinese otherwise
    /// (`zh_CN.UTF-8`, `C.UTF-8`, `POSIX`). Nothing set: Chinese.
    public static func from(environment env: [String: String]) -> Language {
        for key in ["GRIDSYNC_LANG", "LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = env[key], !value.isEmpty { return value.lowercased().hasPrefix("en") ? .en : .zh }
        }
        return .zh
    }
}

/// A text a person reads, in both languages; shown in ``Language/current``.
public struct Localized: Sendable, Equatable, CustomStringConvertible {
    public let zh: String
    public let en: String

    public init(_ zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    public func text(in language: Language) -> String { language == .en ? en : zh }

    /// The text in this process's language.
    public var text: String { text(in: .current) }

    public var description: String { text }

    /// Both texts: for checks that must hold in either language (that a message names no
    /// resident, say).
    public var bothLanguages: String { zh + "\n" + en }
}

/// A value people read by name: its Chinese ``label`` and its ``englishLabel``, shown in this
/// process's language by ``displayLabel``.
public protocol Labelled {
    var label: String { get }
    var englishLabel: String { get }
}

extension Labelled {
    /// The name in this process's language: tables, confirmations, messages.
    public var displayLabel: String { Localized(label, en: englishLabel).text }
    /// Both names, for messages built in both languages.
    public var localizedLabel: Localized { Localized(label, en: englishLabel) }
}

extension RequestStatus: Labelled {
    /// The status as an English reader reads it ("in progress"); ``label`` is the Chinese.
    public var englishLabel: String {
        switch self {
        case .inProgress: "in progress"
        default: rawValue
        }
    }
}

extension Satisfaction: Labelled {
    /// The rating as an English reader reads it ("basically satisfied"); ``label`` is the Chinese.
    public var englishLabel: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}

extension NodeRole: Labelled {
    public var englishLabel: String { rawValue }
}

extension ProviderKind: Labelled {
    public var englishLabel: String { rawValue }
}

extension LifecycleStep: Labelled {
    public var englishLabel: String { rawValue }
}
