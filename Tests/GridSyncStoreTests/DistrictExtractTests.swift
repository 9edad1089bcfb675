import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// What a centre sends to the district: clear fields only, and only what changed.
@Suite struct DistrictExtractTests {
    @Test func noPersonalFieldLeavesAndNamesStayHome() {
        for f in DistrictFields.requests { #expect(!Schema.isSealed(Schema.requests.name, f), "\(f) is personal") }
        for f in DistrictFields.services { #expect(!Schema.isSealed(Schema.services.name, f), "\(f) is personal") }
        #expect(!DistrictFields.requests.contains("assigned_person"))
        #expect(!DistrictFields.services.contains("contact") && !DistrictFields.services.contains("provider"))
        // Every clear request field but the withheld one goes (a new clear field is pushed too).
        let clear = Schema.requests.specs.map(\.name).filter { !Schema.isSealed(Schema.requests.name, $0) && $0 != "assigned_person" }
        #expect(DistrictFields.requests == clear)
    }

    @Test func anExtractHoldsWhatChangedSinceAPosition() throws {
        let dir = TempDir()
        let centre = try Store.create(path: dir.file("c.db"), name: "中心", role: .centre, grid: nil, building: nil)
        let a = try centre.addRequest(Fixture.sampleRequest(title: "一"))
        let b = try centre.addRequest(Fixture.sampleRequest(title: "二"))
        let all = try centre.districtExtract(since: 0)
        #expect(Set(all.requests.map(\.id)) == [a, b] && all.through > 0)
        #expect(all.requests.allSatisfy { $0.category == "居家养老" && $0.createdAt.flatMap(Timestamp.parse) != nil })
        #expect(try centre.districtExtract(since: all.through).requests.isEmpty)
        _ = try centre.transition(b, .accept)
        let next = try centre.districtExtract(since: all.through)
        #expect(next.requests.map(\.id) == [b] && next.requests[0].status == "accepted" && next.through > all.through)
        // Its report record is the clear part gridsync report computes from.
        #expect(next.requests[0].record?.resident == nil && next.requests[0].record?.status == .accepted)
    }
}
