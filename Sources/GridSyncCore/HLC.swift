/// A hybrid logical clock timestamp: 48 bits of Unix milliseconds and a 16-bit counter.
///
/// Ordering is by the raw 64-bit value, so a later wall time always sorts later, and events
/// within one millisecond are ordered by the counter.
public struct HLC: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    public init(milliseconds: UInt64, counter: UInt16) {
        raw = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | UInt64(counter)
    }

    public var milliseconds: UInt64 { raw >> 16 }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: raw) }

    public static let zero = HLC(raw: 0)

    public static func < (lhs: HLC, rhs: HLC) -> Bool { lhs.raw < rhs.raw }

    public var description: String { "\(milliseconds).\(counter)" }
}

/// The hybrid logical clock of one node, free of I/O: callers pass the wall time in.
///
/// A received timestamp advances the clock at most ``maxAdvanceMs`` past the wall clock, so one
/// node with a clock far in the future cannot drag every node's clock along; such a timestamp is
/// reported as ``Observation/skewed(aheadMs:)``.
public struct HybridClock: Sendable {
    public private(set) var last: HLC
    public let maxAdvanceMs: UInt64

    public init(last: HLC = .zero, maxAdvanceMs: UInt64 = Limits.maxClockAdvanceMs) {
        self.last = last
        self.maxAdvanceMs = maxAdvanceMs
    }

    /// A timestamp for a local event, greater than every earlier one — unless the clock had
    /// run ahead: when the last timestamp is more than ``maxAdvanceMs`` past the wall clock
    /// (which observing peers never causes), the wall clock was set back and the clock starts
    /// again from it, so a clock that once ran years ahead does not keep winning every conflict.
    public mutating func tick(wallMs: UInt64) -> HLC {
        let next: HLC
        if last.milliseconds > wallMs + maxAdvanceMs {
            next = HLC(milliseconds: wallMs, counter: 0)
        } else if wallMs > last.milliseconds {
            next = HLC(milliseconds: wallMs, counter: 0)
        } else if last.counter == .max {
            next = HLC(milliseconds: last.milliseconds + 1, counter: 0)
        } else {
            next = HLC(raw: last.raw + 1)
        }
        last = next
        return next
    }

    /// What ``observe(_:wallMs:)`` learned about a received timestamp.
    public enum Observation: Equatable, Sendable {
        case ok
        /// The timestamp was this many milliseconds ahead of the local wall clock, beyond the
        /// cap; the local clock advanced only to the cap.
        case skewed(aheadMs: UInt64)
    }

    /// Merges a received timestamp into the clock, capped at `wallMs + maxAdvanceMs`.
    @discardableResult
    public mutating func observe(_ remote: HLC, wallMs: UInt64) -> Observation {
        let cap = HLC(milliseconds: wallMs + maxAdvanceMs, counter: .max)
        if remote > cap {
            if cap > last { last = cap }
            return .skewed(aheadMs: remote.milliseconds - wallMs)
        }
        if remote > last { last = remote }
        return .ok
    }
}
