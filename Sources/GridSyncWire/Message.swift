import GridSyncCore

/// A node's role as announced in HELLO.
public enum WireRole: UInt8, Sendable {
    case centre = 0, grid = 1, building = 2
}

/// One protocol message. `Protocol/SPEC.md` §5 gives the normative layout of each.
public enum Message: Sendable, Equatable {
    /// First message on a connection, from both sides.
    case hello(Hello)
    /// What the sender holds: sent once, right after HELLO.
    case vector(VersionVector)
    /// A batch of changes, in the sender's log order.
    case changes(Batch)
    /// The receiver applied batch `batch` durably and now holds `vector`.
    case ack(batch: UInt64, vector: VersionVector)
    case ping(UInt64)
    case pong(UInt64)
    /// The sender closes the connection after this.
    case error(WireError)
    /// Sent before the ACK of batch `batch`: these changes of it were refused and quarantined;
    /// the rest applied. The connection stays open.
    case refused(batch: UInt64, changes: [Refusal])

    /// One refused change: its origin, its seq, and why (a ``WireErrorCode``).
    public struct Refusal: Sendable, Equatable {
        public var origin: NodeID
        public var seq: UInt64
        public var code: WireErrorCode

        public init(origin: NodeID, seq: UInt64, code: WireErrorCode) {
            self.origin = origin
            self.seq = seq
            self.code = code
        }
    }

    public struct Hello: Sendable, Equatable {
        public static let magic: UInt32 = 0x4753_5931  // "GSY1"
        public static let currentVersion: UInt16 = 1

        public var version: UInt16
        public var node: NodeID
        /// The community this node belongs to (32 bytes; zero until communities exist).
        public var community: [UInt8]
        public var role: WireRole
        public var name: String

        public init(version: UInt16 = Hello.currentVersion, node: NodeID, community: [UInt8] = Array(repeating: 0, count: 32), role: WireRole, name: String) {
            self.version = version
            self.node = node
            self.community = community
            self.role = role
            self.name = name
        }
    }

    public struct Batch: Sendable, Equatable {
        /// CHANGES flag bit 0: the sender had nothing more to send.
        public static let caughtUpFlag: UInt8 = 1
        /// CHANGES flag bit 1: the change list is DEFLATE-compressed (an encoding detail; a
        /// decoded batch does not remember it).
        public static let deflatedFlag: UInt8 = 2

        /// Counts the sender's batches on this connection from 1.
        public var id: UInt64
        /// The sender had nothing more to send when it sent this batch.
        public var caughtUp: Bool
        /// Encoded changes (`body ‖ signature`).
        public var changes: [[UInt8]]

        public init(id: UInt64, caughtUp: Bool, changes: [[UInt8]]) {
            self.id = id
            self.caughtUp = caughtUp
            self.changes = changes
        }
    }

    public enum Kind: UInt8, Sendable, CaseIterable {
        case hello = 1, vector = 2, changes = 3, ack = 4, ping = 5, pong = 6, error = 7, refused = 8
    }

    public var kind: Kind {
        switch self {
        case .hello: .hello
        case .vector: .vector
        case .changes: .changes
        case .ack: .ack
        case .ping: .ping
        case .pong: .pong
        case .error: .error
        case .refused: .refused
        }
    }
}
