import Testing

@testable import GridSyncCore

@Suite struct HLCTests {
    @Test func tickIsStrictlyIncreasingEvenWhenTheWallClockStandsStillOrGoesBack() {
        var clock = HybridClock()
        var last = HLC.zero
        for wall: UInt64 in [1000, 1000, 1000, 999, 500, 1001, 1001] {
            let t = clock.tick(wallMs: wall)
            #expect(t > last)
            last = t
        }
        #expect(last.milliseconds == 1001)
    }

    @Test func counterOverflowCarriesIntoMilliseconds() {
        var clock = HybridClock(last: HLC(milliseconds: 5, counter: .max))
        let t = clock.tick(wallMs: 1)
        #expect(t.milliseconds == 6 && t.counter == 0)
    }

    @Test func observeAdvancesToRemoteWithinTheCap() {
        var clock = HybridClock(maxAdvanceMs: 1000)
        #expect(clock.observe(HLC(milliseconds: 1500, counter: 3), wallMs: 1000) == .ok)
        #expect(clock.last == HLC(milliseconds: 1500, counter: 3))
        #expect(clock.tick(wallMs: 1000) > HLC(milliseconds: 1500, counter: 3))
    }

    @Test func observeCapsAFarFutureClockAndReportsIt() {
        var clock = HybridClock(maxAdvanceMs: 1000)
        let twoHours: UInt64 = 7_200_000
        #expect(clock.observe(HLC(milliseconds: 10_000 + twoHours, counter: 0), wallMs: 10_000) == .skewed(aheadMs: twoHours))
        #expect(clock.last.milliseconds == 11_000)
    }
}
