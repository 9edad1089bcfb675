import Foundation
import GridSyncCore
import GridSyncStore
import GridSyncWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A running node: a listener, a dialer per configured peer, one ``SessionHandler`` per
/// connection, and a watcher that notices writes made to the store by other processes (the
/// CLI) and pushes them to every peer.
///
/// All store work runs on one serial queue, off the event loops.
public final class SyncNode: Sendable {
    public struct Configuration: Sendable {
        /// Where to listen, or nil to only dial.
        public var listen: (host: String, port: Int)?
        /// Where to serve Prometheus metrics over HTTP (`/metrics`), or nil for nowhere.
        public var metrics: (host: String, port: Int)?
        /// Mutual TLS with this identity on every connection, or nil for plaintext (local
        /// testing only: anyone who can reach the port then reads and writes the registers).
        public var tls: NodeTLS?
        /// Who may connect when TLS is on; nil (the default): the store's community centre
        /// and active roster members (``SyncNode/admission(of:in:)``). A benchmark of stores
        /// outside any community admits every key to measure TLS alone.
        public var admit: NodeTLS.Admission?
        /// Peers to dial, as `host:port`.
        public var peers: [String] = []
        public var sync = SyncStateMachine.Configuration()
        /// How often the store is checked for writes by other processes.
        public var pollInterval: TimeAmount = .milliseconds(250)
        /// Longest wait between two dial attempts.
        public var maxBackoff: TimeAmount = .seconds(60)
        /// A connection whose peer has not proved its node key and sent HELLO by then is closed.
        public var handshakeDeadline: TimeAmount = .seconds(10)
        /// Inbound connections not yet identified, from one address and in all; more are
        /// closed at once, so strangers cannot use up the daemon's file descriptors.
        public var maxUnidentifiedPerAddress = 8
        public var maxUnidentified = 64
        /// Called on a connection's event loop for each ``Event``; must return quickly.
        public var onEvent: (@Sendable (Event) -> Void)?

        public init() {}
    }

    /// What a node reports to ``Configuration/onEvent`` as it happens.
    public enum Event: Sendable, Equatable {
        /// A TCP connection to or from `peer` is open (before HELLO).
        case connected(peer: String)
    }

    /// The page cache a daemon gives its store: syncing applies modest batches, and the
    /// daemon runs for months beside other programs.
    public static let storeCacheMiB = 16

    public let store: Store
    /// What the metrics endpoint shows; kept up to date whether or not it is served.
    public let metrics = NodeMetrics()
    let configuration: Configuration
    let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let storeQueue = DispatchQueue(label: "gridsync.store")

    private struct Session {
        /// Which connection registered: a newer connection from the same peer takes over the
        /// key, and the older one must not remove it when it closes.
        var token: ObjectIdentifier
        var loop: any EventLoop
        /// The node on the other end, once HELLO named it: then the session counts as a
        /// connected peer.
        var peer: NodeID?
        var notify: @Sendable () -> Void
        var shutdown: @Sendable () -> Void
    }

    private struct State {
        var sessions: [String: Session] = [:]
        var listener: (any Channel)?
        var metricsListener: (any Channel)?
        var stopped = false
        var lastPosition: Int64 = 0
        var lastPeerWrite: [String: UInt64] = [:]
        /// Latest "in sync" state not yet written because of the throttle, per peer.
        var pendingPeerWrite: [String: (direction: String, vector: VersionVector)] = [:]
        var poller: RepeatedTask?
        /// Inbound connections not yet identified, per remote address.
        var unidentified: [String: Int] = [:]
        var unidentifiedTotal = 0
        /// Connections refused for the limits since the last log line about it, and when that was.
        var refusedForLimits = 0
        var lastLimitLogMs: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Bytes on the wire since start, all connections together.
    public struct Traffic: Sendable, Equatable {
        public var sent: UInt64 = 0
        public var received: UInt64 = 0
    }

    private let traffic = NIOLockedValueBox(Traffic())
    private let tlsContexts: (server: NIOSSLContext, client: NIOSSLContext)?
    /// The community, as the store said when the node was made (a node does not change
    /// community while it runs).
    let community: CommunityInfo?

    /// Bytes sent and received so far.
    public var trafficTotals: Traffic { traffic.withLockedValue { $0 } }

