import NIOCore
import Testing

@testable import MultipartStream

/// A parsed part, reassembled from events.
struct Part: Equatable {
    var name: String?
    var filename: String?
    var body: [UInt8]
}

func parse(_ body: [UInt8], boundary: String, chunkSizes: [Int], limits: MultipartParser.Limits = .init()) throws -> [Part] {
    var parser = try MultipartParser(boundary: boundary, limits: limits)
    var parts: [Part] = []
    var offset = 0
    var sizeIndex = 0
    while offset < body.count {
        let size = max(1, chunkSizes[sizeIndex % chunkSizes.count])
        sizeIndex += 1
        let end = min(body.count, offset + size)
        for event in try parser.feed(ByteBuffer(bytes: body[offset..<end])) {
            switch event {
            case .partBegin(let headers): parts.append(Part(name: headers.name, filename: headers.filename, body: []))
            case .body(let bytes): parts[parts.count - 1].body += Array(bytes.readableBytesView)
            case .partEnd: break
            }
        }
        offset = end
    }
    try parser.finish()
    return parts
}

func form(boundary: String, parts: [(headers: String, body: [UInt8])], preamble: String = "", epilogue: String = "") -> [UInt8] {
    var bytes = Array(preamble.utf8)
    for part in parts {
        bytes += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.body + Array("\r\n".utf8)
    }
    bytes += Array("--\(boundary)--\r\n\(epilogue)".utf8)
    return bytes
}

@Suite struct MultipartParserTests {
    let boundary = "----wheelhouse7MA4YWxkTrZu0gW"

