/// Names one op: the change (origin, seq) that wrote it. Within one (record, field) a change
/// writes at most one op, so this is unique for the field it is used with.
public struct OpRef: Hashable, Sendable, Comparable {
    public var origin: NodeID
    public var seq: UInt64

    public init(origin: NodeID, seq: UInt64) {
        self.origin = origin
        self.seq = seq
    }

    public static func < (lhs: OpRef, rhs: OpRef) -> Bool {
        lhs.origin != rhs.origin ? lhs.origin < rhs.origin : lhs.seq < rhs.seq
    }
}

/// Sets one field of one record. `pred` names the ops this one overwrites: the field's heads
/// on the writer's node when it wrote.
public struct Op: Hashable, Sendable {
    /// Which kind of record: `requests`, `services`, `notes`, `categories`, `nodes`, …
    public var collection: String
    /// The record's ID, unique across all collections.
    public var record: String
    /// The field name; `_deleted` marks deletion.
    public var field: String
    public var value: FieldValue
    public var pred: [OpRef]

    public init(collection: String, record: String, field: String, value: FieldValue, pred: [OpRef]) {
        self.collection = collection
        self.record = record
        self.field = field
        self.value = value
        self.pred = pred
    }
}

/// One local transaction's worth of ops, from one origin. Applied all or nothing.
public struct Change: Hashable, Sendable {
    public var origin: NodeID
    /// Counts the origin's changes from 1 with no gaps.
    public var seq: UInt64
    public var hlc: HLC
    /// ``SignedChange/hash`` of the origin's change `seq - 1`; 32 zero bytes for seq 1.
    public var prevHash: [UInt8]
    public var ops: [Op]

    public static let zeroHash = [UInt8](repeating: 0, count: 32)

    public init(origin: NodeID, seq: UInt64, hlc: HLC, prevHash: [UInt8], ops: [Op]) {
        self.origin = origin
        self.seq = seq
        self.hlc = hlc
        self.prevHash = prevHash
        self.ops = ops
    }
}
