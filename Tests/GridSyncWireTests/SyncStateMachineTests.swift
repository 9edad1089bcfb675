import GridSyncCore
import GridSyncStore
import Testing

@testable import GridSyncWire

/// Two state machines wired together through in-memory message queues, each backed by a real
/// (in-memory SQLite) store: the whole protocol without sockets.
struct Pair {
    struct Side {
        var machine: SyncStateMachine
        let store: Store
        var inbox: [Message] = []
        var closed: WireError?? = nil
        var caughtUp = 0
        var batchesSent = 0
        var changesSent = 0
        var inFlight = 0
        var maxInFlight = 0
    }

    var a: Side
    var b: Side
    var now: UInt64 = 1_000

    init(_ storeA: Store, _ storeB: Store, configuration: SyncStateMachine.Configuration = .init()) {
        func hello(_ s: Store) -> Message.Hello { Message.Hello(node: s.node.id, role: .centre, name: s.node.name) }
        a = Side(machine: SyncStateMachine(local: hello(storeA), configuration: configuration, nowMs: 1_000), store: storeA)
        b = Side(machine: SyncStateMachine(local: hello(storeB), configuration: configuration, nowMs: 1_000), store: storeB)
    }

    mutating func start() throws {
        let va = try a.store.vector()
        let vb = try b.store.vector()
        let actionsA = a.machine.start(localVector: va, nowMs: now)
        let actionsB = b.machine.start(localVector: vb, nowMs: now)
        try perform(actionsA, fromA: true)
        try perform(actionsB, fromA: false)
    }

    /// Carries out actions of side A (`fromA`) or B, recursively for store answers.
    mutating func perform(_ actions: [SyncStateMachine.Action], fromA: Bool) throws {
        for action in actions {
            var side = fromA ? a : b
            var follow: [SyncStateMachine.Action] = []
            switch action {
            case .send(let m):
                if case .changes(let batch) = m {
                    side.batchesSent += 1
                    side.changesSent += batch.changes.count
                    side.inFlight += 1
                    side.maxInFlight = max(side.maxInFlight, side.inFlight)
                }
                // Through the real codec, as on the wire.
                let decoded = try MessageCodec.decode(MessageCodec.encode(m))
                if fromA { b.inbox.append(decoded) } else { a.inbox.append(decoded) }
                side.inbox = fromA ? a.inbox : b.inbox
            case .fetch(let vector, let maxChanges, let maxBytes):
                let (changes, more) = try side.store.encodedChanges(missingFrom: vector, maxChanges: maxChanges, maxBytes: maxBytes)
                follow = side.machine.fetched(changes, more: more, nowMs: now)
            case .apply(let batch, let changes):
                do {
                    let (_, vector) = try side.store.apply(encoded: changes)
                    follow = side.machine.applied(batch: batch, vector: vector, nowMs: now)
                } catch let e as GridSyncError {
                    follow = side.machine.applyFailed(batch: batch, error: WireError(.malformedChange, e.message))
                }
            case .peerIdentified:
                break
            case .caughtUp:
                side.caughtUp += 1
            case .close(let error):
                side.closed = .some(error)
            }
            side.inbox = fromA ? a.inbox : b.inbox
            if fromA { a = side } else { b = side }
            try perform(follow, fromA: fromA)
        }
    }

    /// Delivers queued messages until both inboxes are empty.
    mutating func run(maxSteps: Int = 100_000) throws {
        var steps = 0
        while !a.inbox.isEmpty || !b.inbox.isEmpty {
            steps += 1
            precondition(steps < maxSteps, "protocol did not settle")
            if !a.inbox.isEmpty, a.closed == nil {
                let m = a.inbox.removeFirst()
                if case .ack = m { a.inFlight -= 1 }
                try perform(a.machine.receive(m, nowMs: now), fromA: true)
            } else if !a.inbox.isEmpty { a.inbox.removeAll() }
            if !b.inbox.isEmpty, b.closed == nil {
                let m = b.inbox.removeFirst()
                if case .ack = m { b.inFlight -= 1 }
                try perform(b.machine.receive(m, nowMs: now), fromA: false)
            } else if !b.inbox.isEmpty { b.inbox.removeAll() }
        }
    }
}

@Suite struct SyncStateMachineTests {
    static func store(_ name: String) throws -> Store { try Store.inMemory(name: name, role: .centre) }

    static func addRequests(_ s: Store, _ n: Int) throws {
        for i in 0..<n {
            _ = try s.addRequest(NewRequest(grid: "1", building: "2", resident: "居民", category: "物业", title: "需求\(i)"))
        }
    }