    /// A file whose bytes contain near-misses of the delimiter and lone CRs and LFs.
    var awkwardFile: [UInt8] {
        Array("a\r\n--\(boundary.dropLast())X\r\r\n\n--\r\n-".utf8) + (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 31) } + [13]
    }

    var sample: [UInt8] {
        form(
            boundary: boundary,
            parts: [
                ("Content-Disposition: form-data; name=\":action\"", Array("file_upload".utf8)),
                ("Content-Disposition: form-data; name=\"name\"", Array("demo".utf8)),
                (
                    "Content-Disposition: form-data; name=\"content\"; filename=\"demo-1.0.tar.gz\"\r\nContent-Type: application/octet-stream",
                    awkwardFile
                ),
                ("Content-Disposition: form-data; name=\"empty\"", []),
            ]
        )
    }

    var expected: [Part] {
        [
            Part(name: ":action", filename: nil, body: Array("file_upload".utf8)),
            Part(name: "name", filename: nil, body: Array("demo".utf8)),
            Part(name: "content", filename: "demo-1.0.tar.gz", body: awkwardFile),
            Part(name: "empty", filename: nil, body: []),
        ]
    }

    @Test func parsesWholeBody() throws {
        #expect(try parse(sample, boundary: boundary, chunkSizes: [sample.count]) == expected)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 13, 31, 42, 64, 127])
    func parsesAnyChunking(size: Int) throws {
        #expect(try parse(sample, boundary: boundary, chunkSizes: [size]) == expected)
    }

    @Test func parsesEverySplitPoint() throws {
        let body = sample
        for split in 1..<body.count {
            #expect(try parse(body, boundary: boundary, chunkSizes: [split, body.count]) == expected, "split at \(split)")
        }
    }

    @Test func parsesRandomChunkings() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let sizes = (0..<16).map { _ in Int.random(in: 1...90, using: &generator) }
            #expect(try parse(sample, boundary: boundary, chunkSizes: sizes) == expected, "chunk sizes \(sizes)")
        }
    }

    @Test func skipsPreambleAndEpilogue() throws {
        let body = form(
            boundary: "b",
            parts: [("Content-Disposition: form-data; name=\"x\"", Array("1".utf8))],
            preamble: "ignored preamble\r\n",
            epilogue: "ignored epilogue"
        )
        #expect(try parse(body, boundary: "b", chunkSizes: [3]) == [Part(name: "x", filename: nil, body: Array("1".utf8))])
    }

    @Test func acceptsPartWithoutHeaders() throws {
        let body = Array("--b\r\n\r\nraw\r\n--b--".utf8)
        #expect(try parse(body, boundary: "b", chunkSizes: [2]) == [Part(name: nil, filename: nil, body: Array("raw".utf8))])
    }

    @Test func unescapesQuotedParameters() throws {
        let headers = MultipartPartHeaders([("Content-Disposition", #"form-data; name="content"; filename="we\"ird;name.tar.gz""#)])
        #expect(headers.name == "content")
        #expect(headers.filename == #"we"ird;name.tar.gz"#)
        let unquoted = MultipartPartHeaders([("content-disposition", "form-data; name=version")])
        #expect(unquoted.name == "version")
        #expect(unquoted.filename == nil)
    }

    @Test func firstDispositionParameterWins() {
        let headers = MultipartPartHeaders([("Content-Disposition", #"form-data; name="a"; name="b""#)])
        #expect(headers.name == "a")
    }

    @Test func refusesOversizedHeaders() throws {
        let long = "X-Long: " + String(repeating: "a", count: 2_000)
        let body = form(boundary: "b", parts: [(long, Array("1".utf8))])
        #expect(throws: MultipartError.headersTooLarge) {
            try parse(body, boundary: "b", chunkSizes: [100], limits: .init(maxHeaderBytes: 1_024))
        }
    }

    @Test func refusesEndlessHeadersWithoutBuffering() throws {
        var parser = try MultipartParser(boundary: "b", limits: .init(maxHeaderBytes: 1_024))
        _ = try parser.feed(ByteBuffer(string: "--b\r\nX: "))
        #expect(throws: MultipartError.headersTooLarge) {
            for _ in 0..<10 { _ = try parser.feed(ByteBuffer(repeating: UInt8(ascii: "a"), count: 512)) }
        }
    }

    @Test func refusesTooManyParts() throws {
        let parts = (0..<5).map { _ in ("Content-Disposition: form-data; name=\"x\"", Array("1".utf8)) }
        #expect(throws: MultipartError.tooManyParts) {
            try parse(form(boundary: "b", parts: parts), boundary: "b", chunkSizes: [64], limits: .init(maxParts: 4))
        }
    }

    @Test func refusesTruncatedBody() throws {
        let body = Array(sample.dropLast(10))
        #expect(throws: MultipartError.truncated) { try parse(body, boundary: boundary, chunkSizes: [50]) }
    }

    @Test func refusesGarbageAfterBoundary() throws {
        let body = Array("--bXX\r\n\r\n".utf8)
        #expect(throws: MultipartError.self) { try parse(body, boundary: "b", chunkSizes: [4]) }
    }

    @Test func refusesHeaderLineWithoutColon() throws {
        let body = Array("--b\r\nnot a header\r\n\r\nx\r\n--b--".utf8)
        #expect(throws: MultipartError.self) { try parse(body, boundary: "b", chunkSizes: [4]) }
    }

    @Test func refusesBadBoundaries() {
        #expect(throws: MultipartError.invalidBoundary) { try MultipartParser(boundary: "") }
        #expect(throws: MultipartError.invalidBoundary) { try MultipartParser(boundary: String(repeating: "x", count: 71)) }
        #expect(throws: MultipartError.invalidBoundary) { try MultipartParser(boundary: "a\r\nb") }
    }

    @Test func largeFileStreamsWithoutHoldingIt() throws {
        // 8 MiB in 64 KiB chunks: every body event must be handed out promptly, not accumulated.
        var parser = try MultipartParser(boundary: "b")
        _ = try parser.feed(ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"content\"; filename=\"f\"\r\n\r\n"))
        var received = 0
        let chunk = ByteBuffer(repeating: 0x41, count: 64 * 1024)
        for round in 1...128 {
            for event in try parser.feed(chunk) {
                if case .body(let bytes) = event { received += bytes.readableBytes }
            }
            // At most a possible delimiter prefix may be held back.
            #expect(round * chunk.readableBytes - received < 8)
        }
        for event in try parser.feed(ByteBuffer(string: "\r\n--b--\r\n")) {
            if case .body(let bytes) = event { received += bytes.readableBytes }
        }
        try parser.finish()
        #expect(received == 128 * 64 * 1024)
    }
}
