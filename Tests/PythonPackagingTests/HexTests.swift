import PythonPackaging
import Testing

@Suite("Hex")
struct HexTests {
    @Test("encodes lowercase, two digits per byte")
    func encode() {
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode([0x00, 0xFF, 0x10, 0xAB, 0x09]) == "00ff10ab09")
        let multiplesOf17 = (0...255).lazy.map { UInt8($0) }.filter { $0 % 17 == 0 }
        #expect(Hex.encode(multiplesOf17) == "00112233445566778899aabbccddeeff")
    }

    @Test("decodes either case")
    func decode() {
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("00FF10aB09") == [0x00, 0xFF, 0x10, 0xAB, 0x09])
        #expect(Hex.decode(Substring("xxABxx").dropFirst(2).dropLast(2)) == [0xAB])
    }

    @Test(
        "refuses odd lengths and non-hex characters",
        arguments: ["a", "abc", "zz", "0g", " 00", "00 ", "é1", "+1", "0x00", "١١"]
    )
    func decodeInvalid(input: String) {
        #expect(Hex.decode(input) == nil)
    }

    @Test("every byte round-trips")
    func roundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        let encoded = Hex.encode(bytes)
        #expect(encoded.utf8.count == 512)
        #expect(Hex.decode(encoded) == bytes)
        #expect(Hex.decode(encoded.uppercased()) == bytes)
    }
}
