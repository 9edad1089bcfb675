/// Error codes carried by ERROR messages. A node that sends one closes the connection.
public enum WireErrorCode: UInt16, Sendable, CaseIterable {
    /// The frame or message does not follow the protocol (bad type, malformed payload, wrong order).
    case protocolViolation = 1
    /// A frame is larger than ``WireLimits/maxFrameBytes``.
    case frameTooLarge = 2
    /// The peer speaks a protocol version this node does not.
    case unsupportedVersion = 3
    /// A change in a batch does not decode.
    case malformedChange = 4
    /// A batch skips changes of an origin.
    case seqGap = 5
    /// A change does not link to its predecessor's hash.
    case brokenChain = 6
    /// A change's signature does not verify.
    case badSignature = 7
    /// A change builds on a change the receiver does not have.
    case causalGap = 8
    /// Two different changes claim the same origin and seq.
    case fork = 9
    /// The receiver failed for its own reasons (disk full, …); the sender may retry later.
    case internalError = 10
    /// No frame arrived within the idle timeout.
    case idleTimeout = 11
    /// The peer is not allowed to connect or to write what it sent.
    case notPermitted = 12
    /// The node is shutting down.
    case shuttingDown = 13
    /// REFUSED: the change's origin is not on the community's roster.
    case notMember = 14
    /// REFUSED: the change's origin was revoked before it made the change.
    case revoked = 15
    /// REFUSED: the change writes outside its origin's scope. The receiver holds it in its log,
    /// void: the origin's later changes apply, this one's ops do not.
    case outOfScope = 16
    /// REFUSED: an earlier change of the same origin is quarantined.
    case followsQuarantined = 17
    /// REFUSED: the change builds on a quarantined change.
    case dependsOnQuarantined = 18
    /// REFUSED: the change is stamped after 2100; its origin's clock is wrong.
    case badClock = 19
}

/// A protocol failure: what to put in the ERROR frame before closing.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: WireErrorCode
    public var message: String

    public init(_ code: WireErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) (\(code.rawValue)): \(message)" }
}
