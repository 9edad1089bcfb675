import GridSyncCore

/// The sync protocol of one connection, free of I/O: feed it events (a message arrived, the
/// store answered a fetch, a batch was applied, time passed) and it returns the actions to
/// take. The host (the daemon) does the I/O and the store work and reports back.
///
/// Flow (`Protocol/SPEC.md` §6): both sides send HELLO then VECTOR; each then streams the changes
/// the other lacks in batches of bounded size, at most ``Configuration/window`` unacknowledged
/// at a time; the receiver applies each batch in one transaction and answers ACK with its new
/// vector. When the store changes later (a local write, or changes from another peer), the host
/// calls ``storeChanged()`` and the machine pushes what this peer lacks.
public struct SyncStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// Most batches sent and not yet acknowledged.
        public var window = 8
        /// Most changes per batch.
        public var maxBatchChanges = 2_000
        /// Target bytes per batch (a single larger change still goes alone).
        public var maxBatchBytes = 1 << 20
        /// Send a PING after this long without sending anything.
        public var keepaliveMs: UInt64 = 10_000
        /// Close after this long without receiving anything.
        public var idleTimeoutMs: UInt64 = 30_000

        public init() {}
    }

    public enum Action: Sendable, Equatable {
        case send(Message)
        /// Read from the store the changes `missingFrom` lacks, in log order, within the limits;
        /// answer with ``SyncStateMachine/fetched(_:more:now:)``.
        case fetch(missingFrom: VersionVector, maxChanges: Int, maxBytes: Int)
        /// Apply these changes in one transaction, in order; answer with
        /// ``SyncStateMachine/applied(batch:vector:now:)`` or ``SyncStateMachine/applyFailed(batch:error:)``.
        case apply(batch: UInt64, changes: [[UInt8]])
        /// The peer said who it is (check it is allowed before going on).
        case peerIdentified(Message.Hello)
        /// Everything the peer had when it last said so has been applied here.
        case caughtUp
        /// Close the connection, after sending the ERROR if there is one.
        case close(sending: WireError?)
    }

    enum State: Sendable, Equatable {
        case awaitingHello, awaitingVector, syncing, closed
    }

    public let configuration: Configuration
    let local: Message.Hello
    private(set) var state: State = .awaitingHello
    /// Who the peer is, once it said.
    public private(set) var peer: Message.Hello?
    /// What the peer has confirmed it holds.
    public private(set) var peerHolds = VersionVector()
    /// What the peer holds or has been sent.
    private(set) var sent = VersionVector()
    private var unacked: [UInt64] = []
    private var nextBatch: UInt64 = 1
    private var fetching = false
    private var mayHaveMore = true
    private var changedWhileFetching = false
    private var caughtUpBatches = Set<UInt64>()
    /// The last batch sent carried the caught-up flag (or nothing was sent yet: false, so the
    /// peer always hears once that it has everything).
    private var peerToldCaughtUp = false
    /// Per received batch not yet applied: the highest seq per origin it carries.
    private var receivedBatches: [UInt64: VersionVector] = [:]
    private var lastReceivedMs: UInt64
    private var lastSentMs: UInt64
    private var pingNonce: UInt64 = 0

    public init(local: Message.Hello, configuration: Configuration = Configuration(), nowMs: UInt64) {
        self.local = local
        self.configuration = configuration
        lastReceivedMs = nowMs
        lastSentMs = nowMs
    }

    /// Whether the peer has confirmed holding everything sent so far.
    public var isPeerUpToDate: Bool { state == .syncing && unacked.isEmpty && !mayHaveMore && !fetching }

    /// Opens the conversation: HELLO and this node's vector.
    public mutating func start(localVector: VersionVector, nowMs: UInt64) -> [Action] {
        lastSentMs = nowMs
        return [.send(.hello(local)), .send(.vector(localVector))]
    }

    /// A message arrived.
    public mutating func receive(_ message: Message, nowMs: UInt64) -> [Action] {
        guard state != .closed else { return [] }
        lastReceivedMs = nowMs
        switch (state, message) {
        case (_, .error):
            state = .closed
            return [.close(sending: nil)]
        case (_, .ping(let n)):
            return sent([.send(.pong(n))], nowMs)
        case (_, .pong):
            return []
        case (.syncing, .refused):
            // Informational: the host logs it; the ACK that follows carries on as usual.
            return []
        case (.awaitingHello, .hello(let hello)):
            guard hello.version == Message.Hello.currentVersion else {
                return fail(WireError(.unsupportedVersion, "peer speaks protocol version \(hello.version); this node speaks \(Message.Hello.currentVersion)"))
            }
            guard hello.node != local.node else {
                return fail(WireError(.protocolViolation, "peer has this node's own ID; a node cannot sync with itself"))
            }
            let none = [UInt8](repeating: 0, count: 32)
            if local.community != none, hello.community != none, local.community != hello.community {
                return fail(WireError(.notPermitted, "peer belongs to another community"))
            }
            peer = hello
            state = .awaitingVector
            return [.peerIdentified(hello)]
        case (.awaitingVector, .vector(let v)):
            peerHolds = v
            sent = v
            state = .syncing
            return pump(nowMs)
        case (.syncing, .changes(let batch)):
            if batch.caughtUp { caughtUpBatches.insert(batch.id) }
            var carried = VersionVector()
            for c in batch.changes {
                if let (origin, seq) = try? ChangeCodec.peekHeader(c) { carried.raise(origin, to: seq) }
            }
            receivedBatches[batch.id] = carried
            return [.apply(batch: batch.id, changes: batch.changes)]
        case (.syncing, .ack(let id, let vector)):
            guard unacked.first == id else {
                return fail(WireError(.protocolViolation, "ACK for batch \(id), expected \(unacked.first.map(String.init) ?? "none")"))
            }
            unacked.removeFirst()
            peerHolds = peerHolds.merging(vector)
            sent = sent.merging(vector)
            return pump(nowMs)
        default:
            return fail(WireError(.protocolViolation, "unexpected \(message.kind) message while \(state)"))
        }
    }

    /// The store answered a ``Action/fetch(missingFrom:maxChanges:maxBytes:)``. `more` says
    /// whether it stopped at a limit with changes left over.
    public mutating func fetched(_ changes: [[UInt8]], more: Bool, nowMs: UInt64) -> [Action] {
        guard state == .syncing else { return [] }
        fetching = false
        let changedMeanwhile = changedWhileFetching
        changedWhileFetching = false
        mayHaveMore = more || changedMeanwhile
        if changes.isEmpty {
            // Nothing to send: if the peer has not heard that it holds everything (the last
            // batch was full, or nothing was sent on this connection), say so with an empty batch.
            guard !mayHaveMore, !peerToldCaughtUp else { return pump(nowMs) }
        }
        for c in changes {
            if let (origin, seq) = try? ChangeCodec.peekHeader(c) { sent.raise(origin, to: seq) }
        }
        let id = nextBatch
        nextBatch += 1
        unacked.append(id)
        let batch = Message.Batch(id: id, caughtUp: !mayHaveMore, changes: changes)
        peerToldCaughtUp = batch.caughtUp
        return sent([.send(.changes(batch))], nowMs) + pump(nowMs)
    }

    /// The host applied batch `batch`; the store now holds `vector`.
    public mutating func applied(batch: UInt64, vector: VersionVector, nowMs: UInt64) -> [Action] {
        guard state == .syncing else { return [] }
        // What the peer sent us, it holds: never send it back.
        if let carried = receivedBatches.removeValue(forKey: batch) {
            peerHolds = peerHolds.merging(carried)
            sent = sent.merging(carried)
        }
        var actions = sent([.send(.ack(batch: batch, vector: vector))], nowMs)
        if caughtUpBatches.remove(batch) != nil { actions.append(.caughtUp) }
        return actions
    }

    /// Applying batch `batch` failed: tell the peer why and close. What earlier batches brought
    /// stays applied.
    public mutating func applyFailed(batch: UInt64, error: WireError) -> [Action] {
        fail(error)
    }

    /// The store changed (a local write, or changes from another peer): push what this peer lacks.
    public mutating func storeChanged(nowMs: UInt64) -> [Action] {
        guard state == .syncing else { return [] }
        mayHaveMore = true
        if fetching {
            changedWhileFetching = true
            return []
        }
        return pump(nowMs)
    }

    /// Time passed: keepalive and idle timeout.
    public mutating func tick(nowMs: UInt64) -> [Action] {
        guard state != .closed else { return [] }
        if nowMs >= lastReceivedMs + configuration.idleTimeoutMs {
            return fail(WireError(.idleTimeout, "nothing received for \(configuration.idleTimeoutMs / 1000) s"))
        }
        if nowMs >= lastSentMs + configuration.keepaliveMs {
            pingNonce += 1
            return sent([.send(.ping(pingNonce))], nowMs)
        }
        return []
    }

    /// The host is shutting down.
    public mutating func shutdown() -> [Action] {
        fail(WireError(.shuttingDown, "node is shutting down"))
    }

    private mutating func pump(_ nowMs: UInt64) -> [Action] {
        guard state == .syncing, !fetching, mayHaveMore, unacked.count < configuration.window else { return [] }
        fetching = true
        return [.fetch(missingFrom: sent, maxChanges: configuration.maxBatchChanges, maxBytes: configuration.maxBatchBytes)]
    }

    private mutating func sent(_ actions: [Action], _ nowMs: UInt64) -> [Action] {
        lastSentMs = nowMs
        return actions
    }

    private mutating func fail(_ error: WireError) -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        return [.close(sending: error)]
    }
}
