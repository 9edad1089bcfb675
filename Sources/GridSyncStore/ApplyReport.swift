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
    /// Changes refused and kept in quarantine; the rest of the batch was applied.
    public var quarantined: [QuarantinedChange] = []
    /// Whether an applied change touched the roster (quarantined changes are then retried).
    public var rosterChanged = false

    public init() {}

    mutating func merge(_ other: ApplyReport) {
        received += other.received
        applied += other.applied
        duplicates += other.duplicates
        ops += other.ops
        skewedOrigins.merge(other.skewedOrigins) { max($0, $1) }
        quarantined += other.quarantined
        rosterChanged = rosterChanged || other.rosterChanged
    }
}

/// A change that was refused on receipt and kept in quarantine.
public struct QuarantinedChange: Sendable, Equatable {
    public var origin: NodeID
    public var seq: UInt64
    public var reason: QuarantineReason
    /// Plain words naming nodes, records and fields, never values.
    public var detail: String
}