    @Test func twoStoresConvergeAndReportCaughtUp() throws {
        let a = try Self.store("中心")
        let b = try Self.store("网格")
        try Self.addRequests(a, 30)
        try Self.addRequests(b, 5)
        var pair = Pair(a, b)
        try pair.start()
        try pair.run()
        #expect(try a.digest() == b.digest())
        #expect(try a.vector() == b.vector())
        #expect(pair.a.closed == nil && pair.b.closed == nil)
        #expect(pair.a.caughtUp >= 1 && pair.b.caughtUp >= 1)
        #expect(pair.a.machine.isPeerUpToDate && pair.b.machine.isPeerUpToDate)
        // Exactly the missing changes crossed: 31 from A (profile + 30), 6 from B.
        #expect(pair.a.changesSent == 31 && pair.b.changesSent == 6)
    }

    @Test func aPeerWithNothingToSendStillSaysCaughtUp() throws {
        let a = try Self.store("中心")
        let b = try Self.store("网格")
        try Self.addRequests(a, 13)
        var first = Pair(a, b)
        try first.start()
        try first.run()
        // Reconnect with nothing new on either side: each receives one empty caught-up batch.
        var again = Pair(a, b)
        try again.start()
        try again.run()
        #expect(again.a.caughtUp == 1 && again.b.caughtUp == 1)
        #expect(again.a.changesSent == 0 && again.b.changesSent == 0)
        #expect(again.a.batchesSent == 1 && again.b.batchesSent == 1)
    }

    @Test func aPeerOfAnotherCommunityIsRefusedButOneWithoutACommunityIsNot() {
        let ours = [UInt8](repeating: 7, count: 20) + [UInt8](repeating: 0, count: 12)
        let theirs = [UInt8](repeating: 8, count: 20) + [UInt8](repeating: 0, count: 12)
        let none = [UInt8](repeating: 0, count: 32)
        for (peerCommunity, refused) in [(theirs, true), (ours, false), (none, false)] {
            var m = SyncStateMachine(local: Message.Hello(node: Samples.keyA.nodeID, community: ours, role: .centre, name: "a"), nowMs: 0)
            _ = m.start(localVector: VersionVector(), nowMs: 0)
            let actions = m.receive(.hello(Message.Hello(node: Samples.keyB.nodeID, community: peerCommunity, role: .grid, name: "b")), nowMs: 0)
            let closed = actions.contains { if case .close(let e) = $0 { e?.code == .notPermitted } else { false } }
            #expect(closed == refused)
        }
    }

    @Test func aLastBatchSentWithoutTheFlagIsFollowedByAnEmptyCaughtUpBatch() {
        let me = Message.Hello(node: Samples.keyA.nodeID, role: .centre, name: "a")
        var m = SyncStateMachine(local: me, nowMs: 0)
        _ = m.start(localVector: VersionVector(), nowMs: 0)
        _ = m.receive(.hello(Message.Hello(node: Samples.keyB.nodeID, role: .grid, name: "b")), nowMs: 0)
        #expect(m.receive(.vector(VersionVector()), nowMs: 0).count == 1)  // fetch
        // The store changes while the fetch runs: the batch cannot claim the peer is caught up.
        #expect(m.storeChanged(nowMs: 0).isEmpty)
        let changes = Samples.chain(Samples.keyA, count: 2).map(\.encoded)
        let first = m.fetched(changes, more: false, nowMs: 0)
        #expect(first.first == .send(.changes(Message.Batch(id: 1, caughtUp: false, changes: changes))))
        // The next fetch finds nothing new: an empty batch says so.
        guard case .fetch(let missing, _, _) = first.last else { Issue.record("no second fetch"); return }
        #expect(missing[Samples.keyA.nodeID] == 2)
        #expect(m.fetched([], more: false, nowMs: 0) == [.send(.changes(Message.Batch(id: 2, caughtUp: true, changes: [])))])
        // Told once: further empty fetches send nothing.
        _ = m.receive(.ack(batch: 1, vector: VersionVector([Samples.keyA.nodeID: 2])), nowMs: 0)
        _ = m.receive(.ack(batch: 2, vector: VersionVector([Samples.keyA.nodeID: 2])), nowMs: 0)
        #expect(m.storeChanged(nowMs: 0).count == 1)
        #expect(m.fetched([], more: false, nowMs: 0).isEmpty)
        #expect(m.isPeerUpToDate)
    }

    @Test func batchesRespectTheLimitsAndTheWindow() throws {
        let a = try Self.store("中心")
        let b = try Self.store("网格")
        try Self.addRequests(a, 50)
        var config = SyncStateMachine.Configuration()
        config.maxBatchChanges = 7
        config.window = 2
        var pair = Pair(a, b, configuration: config)
        try pair.start()
        try pair.run()
        #expect(try a.digest() == b.digest())
        #expect(pair.a.batchesSent == 8)  // 51 changes, 7 per batch
        #expect(pair.a.maxInFlight == 2)  // never more than the window unacknowledged
    }

