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
    /// Changes that went into the log void: their origin's chain goes on, their ops were not
    /// applied (refused as out of scope; also listed in ``quarantined``).
    public var voided = 0
    /// Whether an applied change touched the roster (quarantined changes are then retried).
    public var rosterChanged = false
    /// Requests whose personal data this batch erased.
    public var erased = 0
    /// Whether this node (the centre) wrote key grants of its own after the batch, which the
    /// sender of the batch lacks too.
    public var issuedGrants = false
    /// Sealed values whose box a stored change lacked and a fuller copy restored.
    public var repairedBoxes = 0
    /// Copies of changes the store already held that were not what their origin signed
    /// (altered on the way, by a relay or a disk): dropped, the held change kept.
    public var alteredCopies = 0
    /// A node profile changed (the centre may owe that node key grants).
    public var profilesChanged = false
    /// The nodes whose roster records applied changes wrote.
    public var rosterMembers: Set<NodeID> = []

    public init() {}

    mutating func merge(_ other: ApplyReport) {
        received += other.received
        applied += other.applied
        duplicates += other.duplicates
        ops += other.ops
        skewedOrigins.merge(other.skewedOrigins) { max($0, $1) }
        quarantined += other.quarantined
        voided += other.voided
        rosterChanged = rosterChanged || other.rosterChanged
        profilesChanged = profilesChanged || other.profilesChanged
        erased += other.erased
        repairedBoxes += other.repairedBoxes
        alteredCopies += other.alteredCopies
        issuedGrants = issuedGrants || other.issuedGrants
        rosterMembers.formUnion(other.rosterMembers)
    }
}

/// A change that was refused on receipt and kept in quarantine.
public struct QuarantinedChange: Sendable, Equatable {
    public var origin: NodeID
    public var seq: UInt64
    public var reason: QuarantineReason
    /// Plain words naming nodes, records and fields, never values, in both languages.
    public var detail: Localized
    /// Whether the change went into the log void (its origin's chain goes on) rather than
    /// being held aside.
    public var inLog = false

    public init(origin: NodeID, seq: UInt64, reason: QuarantineReason, detail: Localized, inLog: Bool = false) {
        self.origin = origin
        self.seq = seq
        self.reason = reason
        self.detail = detail
        self.inLog = inLog
    }
}
