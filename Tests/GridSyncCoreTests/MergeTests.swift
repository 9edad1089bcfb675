import Testing

@testable import GridSyncCore

@Suite struct MergeTests {
    let a = Sample.keyA.nodeID
    let b = Sample.keyB.nodeID

    @Test func highestHLCWinsThenOrigin() {
        let early = Head(origin: b, seq: 1, hlc: HLC(raw: 10), value: .text("early"))
        let late = Head(origin: a, seq: 1, hlc: HLC(raw: 20), value: .text("late"))
        #expect(MergePolicy.lastWriterWins.winner([early, late]) == late)
        #expect(MergePolicy.lastWriterWins.winner([late, early]) == late)
        let tieA = Head(origin: a, seq: 1, hlc: HLC(raw: 10), value: .text("a"))
        let tieB = Head(origin: b, seq: 1, hlc: HLC(raw: 10), value: .text("b"))
        let expected = a > b ? tieA : tieB
        #expect(MergePolicy.lastWriterWins.winner([tieA, tieB]) == expected)
        #expect(MergePolicy.lastWriterWins.winner([tieB, tieA]) == expected)
    }

    @Test func lifecyclePrefersTheLaterStageOverTheLaterClock() {
        let resolved = Head(origin: a, seq: 1, hlc: HLC(raw: 10), value: .text("resolved"))
        let accepted = Head(origin: b, seq: 1, hlc: HLC(raw: 99), value: .text("accepted"))
        #expect(MergePolicy.lifecycle.winner([accepted, resolved]) == resolved)
        #expect(MergePolicy.lifecycle.sorted([accepted, resolved]) == [resolved, accepted])
    }

    @Test func differentConcurrentValuesAreAConflict() {
        let x = Head(origin: a, seq: 1, hlc: HLC(raw: 1), value: .text("x"))
        let y = Head(origin: b, seq: 1, hlc: HLC(raw: 2), value: .text("y"))
        #expect(FieldMerge.isConflict([x, y]))
        #expect(!FieldMerge.isConflict([x]))
        #expect(!FieldMerge.isConflict([]))
    }

    @Test func equalConcurrentValuesAreNotAConflict() {
        let x1 = Head(origin: a, seq: 1, hlc: HLC(raw: 1), value: .int(0))
        let x2 = Head(origin: b, seq: 1, hlc: HLC(raw: 2), value: .int(0))
        #expect(!FieldMerge.isConflict([x1, x2]))
    }

    @Test func lifecycleTransitions() throws {
        try LifecycleStep.accept.check(from: .submitted, record: "r")
        try LifecycleStep.reopen.check(from: .rated, record: "r")
        let e = #expect(throws: GridSyncError.self) { try LifecycleStep.rate.check(from: .submitted, record: "r") }
        #expect(e?.code == .invalidTransition)
        #expect(e?.localized.zh.contains("已办结") == true && e?.localized.en.contains("resolved") == true)
        for step in LifecycleStep.allCases {
            for from in RequestStatus.allCases where step.allowedFrom.contains(from) {
                #expect(step.target != from || step == .assign, "\(step) from \(from) changes nothing")
            }
        }
    }

    @Test func statusLabelsParse() {
        for s in RequestStatus.allCases {
            #expect(RequestStatus(input: s.label) == s)
            #expect(RequestStatus(input: s.rawValue) == s)
        }
        #expect(Satisfaction(input: "基本满意") == .basicallySatisfied)
    }

    @Test func versionVectorTextRoundTrips() throws {
        let v = VersionVector([a: 3, b: 12])
        #expect(try VersionVector(text: v.text) == v)
        #expect(try VersionVector(text: "") == VersionVector())
        #expect(v.count(missingFrom: VersionVector([a: 1])) == 14)
        #expect(v.covers(VersionVector([a: 3])))
        #expect(!VersionVector([a: 3]).covers(v))
        #expect(throws: GridSyncError.self) { try VersionVector(text: "nonsense") }
    }
}
