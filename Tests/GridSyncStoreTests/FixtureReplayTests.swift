import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// Replays every stored odd input: each must be refused with a clear error.
@Suite struct FixtureReplayTests {
    static func files(_ folder: String) -> [URL] {
        guard let base = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/\(folder)"),
            let names = try? FileManager.default.contentsOfDirectory(atPath: base.path)
        else { return [] }
        return names.sorted().map { base.appendingPathComponent($0) }
    }

    @Test func fixturesArePresent() {
        #expect(Self.files("bundles").count >= 6)
        #expect(Self.files("changes").count >= 4)
    }

    @Test(arguments: files("bundles"))
    func bundleFixtureIsRefused(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        let e = #expect(throws: GridSyncError.self) {
            let reader = try ChangeBundle.Reader(data: data)
            _ = try reader.changes(0..<reader.count)
        }
        #expect(e?.message.isEmpty == false)
    }

    @Test(arguments: files("changes"))
    func changeFixtureIsRefused(_ url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(bytes) }
    }

    /// Inputs that stopped a fuzz run although the decoder was right to accept them. The
    /// change encoding is not canonical (string-table order, unused entries), so a change can
    /// decode from bytes its re-encoding does not reproduce; the signature covers the bytes as
    /// sent, and the logical change must survive encode/decode.
    @Test func acceptedFixturesRoundTripLogically() throws {
        let files = Self.files("accepted")
        #expect(!files.isEmpty)
        for url in files {
            let bytes = [UInt8](try Data(contentsOf: url))
            let signed = try SignedChange(encoded: bytes)
            #expect(ChangeCodec.encode(signed.change) != signed.body)
            #expect(try ChangeCodec.decode(ChangeCodec.encode(signed.change)) == signed.change)
        }
    }
}
