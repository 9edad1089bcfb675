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
    /// Most predecessors one op may name.
    public static let maxPredPerOp = 256
    /// Largest bundle file, in bytes.
    public static let maxBundleBytes = 8 << 30
    /// How far (ms) a received timestamp may pull the local clock ahead of the wall clock.
    public static let maxClockAdvanceMs: UInt64 = 10 * 60 * 1000
}
