import Foundation
import GridSyncCore
import PropertyBased
import Synchronization
import Testing

@testable import GridSyncStore

/// Replicas that see the same changes, in any causal order and through any pattern of partial
/// exchanges, end with the same content, digest and conflicts.
@Suite struct ConvergenceTests {
    /// Drives three replicas through a script of actions decoded from integers (so the property
    /// library can generate and shrink scripts).
    struct Scenario {
        let replicas: [Store]
        var requestIDs: [[String]] = [[], [], []]

        init() throws {
            replicas = [
                try Store.inMemory(name: "中心", role: .centre),
                try Store.inMemory(name: "网格一", role: .grid, grid: "1"),
                try Store.inMemory(name: "中心备机", role: .centre),
            ]
        }

        mutating func run(_ v: Int) throws {
            let r = v % 3
            let s = replicas[r]
            let pickSeed = v / 18
            func pick() -> String? {
                let ids = requestIDs[r]
                return ids.isEmpty ? nil : ids[pickSeed % ids.count]
            }
            switch (v / 3) % 6 {
            case 0:
                requestIDs[r].append(try s.addRequest(Fixture.sampleRequest(grid: "1", title: "需求\(v)")))
            case 1:
                guard let id = pick() else { return }
                var e = RequestEdit()
                e.title = "标题\(v)"
                if v % 2 == 0 { e.phone = "1380000\(v % 10000)" }
                _ = try? s.editRequest(id, e)
            case 2:
                guard let id = pick() else { return }
                let steps: [LifecycleStep] = [.accept, .start, .resolve, .reopen, .withdraw]
                _ = try? s.transition(id, steps[pickSeed % steps.count], note: v % 4 == 0 ? "跟进\(v)" : nil)
            case 3:
                guard let id = pick() else { return }
                _ = try? s.note(id, text: "记录\(v)")
            case 4:
                // Partial exchange: a causal prefix of what the next replica lacks.
                let to = replicas[(r + 1) % 3]
                let missing = try s.changes(missingFrom: try to.vector())
                let n = missing.isEmpty ? 0 : pickSeed % (missing.count + 1)
                try to.apply(Array(missing.prefix(n)))
                requestIDs[(r + 1) % 3] = try to.requests().map(\.id)
            default:
                if let c = try s.conflicts().first {
                    _ = try? s.resolveConflict(c.id, pick: 1 + pickSeed % c.values.count, value: nil)
                } else if let id = pick(), pickSeed % 5 == 0 {
                    _ = try? s.deleteRequest(id)
                    requestIDs[r].removeAll { $0 == id }
                }
            }
        }

        func syncAll() throws {
            for _ in 0..<2 {
                for a in 0..<3 {
                    for b in 0..<3 where a != b { try Fixture.sync(replicas[a], replicas[b]) }
                }
            }
        }
    }

    @Test func replicasConvergeAfterAnyScript() async {
        let withConflicts = Atomic<Int>(0)
        await propertyCheck(count: 40, input: Gen.int(in: 0...100_000).array(of: 5...60)) { script in
            var scenario = try Scenario()
            for v in script { try scenario.run(v) }
            try scenario.syncAll()
            let snapshots = try scenario.replicas.map(Snapshot.init)
            #expect(snapshots[0] == snapshots[1])
            #expect(snapshots[1] == snapshots[2])
            if !snapshots[0].conflicts.isEmpty { withConflicts.add(1, ordering: .relaxed) }
        }
        // The scripts must actually exercise concurrent writes, or convergence proves little.
        #expect(withConflicts.load(ordering: .relaxed) > 0)
    }

    /// Applies every change of `all` to a fresh store one at a time, in a random order that
    /// respects causality (origin seq order and every pred).
    static func applyInRandomCausalOrder(_ all: [SignedChange], to store: Store, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var pending = all
        var have: [NodeID: UInt64] = [:]
        while !pending.isEmpty {
            let ready = pending.indices.filter { i in
                let c = pending[i].change
                guard c.seq == (have[c.origin] ?? 0) + 1 else { return false }
                return c.ops.allSatisfy { op in op.pred.allSatisfy { (have[$0.origin] ?? 0) >= $0.seq } }
            }
            let i = ready[Int(rng.next() % UInt64(ready.count))]
            let c = pending.remove(at: i)
            try store.apply([c])
            have[c.change.origin] = c.change.seq
        }
    }

    @Test func arrivalOrderDoesNotMatterAndImportIsIdempotent() async {
        await propertyCheck(count: 15, input: Gen.int(in: 0...100_000).array(of: 10...50), Gen<UInt64>.value(in: 0...UInt64.max)) { script, seed in
            var scenario = try Scenario()
            for v in script { try scenario.run(v) }
            try scenario.syncAll()
            let all = try scenario.replicas[0].changes(missingFrom: VersionVector())
            let reference = try Snapshot(scenario.replicas[0])

            let fresh = try Store.inMemory(name: "新电脑", role: .centre)
            try Self.applyInRandomCausalOrder(all, to: fresh, seed: seed)
            var snapshot = try Snapshot(fresh)
            // The fresh store also holds its own profile change.
            #expect(snapshot.digest != reference.digest || all.isEmpty)
            try Fixture.sync(fresh, scenario.replicas[0])
            #expect(try Snapshot(scenario.replicas[0]).requests == reference.requests)
            snapshot = try Snapshot(fresh)
            #expect(snapshot == (try Snapshot(scenario.replicas[0])))

            let again = try fresh.apply(all)
            #expect(again.applied == 0 && again.duplicates == all.count)
            #expect(try Snapshot(fresh) == snapshot)
        }
    }
}

