/// Every size and count the decoders accept. Each is checked before memory is allocated for it.
///
/// These numbers are part of the formats: `Protocol/SPEC.md` and `docs/ARCHITECTURE.md`
/// repeat them, and a peer that exceeds one is refused.
public enum Limits {
    /// Largest encoded change body (without signature), in bytes.
    public static let maxChangeBytes = 1 << 20
    /// Most ops in one change.
    public static let maxOpsPerChange = 10_000
    /// Most entries in a change's string table.
    public static let maxStringsPerChange = 20_000
    /// Most entries in a change's origin table.
    public static let maxOriginsPerChange = 4_096
    /// Longest string in a change's string table (collection, record ID or field name), in bytes.
    public static let maxNameBytes = 64
    /// Longest text value, in bytes.
    public static let maxTextValueBytes = 64 * 1024
    /// A sealed box: the 12-byte synthetic IV and the largest sealed plaintext (a text value:
    /// its type byte and 64 KiB).
    public static let maxSealedBoxBytes = 12 + 1 + maxTextValueBytes
    /// Most predecessors one op may name.
    public static let maxPredPerOp = 256
    /// Largest bundle file, in bytes.
    public static let maxBundleBytes = 8 << 30
    /// How far (ms) a received timestamp may pull the local clock ahead of the wall clock.
    public static let maxClockAdvanceMs: UInt64 = 10 * 60 * 1000
    /// The latest hlc any node accepts: 2100-01-01T00:00:00Z in Unix ms. A change stamped
    /// later is quarantined (bad clock) by every receiver alike, and no writer stamps one.
    public static let maxPlausibleMs: UInt64 = 4_102_444_800_000
    /// How far (ms) a node other than the centre may stamp past the newest change it holds from
    /// its centre: 90 days, longer than a laptop stays offline, far shorter than a clock set
    /// years ahead.
    public static let maxLeadOverCentreMs: UInt64 = 90 * 24 * 3600 * 1000
    /// Quarantined changes kept whole per origin, and their bytes; beyond, only counted.
    public static let maxQuarantinedPerOrigin = 256
    public static let maxQuarantinedBytesPerOrigin = 8 << 20
    /// Quarantined changes kept whole in one store, and their bytes; beyond, only counted.
    public static let maxQuarantined = 4_096
    public static let maxQuarantinedBytes = 64 << 20
    /// Origins summarised in the quarantine (strangers, origins over their limit); beyond,
    /// counted under one line for all.
    public static let maxQuarantineSummaries = 10_000
}