    @Test func liveChangesArePushedAndNeverEchoed() throws {
        let a = try Self.store("中心")
        let b = try Self.store("网格")
        var pair = Pair(a, b)
        try pair.start()
        try pair.run()
        let sentBefore = (pair.a.changesSent, pair.b.changesSent)
        try Self.addRequests(a, 3)
        try pair.perform(pair.a.machine.storeChanged(nowMs: pair.now), fromA: true)
        try pair.run()
        #expect(try a.digest() == b.digest())
        #expect(pair.a.changesSent == sentBefore.0 + 3)
        // B received them; its store changed, but it must not send them back.
        try pair.perform(pair.b.machine.storeChanged(nowMs: pair.now), fromA: false)
        try pair.run()
        #expect(pair.b.changesSent == sentBefore.1)
    }

    @Test func aBadBatchGetsAnErrorAndClosesButEarlierBatchesStay() throws {
        let a = try Self.store("中心")
        let b = try Self.store("网格")
        var m = SyncStateMachine(local: Message.Hello(node: b.node.id, role: .grid, name: "b"), nowMs: 0)
        _ = m.start(localVector: try b.vector(), nowMs: 0)
        _ = m.receive(.hello(Message.Hello(node: a.node.id, role: .centre, name: "a")), nowMs: 0)
        _ = m.receive(.vector(VersionVector()), nowMs: 0)
        try Self.addRequests(a, 3)
        var good = try a.encodedChanges(missingFrom: VersionVector(), maxChanges: 2, maxBytes: 1 << 20).changes
        #expect(m.receive(.changes(Message.Batch(id: 1, caughtUp: false, changes: good)), nowMs: 0) == [.apply(batch: 1, changes: good)])
        let (_, v1) = try b.apply(encoded: good)
        _ = m.applied(batch: 1, vector: v1, nowMs: 0)
        let rest = try a.encodedChanges(missingFrom: v1, maxChanges: 10, maxBytes: 1 << 20).changes
        good = Array(rest.dropFirst())  // skips one: a gap
        _ = m.receive(.changes(Message.Batch(id: 2, caughtUp: true, changes: good)), nowMs: 0)
        let e = #expect(throws: GridSyncError.self) { try b.apply(encoded: good) }
        #expect(e?.code == .seqGap)
        let actions = m.applyFailed(batch: 2, error: WireError(.seqGap, e?.message ?? ""))
        guard case .close(let sending?) = actions.first else { Issue.record("no close"); return }
        #expect(sending.code == .seqGap)
        #expect(try b.vector() == v1)
        #expect(m.receive(.ping(1), nowMs: 0).isEmpty)  // closed: ignores everything
    }

    @Test func protocolViolationsClose() {
        let me = Message.Hello(node: Samples.keyA.nodeID, role: .centre, name: "a")
        let peer = Message.Hello(node: Samples.keyB.nodeID, role: .grid, name: "b")
        func fresh() -> SyncStateMachine { SyncStateMachine(local: me, nowMs: 0) }

        var m = fresh()
        #expect(m.receive(.vector(VersionVector()), nowMs: 0) == [.close(sending: WireError(.protocolViolation, "unexpected vector message while awaitingHello"))])

        m = fresh()
        var old = peer
        old.version = 99
        guard case .close(let e?) = m.receive(.hello(old), nowMs: 0).first else { Issue.record("no close"); return }
        #expect(e.code == .unsupportedVersion)

        m = fresh()
        guard case .close(let self_?) = m.receive(.hello(me), nowMs: 0).first else { Issue.record("no close"); return }
        #expect(self_.code == .protocolViolation)

        m = fresh()
        _ = m.receive(.hello(peer), nowMs: 0)
        _ = m.receive(.vector(VersionVector()), nowMs: 0)
        guard case .close(let ack?) = m.receive(.ack(batch: 5, vector: VersionVector()), nowMs: 0).first else { Issue.record("no close"); return }
        #expect(ack.code == .protocolViolation)
    }

    @Test func keepaliveAndIdleTimeout() {
        var config = SyncStateMachine.Configuration()
        config.keepaliveMs = 10_000
        config.idleTimeoutMs = 30_000
        var m = SyncStateMachine(local: Message.Hello(node: Samples.keyA.nodeID, role: .centre, name: "a"), configuration: config, nowMs: 0)
        _ = m.start(localVector: VersionVector(), nowMs: 0)
        #expect(m.tick(nowMs: 5_000).isEmpty)
        #expect(m.tick(nowMs: 10_000) == [.send(.ping(1))])
        #expect(m.receive(.ping(7), nowMs: 12_000) == [.send(.pong(7))])
        #expect(m.tick(nowMs: 41_999) == [.send(.ping(2))])  // ping again, nothing received since 12 s
        guard case .close(let e?) = m.tick(nowMs: 42_000).first else { Issue.record("no close"); return }
        #expect(e.code == .idleTimeout)
    }

    @Test func peerErrorClosesWithoutAnswering() {
        var m = SyncStateMachine(local: Message.Hello(node: Samples.keyA.nodeID, role: .centre, name: "a"), nowMs: 0)
        #expect(m.receive(.error(WireError(.fork, "x")), nowMs: 0) == [.close(sending: nil)])
    }
}
