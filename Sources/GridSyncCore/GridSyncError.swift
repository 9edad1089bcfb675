/// An error a person can act on: a stable ``code`` for scripts, and a ``message`` that says
/// what went wrong and how to fix it.
///
/// Messages never contain residents' personal data (names, phone numbers, addresses): they
/// name records by ID and fields by name only.
public struct GridSyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable error category.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable {
            case malformed
            case tooLarge
            case badSignature
            case brokenChain
            case seqGap
            case causalGap
            case fork
            case notFound
            case ambiguous
            case invalidTransition
            case invalidInput
            case notInitialized
            case alreadyInitialized
            case notPermitted
            case io
        }

        fileprivate let base: Base

        /// Input bytes do not follow the format (bundle, change, value).
        public static let malformed = Code(base: .malformed)
        /// A size or count exceeds its documented limit.
        public static let tooLarge = Code(base: .tooLarge)
        /// A change signature does not verify against its origin's key.
        public static let badSignature = Code(base: .badSignature)
        /// A change does not link to the hash of its predecessor.
        public static let brokenChain = Code(base: .brokenChain)
        /// A change skips sequence numbers of its origin.
        public static let seqGap = Code(base: .seqGap)
        /// An op names a predecessor the store has not seen.
        public static let causalGap = Code(base: .causalGap)
        /// Two different changes claim the same origin and sequence number.
        public static let fork = Code(base: .fork)
        /// No record matches the given ID.
        public static let notFound = Code(base: .notFound)
        /// An ID prefix matches more than one record.
        public static let ambiguous = Code(base: .ambiguous)
        /// A request lifecycle step is not allowed from the current status.
        public static let invalidTransition = Code(base: .invalidTransition)
        /// A command argument is missing or invalid.
        public static let invalidInput = Code(base: .invalidInput)
        /// The store has not been created yet.
        public static let notInitialized = Code(base: .notInitialized)
        /// The store already exists.
        public static let alreadyInitialized = Code(base: .alreadyInitialized)
        /// This node's role or scope does not allow the write.
        public static let notPermitted = Code(base: .notPermitted)
        /// Reading or writing a file failed.
        public static let io = Code(base: .io)

        public var description: String { base.rawValue }
    }

    /// The error category.
    public var code: Code
    /// What went wrong and how to fix it, in one line, free of personal data, in both languages
    /// (the message catalogue's entry).
    public var localized: Localized
    /// ``localized`` in this process's language (``Language/current``).
    public var message: String { localized.text }

    /// An error whose message is a catalogue entry: every text a person reads is in both languages.
    public init(_ code: Code, _ message: Localized) {
        self.code = code
        self.localized = message
    }

    public var description: String { message }

    /// The same error, its message preceded by where it happened ("数据包第 3 项：…").
    public func within(_ place: Localized) -> GridSyncError {
        GridSyncError(code, Localized("\(place.zh)：\(localized.zh)", en: "\(place.en): \(localized.en)"))
    }
}