    public init(store: Store, configuration: Configuration, logger: Logger) throws {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        community = try store.community()
        tlsContexts = try configuration.tls.map {
            (try NIOSSLContext(configuration: $0.configuration(server: true)), try NIOSSLContext(configuration: $0.configuration(server: false)))
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Why `peer` may not connect to or be dialed by this node, or nil if it may: it must be
    /// the community's centre or an active member of its roster.
    public static func admission(of peer: NodeID, in store: Store) -> String? {
        do {
            return try store.membership().refusal(of: peer)
        } catch {
            return "cannot read the roster: \(error)"
        }
    }

    static func nowMs() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    /// Starts listening and dialing. Returns the address actually bound (port 0 picks one).
    @discardableResult
    public func start() throws -> SocketAddress? {
        try store.resetPeerConnections()
        // The watcher's baseline comes before any session starts: a write after this point is
        // either in a session's first fetch or seen as a change by the watcher.
        let position = try store.logPosition()
        state.withLockedValue { $0.lastPosition = position }
        var bound: SocketAddress?
        if let listen = configuration.listen {
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] channel in
                    let key = "in:" + (channel.remoteAddress?.description ?? "?")
                    guard let release = self.admitUnidentified(from: channel.remoteAddress?.ipAddress ?? "?") else {
                        return channel.close()
                    }
                    return self.configure(channel, peerKey: key, direction: "in", release: release)
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: listen.host, port: listen.port).wait()
            bound = channel.localAddress
            state.withLockedValue { $0.listener = channel }
            logger.info("listening on \(channel.localAddress?.description ?? "?")")
        }
        for peer in configuration.peers { dial(peer, attempt: 0) }
        let poller = group.next().scheduleRepeatedTask(initialDelay: configuration.pollInterval, delay: configuration.pollInterval) { [self] _ in
            self.onStoreQueue { store in
                let position = try store.logPosition()
                let changed = self.state.withLockedValue { s -> Bool in
                    defer { s.lastPosition = position }
                    return position != s.lastPosition
                }
                // Also fires after this daemon's own applies (which already notified the other
                // sessions): harmless, a fetch that finds nothing, and it is what guarantees a CLI
                // write committed at the same moment reaches every peer, the source one included.
                if changed {
                    self.storeDidChange(except: nil)
                    self.dropRevokedSessions(store)
                }
            } failed: { error in
                self.logger.warning("cannot read the store: \(error)")
            }
        }
        state.withLockedValue { $0.poller = poller }
        if let address = configuration.metrics {
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] channel in
                    channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler { loop in self.renderMetrics(on: loop) })
                    }
                }
                .bind(host: address.host, port: address.port).wait()
            state.withLockedValue { $0.metricsListener = channel }
            logger.info("metrics on http://\(address.host):\(channel.localAddress?.port ?? address.port)/metrics")
        }
        return bound
    }

    /// The address the metrics endpoint is bound to, once started with ``Configuration/metrics``.
    public var metricsAddress: SocketAddress? {
        state.withLockedValue { $0.metricsListener?.localAddress }
    }

    /// Brings the gauges that mirror the store and the sessions up to date, then renders every
    /// family. The store is read on the store queue, like every other store access.
    func renderMetrics(on loop: any EventLoop) -> EventLoopFuture<[UInt8]> {
        let promise = loop.makePromise(of: [UInt8].self)
        let metrics = metrics
        let connected = state.withLockedValue { $0.sessions.values.filter { $0.peer != nil }.count }
        metrics.peersConnected.set(to: Double(connected))
        metrics.countTraffic(trafficTotals)
        onStoreQueue { store in
            let attention = try store.attention()
            metrics.openConflicts.set(to: Double(attention.conflicts))
            metrics.quarantined.set(to: Double(attention.quarantined))
            metrics.ownRefused.set(to: Double(attention.ownRefused))
            promise.succeed(metrics.render())
        } failed: { error in
            promise.fail(error)
        }
        return promise.futureResult
    }

    /// Tells every peer the node is stopping, closes every connection and the listener.
    public func stop() {
        let (sessions, listeners) = state.withLockedValue { s -> ([Session], [any Channel]) in
            s.stopped = true
            s.poller?.cancel()
            return (Array(s.sessions.values), [s.listener, s.metricsListener].compactMap { $0 })
        }
        for listener in listeners { try? listener.close().wait() }
        // Each session sends ERROR "shutting down" and closes.
        for session in sessions { session.loop.execute(session.shutdown) }
        Thread.sleep(forTimeInterval: 0.2)
        storeQueue.sync {}
        try? store.resetPeerConnections()
        try? group.syncShutdownGracefully()
    }

    /// Counts a new inbound connection from `address` as unidentified, or returns nil when
    /// that address or the node already has as many as the limits allow. The closure returned
    /// gives the place back.
    private func admitUnidentified(from address: String) -> (@Sendable () -> Void)? {
        let now = SyncNode.nowMs()
        let (admitted, report) = state.withLockedValue { s -> (Bool, Int?) in
            if s.unidentifiedTotal < configuration.maxUnidentified, s.unidentified[address, default: 0] < configuration.maxUnidentifiedPerAddress {
                s.unidentified[address, default: 0] += 1
                s.unidentifiedTotal += 1
                return (true, nil)
            }
            s.refusedForLimits += 1
            guard now - s.lastLimitLogMs >= 10_000 else { return (false, nil) }
            defer { s.refusedForLimits = 0; s.lastLimitLogMs = now }
            return (false, s.refusedForLimits)
        }
        if let report {
            logger.warning("closed \(report) connection(s) at once: too many not yet identified (from \(address), or in all); limits \(configuration.maxUnidentifiedPerAddress) per address, \(configuration.maxUnidentified) in all")
        }
        guard admitted else { return nil }
        return { [self] in
            self.state.withLockedValue { s in
                s.unidentifiedTotal -= 1
                s.unidentified[address, default: 1] -= 1
                if s.unidentified[address] == 0 { s.unidentified[address] = nil }
            }
        }
    }

    private func configure(_ channel: any Channel, peerKey: String, direction: String, release: (@Sendable () -> Void)? = nil) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(HandshakeDeadline(deadline: self.configuration.handshakeDeadline, release: release))
            try sync.addHandler(ByteCounter(self.traffic))
            var verified: VerifiedPeer?
            if let tls = self.configuration.tls, let contexts = self.tlsContexts {
                let peer = VerifiedPeer()
                verified = peer
                let store = self.store
                let logger = self.logger
                let server = direction == "in"
                try sync.addHandler(try tls.handler(
                    server: server, context: server ? contexts.server : contexts.client, verified: peer,
                    admit: self.configuration.admit ?? { SyncNode.admission(of: $0, in: store) },
                    refused: { id, reason in
                        logger.warning("refused \(server ? "connection from" : "peer at") \(peerKey)\(id.map { " (node \($0.text))" } ?? ""): \(reason)")
                    }))
            }
            try sync.addHandler(ByteToMessageHandler(MessageFrameDecoder()))
            try sync.addHandler(MessageToByteHandler(MessageFrameEncoder()))
            try sync.addHandler(SessionHandler(node: self, peerKey: peerKey, direction: direction, verified: verified))
        }
    }

    private func dial(_ peer: String, attempt: Int) {
        guard !state.withLockedValue({ $0.stopped }) else { return }
        guard let colon = peer.lastIndex(of: ":"), let port = Int(peer[peer.index(after: colon)...]) else {
            logger.error("peer address '\(peer)' is not HOST:PORT; not dialing it")
            return
        }
        let host = String(peer[..<colon])
        let started = SyncNode.nowMs()
        ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in self.configure(channel, peerKey: peer, direction: "out") }
            .connect(host: host, port: port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    channel.closeFuture.whenComplete { _ in
                        // A connection that lasted resets the backoff.
                        let lasted = SyncNode.nowMs() - started > 10_000
                        self.redial(peer, attempt: lasted ? 0 : attempt + 1)
                    }
                case .failure(let error):
                    let reason = NodeTLS.describe(error)
                    self.recordPeer(peer, direction: "out") {
                        $0.connected = false
                        $0.error = "cannot connect: \(reason)"
                    }
                    // One line per attempt: the backoff spaces them out (up to a minute apart).
                    let wait = self.redial(peer, attempt: attempt + 1)
                    self.logger.warning("cannot connect to \(peer): \(reason); trying again in \(wait / 1000) s")
                }
            }
    }

    /// Dials `peer` again after a backoff with jitter; returns the wait in milliseconds.
    @discardableResult
    private func redial(_ peer: String, attempt: Int) -> Int64 {
        guard !state.withLockedValue({ $0.stopped }) else { return 0 }
        let capMs = Double(configuration.maxBackoff.nanoseconds / 1_000_000)
        let baseMs = min(capMs, 500 * pow(2, Double(min(attempt, 20))))
        let delayMs = Int64(baseMs * Double.random(in: 0.5...1.0))
        group.next().scheduleTask(in: .milliseconds(delayMs)) { [self] in self.dial(peer, attempt: attempt) }
        return delayMs
    }

    // MARK: For sessions

    func register(
        _ key: String, token: ObjectIdentifier, loop: any EventLoop, peer: NodeID?,
        notify: @escaping @Sendable () -> Void, shutdown: @escaping @Sendable () -> Void
    ) {
        state.withLockedValue { $0.sessions[key] = Session(token: token, loop: loop, peer: peer, notify: notify, shutdown: shutdown) }
    }

    /// The session under `key` has exchanged HELLO with `peer`.
    func markIdentified(_ key: String, peer: NodeID) {
        state.withLockedValue { $0.sessions[key]?.peer = peer }
    }

    /// With TLS, closes the sessions of peers the roster no longer admits (a revocation that
    /// just arrived or was just made): they cannot reconnect either. Runs on the store queue.
    private func dropRevokedSessions(_ store: Store) {
        guard configuration.tls != nil, configuration.admit == nil else { return }
        let sessions = state.withLockedValue { $0.sessions }
        guard sessions.values.contains(where: { $0.peer != nil }) else { return }
        guard let membership = try? store.membership() else { return }
        for (key, session) in sessions {
            guard let peer = session.peer, let reason = membership.refusal(of: peer) else { continue }
            logger.warning("closing the session with \(key): \(reason)")
            session.loop.execute(session.shutdown)
        }
    }

    /// Removes the session under `key` if it is still the one `token` registered; returns
    /// whether it was.
    @discardableResult
    func unregister(_ key: String, token: ObjectIdentifier) -> Bool {
        state.withLockedValue { s in
            guard s.sessions[key]?.token == token else { return false }
            s.sessions[key] = nil
            return true
        }
    }

    /// Every session but `except` pushes what its peer lacks.
    func storeDidChange(except: String?) {
        let sessions = state.withLockedValue { $0.sessions }
        for (key, session) in sessions where key != except {
            session.loop.execute(session.notify)
        }
    }

    func onStoreQueue(_ body: @escaping @Sendable (Store) throws -> Void, failed: @escaping @Sendable (any Error) -> Void) {
        let store = store
        storeQueue.async {
            do { try body(store) } catch { failed(error) }
        }
    }

    func recordPeer(_ key: String, direction: String, _ change: @escaping @Sendable (inout PeerUpdate) -> Void) {
        var update = PeerUpdate(direction: direction)
        change(&update)
        let u = update
        onStoreQueue { store in try store.updatePeer(key, u) } failed: { [logger] error in
            logger.warning("cannot record peer status: \(error)")
        }
    }

    /// Records "in sync" at most once a second per peer, so live pushes do not each cost a
    /// write; a state held back by the throttle is written when the second is up.
    func recordPeerThrottled(_ key: String, direction: String, vector: VersionVector) {
        let now = SyncNode.nowMs()
        let (due, scheduleFlush) = state.withLockedValue { s -> (Bool, Bool) in
            if let last = s.lastPeerWrite[key], now - last < 1_000 {
                let first = s.pendingPeerWrite[key] == nil
                s.pendingPeerWrite[key] = (direction, vector)
                return (false, first)
            }
            s.lastPeerWrite[key] = now
            s.pendingPeerWrite[key] = nil
            return (true, false)
        }
        if due {
            recordPeer(key, direction: direction) {
                $0.syncedNow = true
                $0.peerVector = vector
            }
        } else if scheduleFlush {
            group.next().scheduleTask(in: .seconds(1)) { [self] in
                let pending = self.state.withLockedValue { s -> (direction: String, vector: VersionVector)? in
                    defer { s.pendingPeerWrite[key] = nil }
                    return s.pendingPeerWrite[key]
                }
                if let pending { self.recordPeerThrottled(key, direction: pending.direction, vector: pending.vector) }
            }
        }
    }
}
