import Testing

@testable import RegistryServer

@Suite("Range requests")
struct ByteRangeTests {
    @Test(
        "single byte ranges of a 1000-byte representation",
        arguments: [
            ("bytes=0-99", ByteRangeRequest.partial(0...99)),
            ("bytes=0-0", .partial(0...0)),
            ("bytes=999-999", .partial(999...999)),
            ("bytes=100-", .partial(100...999)),
            ("bytes=0-", .partial(0...999)),
            ("bytes=-500", .partial(500...999)),
            ("bytes=-1", .partial(999...999)),
            ("bytes=-1000", .partial(0...999)),
            ("bytes=-5000", .partial(0...999)),
            ("bytes=900-1999", .partial(900...999)),
            ("bytes=007-010", .partial(7...10)),
            ("BYTES=0-99", .partial(0...99)),
            ("  bytes=0-99\t", .partial(0...99)),
            ("bytes= 0-99 ", .partial(0...99)),
            ("bytes=0-99,", .partial(0...99)),
        ]
    )
    func satisfiable(header: String, expected: ByteRangeRequest) {
        #expect(ByteRangeRequest.parse(header, length: 1000) == expected)
    }

    @Test(
        "ranges outside the representation are unsatisfiable",
        arguments: ["bytes=1000-", "bytes=1000-1000", "bytes=5000-6000", "bytes=-0", "bytes=99999999999999999999-"]
    )
    func unsatisfiable(header: String) {
        #expect(ByteRangeRequest.parse(header, length: 1000) == .unsatisfiable)
    }

    @Test(
        "headers this server ignores get the whole representation",
        arguments: [
            nil, "", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=1-a", "bytes=5-4", "bytes=--5", "bytes=0-1-2",
            "bytes=+1-2", "bytes=0 - 99", "bytes = 0-99", "items=0-99", "byte=0-99", "0-99", "bytes=0x10-0x20",
            "bytes=0-1,5-6", "bytes=0-1, -5", "bytes=0-1,garbage", "bytes=١-٢",
        ]
    )
    func ignored(header: String?) {
        #expect(ByteRangeRequest.parse(header, length: 1000) == .whole)
    }

    @Test("huge numbers saturate instead of overflowing")
    func hugeNumbers() {
        #expect(ByteRangeRequest.parse("bytes=0-99999999999999999999", length: 1000) == .partial(0...999))
        #expect(ByteRangeRequest.parse("bytes=0-9223372036854775807", length: 1000) == .partial(0...999))
        #expect(ByteRangeRequest.parse("bytes=-99999999999999999999", length: 1000) == .partial(0...999))
        #expect(ByteRangeRequest.parse("bytes=9223372036854775808-", length: 1000) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=99999999999999999999-1", length: 1000) == .whole)
        let long = "bytes=" + String(repeating: "9", count: 10_000) + "-"
        #expect(ByteRangeRequest.parse(long, length: .max) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=0-", length: .max) == .partial(0...(.max - 1)))
        #expect(ByteRangeRequest.parse("bytes=-9223372036854775807", length: .max) == .partial(0...(.max - 1)))
    }

    @Test("of a zero-length representation only a suffix is satisfiable, and it is answered whole")
    func zeroLength() {
        #expect(ByteRangeRequest.parse("bytes=0-", length: 0) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=0-0", length: 0) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=-0", length: 0) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=-500", length: 0) == .whole)
        #expect(ByteRangeRequest.parse(nil, length: 0) == .whole)
        #expect(ByteRangeRequest.parse("bytes=0-1,2-3", length: 0) == .whole)
    }

    @Test("Content-Range values")
    func contentRange() {
        #expect(ByteRangeRequest.contentRange(0...99, length: 1000) == "bytes 0-99/1000")
        #expect(ByteRangeRequest.contentRange(999...999, length: 1000) == "bytes 999-999/1000")
        #expect(ByteRangeRequest.unsatisfiedContentRange(length: 1000) == "bytes */1000")
        #expect(ByteRangeRequest.unsatisfiedContentRange(length: 0) == "bytes */0")
    }
}
