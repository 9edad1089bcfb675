import Foundation
import GridSyncCore
import PropertyBased
import Synchronization
import Testing

@testable import GridSyncStore

/// The one write policy, checked as a property: whatever a node's own store lets it write, a
/// receiver holding the same data and roster accepts, and whatever its store refuses, a
/// receiver refuses too (received as a hand-made change signed by that node).
@Suite struct WritePolicyPropertyTests {
    /// The community of ``Community`` with requests in 1/3, 1/4 and 2/7, a service and a note.
    struct Scenario {
        let c: Community
        let requests: [String]
        let service: String
        let note: String

        init() throws {
            let c = try Community()
            self.c = c
            let requests = try [("1", "3"), ("1", "4"), ("2", "7")].map {
                try c.centre.addRequest(Fixture.sampleRequest(grid: $0.0, building: $0.1))
            }
            self.requests = requests
            var s = ServiceInput()
            s.name = "助老送餐"
            service = try c.centre.addService(s)
            try c.syncAll()
            note = try c.b3.note(requests[0], text: "已上门")
            try c.syncAll()
        }

        /// What attempt `n` writes: (collection, record, field, value) sets.
        func sets(_ n: Int, writer: Store) -> [PendingChange.Set] {
            func set(_ collection: String, _ record: String, _ fields: [(String, FieldValue)]) -> [PendingChange.Set] {
                fields.map { PendingChange.Set(collection: collection, record: record, field: $0.0, value: $0.1) }
            }
            let fresh = String(format: "%032x", n &* 2654435761 & 0xFFFF_FFFF)
            let r = requests[n % 3]
            switch (n / 3) % 16 {
            case 0: return set("requests", r, [("title", .text("改标题"))])
            case 1: return set("requests", r, [("building", .text(["3", "4", "7"][n % 3 == 2 ? 0 : (n / 48) % 3]))])
            case 2: return set("requests", r, [("grid", .text(["1", "2"][(n / 48) % 2])), ("building", .text("3"))])
            case 3:
                return set(
                    "requests", fresh,
                    [("grid", .text(["1", "2"][n % 2])), ("building", .text(["3", "4", "7"][(n / 48) % 3])), ("title", .text("新"))])
            case 4: return set("requests", fresh, [("title", .text("无处安放"))])
            case 5: return set("requests", r, [(Schema.deletedField, .int(1))])
            case 6: return set("services", service, [("contact", .text("王老师"))])
            case 7: return set("services", fresh, [("name", .text("新服务"))])
            case 8: return set("notes", note, [("text", .text("改写"))])
            case 9: return set("notes", fresh, [("request", .text(r)), ("text", .text("跟进"))])
            case 10: return set("notes", fresh, [("request", .text(r)), ("text", .text("冒名")), ("author", .text(c.centre.node.id.text))])
            case 11: return set("categories", Store.categoryID("新类\(n)"), [("name", .text("新类\(n)"))])
            case 12: return set("roster", c.b3.node.id.rosterRecord, [("role", .text("grid"))])
            case 13: return set("nodes", writer.node.id.text, [("name", .text("新名字"))])
            case 14: return set("nodes", c.centre.node.id.text, [("name", .text("冒名"))])
            default: return set("widgets", fresh, [("name", .text("?"))])
            }
        }
    }

    /// Runs `script` (each value picks a writer, a receiver and a write) and checks the property
    /// after every step; returns whether each write was accepted locally.
    @discardableResult
    static func check(_ script: [Int]) throws -> Set<Bool> {
        var outcomes: Set<Bool> = []
        let s = try Scenario()
        for v in script {
            let writer = s.c.all[v % 4]
            let receiver = s.c.all[(v % 4 + 1 + (v / 4) % 3) % 4]
            let sets = s.sets(v / 4, writer: writer)
            var local: SignedChange?
            do {
                local = try writer.localSet(sets)
            } catch let e as GridSyncError {
                #expect(e.code == .notPermitted, "\(e)")
            }
            // Refused locally: the same ops, signed by the writer and applied in its own
            // log too (void there as everywhere), so that the stores stay alike.
            let sent =
                try local
                ?? {
                    let ops = sets.map { Op(collection: $0.collection, record: $0.record, field: $0.field, value: $0.value, pred: []) }
                    let forged = try s.c.crafted(writer, ops)
                    try writer.apply([forged])
                    return forged
                }()
            let report = try receiver.apply(try writer.changes(missingFrom: try receiver.vector()))
            let refused = report.quarantined.contains { $0.origin == sent.change.origin && $0.seq == sent.change.seq }
            #expect(
                (local != nil) == !refused,
                "attempt \(v / 4) by \(writer.node.name) at \(receiver.node.name): local \(local != nil), receiver refused \(refused) \(report.quarantined.map(\.detail))"
            )
            outcomes.insert(local != nil)
            try s.c.syncAll()
        }
        let digests = try s.c.all.map { try $0.digest() }
        #expect(Set(digests).count == 1)
        return outcomes
    }

    @Test func acceptedLocallyIffAcceptedByAReceiver() async {
        let outcomes = Mutex<Set<Bool>>([])
        await propertyCheck(count: 60, input: Gen.int(in: 0...1_000_000).array(of: 1...6)) { script in
            let seen = try Self.check(script)
            outcomes.withLock { $0.formUnion(seen) }
        }
        // Both sides of the property were exercised.
        #expect(outcomes.withLock { $0 } == [true, false])
    }

    /// Found by the property (2026-12-01): the centre makes building 3's lead a grid node, which
    /// then moves a request within its grid.
    @Test func aLeadMadeAGridNodeMovesARequestAsReceiversAllowIt() throws {
        try Self.check([748184, 194718])
    }
}
