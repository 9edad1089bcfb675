import Testing

@testable import GridSyncCore

@Suite struct NodeIDTests {
    @Test func textFormRoundTripsAndIsGrouped() throws {
        let id = NodeKey().nodeID
        let text = id.text
        #expect(text.count == 63)
        #expect(text.split(separator: "-").map(\.count) == Array(repeating: 7, count: 8))
        #expect(try NodeID(text: text) == id)
        #expect(try NodeID(text: text.lowercased().replacingOccurrences(of: "-", with: " ")) == id)
        #expect(id.short == String(text.prefix(7)))
    }

    @Test func everySingleCharacterTypoIsCaught() throws {
        let text = Array(NodeKey().nodeID.text)
        for i in text.indices where text[i] != "-" {
            var typo = text
            typo[i] = typo[i] == "A" ? "B" : "A"
            #expect(throws: GridSyncError.self) { try NodeID(text: String(typo)) }
        }
    }

    @Test func wrongLengthIsRefusedWithAHint() {
        let error = #expect(throws: GridSyncError.self) { try NodeID(text: "ABC-DEF") }
        #expect(error?.code == .invalidInput)
        #expect(error?.localized.en.contains("gridsync id") == true)
    }

    @Test func base32MatchesRFC4648() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode(Array("MZXW6YTBOI".utf8)) == Array("foobar".utf8))
    }
}
