import Foundation
import Testing

@testable import GridSyncCore

/// Checks ``WritePolicy`` against `Protocol/vectors/policy-v1.json`: for each case (a writer's
/// role and scope, what a change does to one record) whether it is allowed. The decisions are
/// normative (Protocol/SPEC.md §7.3); the reasons' words are not. Run with
/// GRIDSYNC_WRITE_VECTORS=1 to regenerate after an intentional change of the rule.
@Suite struct WritePolicyVectorTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/policy-v1.json")

    struct Case: Codable, Equatable {
        var description: String
        var writer_role: String
        var writer_grid: String?
        var writer_building: String?
        var collection: String
        /// "SELF" stands for the writer's node ID text.
        var record: String
        var fields: [String]
        var exists: Bool
        var before: [String?]?
        var after: [String?]?
        var allowed: Bool
    }

    static let writerID = try! NodeKey(seed: Array(repeating: 0x51, count: 32)).nodeID

    static func decide(_ c: Case) -> Bool {
        let writer = Writer(id: writerID, role: NodeRole(rawValue: c.writer_role)!, grid: c.writer_grid, building: c.writer_building)
        func place(_ p: [String?]?) -> Placement? { p.map { Placement(grid: $0[0], building: $0[1]) } }
        let write = RecordWrite(
            collection: c.collection, record: c.record == "SELF" ? writerID.text : c.record, fields: c.fields, exists: c.exists,
            before: place(c.before), after: place(c.after))
        return WritePolicy.check(write, by: writer) == nil
    }

    static func cases() -> [Case] {
        let r = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        func c(
            _ d: String, _ role: String, _ g: String?, _ b: String?, _ coll: String, rec: String = r, _ fields: [String],
            exists: Bool = true,
            before: [String?]? = nil, after: [String?]? = nil
        ) -> Case {
            Case(
                description: d, writer_role: role, writer_grid: g, writer_building: b, collection: coll, record: rec, fields: fields,
                exists: exists, before: before, after: after, allowed: false)
        }
        return [
            c(
                "building creates a request in its building", "building", "1", "3", "requests", ["grid", "building", "title"],
                exists: false, after: ["1", "3"]),
            c(
                "building creates a request in another building", "building", "1", "3", "requests", ["grid", "building", "title"],
                exists: false, after: ["1", "4"]),
            c(
                "building edits its building's request", "building", "1", "3", "requests", ["title"], before: ["1", "3"], after: ["1", "3"]),
            c(
                "building edits another building's request", "building", "1", "3", "requests", ["title"], before: ["1", "4"],
                after: ["1", "4"]),
            c(
                "building moves its request out of its building", "building", "1", "3", "requests", ["building"], before: ["1", "3"],
                after: ["1", "4"]),
            c(
                "building moves another building's request into its own", "building", "1", "3", "requests", ["building"],
                before: ["1", "4"], after: ["1", "3"]),
            c(
                "building writes a request the receiver does not hold and the change does not place", "building", "1", "3", "requests",
                ["title"], exists: false, after: [nil, nil]),
            c(
                "grid moves a request between buildings of its grid", "grid", "1", nil, "requests", ["building"], before: ["1", "3"],
                after: ["1", "4"]),
            c("grid moves a request to another grid", "grid", "1", nil, "requests", ["grid"], before: ["1", "3"], after: ["2", "3"]),
            c("centre moves a request anywhere", "centre", nil, nil, "requests", ["grid"], before: ["1", "3"], after: ["9", "9"]),
            c("grid writes a service", "grid", "1", nil, "services", ["contact"]),
            c("building writes a service (settling a service conflict, say)", "building", "1", "3", "services", ["contact"]),
            c(
                "building adds a note on its building's request", "building", "1", "3", "notes", rec: "aa00aa00aa00aa00aa00aa00aa00aa00",
                ["request", "text"], exists: false, after: ["1", "3"]),
            c(
                "building adds a note on another building's request", "building", "1", "3", "notes",
                rec: "aa00aa00aa00aa00aa00aa00aa00aa00", ["request", "text"], exists: false, after: ["1", "4"]),
            c(
                "building rewrites an existing note", "building", "1", "3", "notes", rec: "aa00aa00aa00aa00aa00aa00aa00aa00", ["text"],
                after: ["1", "3"]),
            c(
                "building sets a note's author", "building", "1", "3", "notes", rec: "aa00aa00aa00aa00aa00aa00aa00aa00",
                ["request", "text", "author"], exists: false, after: ["1", "3"]),
            c("centre sets a note's author", "centre", nil, nil, "notes", rec: "aa00aa00aa00aa00aa00aa00aa00aa00", ["author"]),
            c("centre deletes a note", "centre", nil, nil, "notes", rec: "aa00aa00aa00aa00aa00aa00aa00aa00", ["_deleted"]),
            c("grid writes the roster", "grid", "1", nil, "roster", rec: "member-X", ["role"]),
            c("centre writes the roster", "centre", nil, nil, "roster", rec: "member-X", ["role"]),
            c("building adds a category", "building", "1", "3", "categories", rec: "cat-000000000000", ["name"]),
            c("building publishes its own profile", "building", "1", "3", "nodes", rec: "SELF", ["name"]),
            c("building writes another node's profile", "building", "1", "3", "nodes", rec: "AAAAAAA-AAAAAAA", ["name"]),
            c("grid writes a collection this version does not know", "grid", "1", nil, "widgets", ["name"]),
            c("centre writes a collection this version does not know", "centre", nil, nil, "widgets", ["name"]),
        ].map {
            var x = $0; x.allowed = decide(x); return x
        }
    }

    @Test func policyVectorsMatch() throws {
        let computed = Self.cases()
        if ProcessInfo.processInfo.environment["GRIDSYNC_WRITE_VECTORS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(computed).write(to: Self.path)
        }
        let stored = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.path))
        #expect(stored.count == computed.count)
        for c in stored { #expect(Self.decide(c) == c.allowed, "\(c.description)") }
        // The table says what §7.3 says: spot checks that do not come from the code under test.
        let allowed = Dictionary(uniqueKeysWithValues: stored.map { ($0.description, $0.allowed) })
        #expect(allowed["building creates a request in its building"] == true)
        #expect(allowed["building moves its request out of its building"] == false)
        #expect(allowed["building writes a service (settling a service conflict, say)"] == false)
        #expect(allowed["building rewrites an existing note"] == false)
        #expect(allowed["building sets a note's author"] == false)
        #expect(allowed["centre sets a note's author"] == false)
        #expect(allowed["centre writes a collection this version does not know"] == true)
        #expect(stored.filter(\.allowed).count == 10)
    }
}
