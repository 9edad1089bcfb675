import GridSyncCore

/// Every size and count of the sync protocol, checked before allocating (`Protocol/SPEC.md` §5).
public enum WireLimits {
    /// Largest frame payload (type byte included), in bytes.
    public static let maxFrameBytes = 4 << 20
    /// Most changes in one CHANGES message.
    public static let maxChangesPerBatch = 10_000
    /// Largest change list a compressed CHANGES message may inflate to, in bytes.
    public static let maxInflatedBatchBytes = 8 << 20
    /// Largest encoded change (body and signature).
    public static let maxChangeBytes = Limits.maxChangeBytes + SignedChange.signatureBytes
    /// Most entries in a version vector.
    public static let maxVectorEntries = 100_000
    /// Longest node name in HELLO, in bytes.
    public static let maxNameBytes = 256
    /// Longest ERROR message, in bytes.
    public static let maxErrorMessageBytes = 1024
}
