/// One current value of a field: an op that no other known op overwrites.
public struct Head: Hashable, Sendable {
    public var origin: NodeID
    public var seq: UInt64
    public var hlc: HLC
    public var value: FieldValue

    public init(origin: NodeID, seq: UInt64, hlc: HLC, value: FieldValue) {
        self.origin = origin
        self.seq = seq
        self.hlc = hlc
        self.value = value
    }

    public var ref: OpRef { OpRef(origin: origin, seq: seq) }
}

/// How the winner among a field's heads is chosen. Every node applies the same policy, so every
/// node shows the same winner.
public enum MergePolicy: Sendable {
    /// Highest HLC wins; ties go to the higher origin ID, then the higher seq.
    case lastWriterWins
    /// The later request lifecycle stage wins (see ``RequestStatus/rank``); ties as last-writer-wins.
    case lifecycle

    /// Whether `a` ranks below `b`.
    public func ranks(_ a: Head, below b: Head) -> Bool {
        if case .lifecycle = self {
            let ra = RequestStatus.rank(of: a.value)
            let rb = RequestStatus.rank(of: b.value)
            if ra != rb { return ra < rb }
        }
        if a.hlc != b.hlc { return a.hlc < b.hlc }
        if a.origin != b.origin { return a.origin < b.origin }
        return a.seq < b.seq
    }

    /// Orders heads best first: the winner, then the others in the order they would win.
    public func sorted(_ heads: [Head]) -> [Head] {
        heads.sorted { ranks($1, below: $0) }
    }

    /// The winning head, or nil when there are none.
    public func winner(_ heads: [Head]) -> Head? {
        heads.max { ranks($0, below: $1) }
    }
}

/// Field-level merge rules. How heads are replaced — every head an op names in `pred` goes, the
/// op becomes a head — lives in the store's applier (`ChangeApplier`), which works on local
/// origin indices.
public enum FieldMerge {
    /// Several heads holding different values: a conflict for a person to settle. Concurrent
    /// writes of the same value are not a conflict.
    public static func isConflict(_ heads: [Head]) -> Bool {
        isConflict(values: heads.lazy.map(\.value))
    }

    /// The same rule over the heads' values alone.
    public static func isConflict<C: Collection>(values: C) -> Bool where C.Element == FieldValue {
        guard let first = values.first else { return false }
        return values.dropFirst().contains { $0 != first }
    }
}
