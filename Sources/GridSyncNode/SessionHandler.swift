import Foundation
import GridSyncCore
import GridSyncStore
import GridSyncWire
import Logging
import NIOCore
import NIOSSL

/// Runs one connection's ``SyncStateMachine`` on its event loop: forwards messages to it and
/// carries out its actions — sends on the channel, store work on the node's store queue.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = Message
    typealias OutboundOut = Message

    private var machine: SyncStateMachine
    private let node: SyncNode
    private var peerKey: String
    private let direction: String
    private var context: ChannelHandlerContext?
    private var timer: RepeatedTask?
    private var closing = false
    /// Received batches waiting for the store, and whether a group is being applied.
    private var pendingApplies: [(batch: UInt64, changes: [[UInt8]])] = []
    private var applying = false
    /// Who is on the other end, once HELLO said so.
    private var peer: (id: NodeID, name: String)?

    /// The node ID the TLS handshake proved, when the connection uses TLS.
    private let verified: VerifiedPeer?

    /// Records what happened in the peer's `gridsync peers` row: a dialed peer's under its
    /// address; an inbound peer's only once HELLO named it (an attempt that never identifies
    /// itself leaves no row).
    private func record(_ change: @escaping @Sendable (inout PeerUpdate) -> Void) {
        guard direction == "out" || peer != nil else { return }
        node.recordPeer(peerKey, direction: direction, change)
    }

    init(node: SyncNode, peerKey: String, direction: String, verified: VerifiedPeer?) {
        self.node = node
        self.verified = verified
        self.peerKey = peerKey
        self.direction = direction
        let community = node.community.map { $0.id.bytes + Array(repeating: 0, count: 12) } ?? Array(repeating: 0, count: 32)
        let hello = Message.Hello(node: node.store.node.id, community: community, role: WireRole(node.store.node.role), name: node.store.node.name)
        machine = SyncStateMachine(local: hello, configuration: node.configuration.sync, nowMs: SyncNode.nowMs())
    }

    private var loopBound: NIOLoopBound<SessionHandler> { NIOLoopBound(self, eventLoop: context!.eventLoop) }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        node.configuration.onEvent?(.connected(peer: peerKey))
        let bound = loopBound
        let loop = context.eventLoop
        node.register(peerKey, token: ObjectIdentifier(self), loop: loop, peer: nil, notify: { bound.value.storeChanged() }, shutdown: { bound.value.shutdown() })
        timer = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            bound.value.perform(bound.value.machine.tick(nowMs: SyncNode.nowMs()))
        }
        node.onStoreQueue { store in
            let vector = try store.vector()
            loop.execute { bound.value.perform(bound.value.machine.start(localVector: vector, nowMs: SyncNode.nowMs())) }
        } failed: { error in
            loop.execute { bound.value.fail(WireError(.internalError, "cannot read the store: \(error)")) }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        if case .refused(let batch, let changes) = message {
            let summary = changes.prefix(5).map { "\($0.origin.short)#\($0.seq) \($0.code)" }.joined(separator: ", ")
            node.logger.warning("peer \(peerKey) refused \(changes.count) changes of batch \(batch) and quarantined them: \(summary)\(changes.count > 5 ? ", …" : "")")
            record { $0.error = "peer refused \(changes.count) changes (`gridsync quarantine list` here lists this node's own; on the peer it says why)" }
            let peerName = peer?.id.text ?? peerKey
            let own = changes.map { (origin: $0.origin, seq: $0.seq, code: Int($0.code.rawValue)) }
            node.onStoreQueue { store in
                try store.recordRefusals(by: peerName, own.filter { $0.origin == store.node.id }.map { ($0.seq, $0.code) })
            } failed: { _ in }
        }
        // The centre, proven by TLS, holds more of this node's own changes than its store: a
        // store restored from a backup must take them back before writing (Protocol/SPEC.md §7.4).
        if case .vector(let v) = message, let peer, peer.id == node.community?.centre, v[node.store.node.id] > 0 {
            let seq = v[node.store.node.id]
            node.onStoreQueue { store in try store.noteOwnChangesSeen(upTo: seq) } failed: { [logger = node.logger] error in
                logger.warning("cannot record what the centre holds of this node: \(error)")
            }
        }
        if case .error(let e) = message, e.code != .shuttingDown {
            node.logger.warning("peer \(peerKey) closed the connection: \(e)")
            record { $0.error = "peer: \(e.message)" }
        }
        perform(machine.receive(message, nowMs: SyncNode.nowMs()))
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        // A newer connection from the same peer may have taken the key over: then the peer is
        // still connected, and that session stays registered for live pushes.
        if node.unregister(peerKey, token: ObjectIdentifier(self)) {
            record { $0.connected = false }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let wire = error as? WireError {
            node.logger.warning("peer \(peerKey) sent bad data: \(wire)")
            fail(wire)
        } else {
            if error is NIOSSLError || error is BoringSSLError {
                node.logger.warning("TLS with \(peerKey) failed: \(error) — both nodes must be on the community's roster (`gridsync roster list`)")
            }
            record { $0.error = "\(error)" }
            context.close(promise: nil)
        }
    }

    /// The store changed (a local write, or changes from another peer).
    func storeChanged() {
        perform(machine.storeChanged(nowMs: SyncNode.nowMs()))
    }

    func shutdown() {
        perform(machine.shutdown())
    }

    /// Group commit: the batches that queued up while the previous group was applied (up to
    /// half the window) go into one transaction, then each is acknowledged. If the group fails, its batches are retried
    /// one by one, so those before the bad one stay applied and only the bad one is refused.
    private func applyPending() {
        guard !applying, !pendingApplies.isEmpty, let context else { return }
        applying = true
        // Half the window at most: while one group is applied, the sender can refill the rest.
        let take = max(1, node.configuration.sync.window / 2)
        let group = Array(pendingApplies.prefix(take))
        pendingApplies.removeFirst(group.count)
        let bound = loopBound
        let loop = context.eventLoop
        let peerKey = peerKey
        let direction = direction
        let node = node
        let peerName = peer.map { "peer \($0.id.short) (\($0.name))" } ?? "peer \(peerKey)"
        node.onStoreQueue { store in
            var outcomes: [(UInt64, Result<VersionVector, WireError>)] = []
            var refusals: [UInt64: [Message.Refusal]] = [:]
            /// Which batch of the group each (origin, seq) came in; built only if something was
            /// quarantined.
            var batchOf: [OpRef: UInt64]?
            func batch(of q: QuarantinedChange) -> UInt64? {
                if batchOf == nil {
                    var map: [OpRef: UInt64] = [:]
                    for (batch, changes) in group {
                        for c in changes {
                            if let (origin, seq) = try? ChangeCodec.peekHeader(c) { map[OpRef(origin: origin, seq: seq)] = batch }
                        }
                    }
                    batchOf = map
                }
                return batchOf?[OpRef(origin: q.origin, seq: q.seq)]
            }
            func report(_ r: ApplyReport) {
                for (origin, ahead) in r.skewedOrigins {
                    node.logger.warning("node \(origin.short) stamps changes \(ahead / 60_000) min ahead of this clock; one of the clocks is wrong")
                }
                if r.alteredCopies > 0 {
                    node.logger.warning("\(r.alteredCopies) copies of changes already held, sent by \(peerKey), were not what their origins signed (altered on the way); dropped, the held changes kept")
                }
                for q in r.quarantined {
                    node.logger.warning("quarantined change \(q.seq) of node \(q.origin.short) from \(peerKey): \(q.reason.rawValue) — \(q.detail)")
                    if let batch = batch(of: q) {
                        refusals[batch, default: []].append(Message.Refusal(origin: q.origin, seq: q.seq, code: WireErrorCode(q.reason)))
                    }
                }
            }
            let started = ContinuousClock.now
            // Key grants the centre wrote for the sender go back to it in this session.
            var issuedGrants = false
            do {
                let all = group.flatMap(\.changes)
                let (r, vector) = try store.apply(encoded: all, from: peerName)
                issuedGrants = r.issuedGrants
                node.metrics.applyDuration.record(ContinuousClock.now - started)
                node.metrics.changesReceived.increment(by: Int64(all.count))
                report(r)
                outcomes = group.map { ($0.batch, .success(vector)) }
            } catch {
                for (batch, changes) in group {
                    do {
                        let (r, vector) = try store.apply(encoded: changes, from: peerName)
                        issuedGrants = issuedGrants || r.issuedGrants
                        node.metrics.changesReceived.increment(by: Int64(changes.count))
                        report(r)
                        outcomes.append((batch, .success(vector)))
                    } catch {
                        let wire = WireError.from(error)
                        node.metrics.changesRefused.increment()
                        node.logger.warning("refused a batch from \(peerKey): \(wire.message)")
                        node.recordPeer(peerKey, direction: direction) { $0.error = wire.message }
                        outcomes.append((batch, .failure(wire)))
                        break
                    }
                }
            }
            if outcomes.contains(where: { if case .success = $0.1 { true } else { false } }) {
                node.storeDidChange(except: issuedGrants ? nil : peerKey)
            }
            let results = outcomes
            let refused = refusals
            loop.execute {
                let handler = bound.value
                handler.applying = false
                for (batch, outcome) in results {
                    if let changes = refused[batch], case .success = outcome {
                        handler.perform([.send(.refused(batch: batch, changes: changes))])
                    }
                    switch outcome {
                    case .success(let vector): handler.perform(handler.machine.applied(batch: batch, vector: vector, nowMs: SyncNode.nowMs()))
                    case .failure(let wire): handler.perform(handler.machine.applyFailed(batch: batch, error: wire))
                    }
                }
                handler.applyPending()
            }
        } failed: { error in
            loop.execute { bound.value.fail(WireError(.internalError, "cannot apply: \(error)")) }
        }
    }

    private func fail(_ error: WireError) {
        perform([.close(sending: error)])
    }

    private func perform(_ actions: [SyncStateMachine.Action]) {
        guard let context else { return }
        let bound = loopBound
        let loop = context.eventLoop
        for action in actions {
            switch action {
            case .send(let message):
                if case .changes(let batch) = message, !batch.changes.isEmpty {
                    node.metrics.changesSent.increment(by: Int64(batch.changes.count))
                }
                context.writeAndFlush(wrapOutboundOut(message), promise: nil)
            case .fetch(let vector, let maxChanges, let maxBytes):
                node.onStoreQueue { store in
                    let (changes, more) = try store.encodedChanges(missingFrom: vector, maxChanges: maxChanges, maxBytes: maxBytes)
                    loop.execute { bound.value.perform(bound.value.machine.fetched(changes, more: more, nowMs: SyncNode.nowMs())) }
                } failed: { error in
                    loop.execute { bound.value.fail(WireError(.internalError, "cannot read the store: \(error)")) }
                }
            case .apply(let batch, let changes):
                pendingApplies.append((batch, changes))
                applyPending()
            case .peerIdentified(let hello):
                if let verified, verified.nodeID != hello.node {
                    let proven = verified.nodeID?.text ?? "none"
                    node.logger.warning("peer \(peerKey) says it is node \(hello.node.text) but its certificate is for node \(proven); closing")
                    fail(WireError(.notPermitted, "HELLO names another node than the TLS certificate"))
                    return
                }
                if direction == "in" {
                    // Inbound peers are known by node ID, not by their ephemeral port.
                    node.unregister(peerKey, token: ObjectIdentifier(self))
                    peerKey = "in:" + hello.node.text
                    node.register(peerKey, token: ObjectIdentifier(self), loop: loop, peer: hello.node, notify: { bound.value.storeChanged() }, shutdown: { bound.value.shutdown() })
                } else {
                    node.markIdentified(peerKey, peer: hello.node)
                }
                peer = (hello.node, hello.name)
                context.triggerUserOutboundEvent(SessionIdentified(), promise: nil)
                node.logger.info("connected to \(hello.node.short) (\(hello.name)) via \(peerKey)")
                record {
                    $0.nodeID = hello.node.text
                    $0.name = hello.name
                    $0.connected = true
                    $0.connectedNow = true
                    $0.clearError = true
                }
            case .caughtUp:
                if let peer { node.metrics.peerSynced(peer.id, name: peer.name, atMs: SyncNode.nowMs()) }
                let peerVector = machine.peerHolds
                record {
                    $0.syncedNow = true
                    $0.peerVector = peerVector
                }
            case .close(let error):
                guard !closing else { continue }
                closing = true
                if let error {
                    if error.code != .shuttingDown {
                        record { $0.error = error.message }
                    }
                    context.writeAndFlush(wrapOutboundOut(.error(error))).whenComplete { _ in bound.value.context?.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
            }
        }
        if machine.isPeerUpToDate {
            if let peer { node.metrics.peerSynced(peer.id, name: peer.name, atMs: SyncNode.nowMs()) }
            let peerVector = machine.peerHolds
            node.recordPeerThrottled(peerKey, direction: direction, vector: peerVector)
        }
    }
}

extension WireRole {
    init(_ role: NodeRole) {
        switch role {
        case .centre: self = .centre
        case .grid: self = .grid
        case .building: self = .building
        }
    }
}

/// Quarantine reasons and the REFUSED codes that carry them (Protocol/SPEC.md §5.3), both ways.
public enum RefusalCode {
    /// The code a REFUSED message gives for `reason`.
    public static func code(of reason: QuarantineReason) -> Int { Int(WireErrorCode(reason).rawValue) }

    /// The reason a REFUSED `code` stands for, or nil for a code that is not a refusal.
    public static func reason(of code: Int) -> QuarantineReason? {
        QuarantineReason.allCases.first { Self.code(of: $0) == code }
    }
}

extension WireErrorCode {
    /// The code a REFUSED message gives for a quarantine reason.
    init(_ reason: QuarantineReason) {
        switch reason {
        case .notMember: self = .notMember
        case .revoked: self = .revoked
        case .outOfScope: self = .outOfScope
        case .badSignature: self = .badSignature
        case .brokenChain: self = .brokenChain
        case .followsQuarantined: self = .followsQuarantined
        case .dependsOnQuarantined: self = .dependsOnQuarantined
        case .badClock: self = .badClock
        }
    }
}

extension WireError {
    /// The wire error for a store error.
    static func from(_ error: any Error) -> WireError {
        guard let e = error as? GridSyncError else { return WireError(.internalError, "the receiver failed; try again later") }
        switch e.code {
        case .seqGap: return WireError(.seqGap, e.message)
        case .brokenChain: return WireError(.brokenChain, e.message)
        case .badSignature: return WireError(.badSignature, e.message)
        case .causalGap: return WireError(.causalGap, e.message)
        case .fork: return WireError(.fork, e.message)
        case .malformed, .tooLarge: return WireError(.malformedChange, e.message)
        case .notPermitted: return WireError(.notPermitted, e.message)
        default: return WireError(.internalError, e.message)
        }
    }
}
