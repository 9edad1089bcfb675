import GridSyncCore

/// What applying changes did to a store.
public struct ApplyReport: Sendable, Equatable {
    /// Changes offered.
    public var received = 0
    /// Changes that were new and are now applied.
    public var applied = 0
    /// Changes the store already held (identical ones; a different change under the same
    /// origin and seq is refused as a fork).
    public var duplicates = 0
    /// Field ops in the applied changes.
    public var ops = 0
    /// Origins whose timestamps were further ahead of our wall clock than the cap, with the
    /// largest lead seen in milliseconds. Their clocks are probably wrong.
    public var skewedOrigins: [NodeID: UInt64] = [:]

    public init() {}

    mutating func merge(_ other: ApplyReport) {
        received += other.received
        applied += other.applied
        duplicates += other.duplicates
        ops += other.ops
        skewedOrigins.merge(other.skewedOrigins) { max($0, $1) }
    }
}
