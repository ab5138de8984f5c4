import PythonPackaging
import Testing

/// A deterministic byte pattern: byte `i` is `(i * 31 + i >> 8) mod 256`.
/// In Python: `bytes(((i * 31 + (i >> 8)) & 0xff) for i in range(count))`.
private func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 8)) }
}

/// BLAKE2b-256 of `pattern(count)`, from Python's `hashlib.blake2b(digest_size=32)`; the
/// lengths sit around the 128-byte block boundaries.
private let patternDigests: [(count: Int, digest: String)] = [
    (0, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"),
    (1, "03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314"),
    (127, "516693c5614b0f3d2f117154f241dd7cd48771cdeecbf8fe692ac430fd6cbec4"),
    (128, "21de38dbacffafd405d945fee83b22d833abeca561f5367b5fece93a478dc912"),
    (129, "f50c922a2b3018f3131015a4adfc7619ed0cc0bf45b0a5d5e296f518f0d2ecab"),
    (255, "89c9253bf76ef7a08695028ceb6b80d6c51698c749ba01e1fa5e06a484b8bda9"),
    (256, "1eab4f89d20ce8d6705619d1b110ce70757d32cbd4461df973a79a9ef12c37fd"),
    (257, "d664f6c44ddc7e87e674ffdff84186ad691ce77aa0a4f77422e378b7bc926fe7"),
    (1000, "2731b2304c27bbf824057c6d40f720febc6147854a9e9894b3362c31cccc5a3a"),
]

/// Chunk sizes at and around the block size.
private let chunkSizes = [1, 2, 7, 63, 64, 127, 128, 129, 255, 256, 257, 384, 1000]

@Suite("BLAKE2b")
struct BLAKE2bTests {
    @Test("RFC 7693 Appendix A: BLAKE2b-512 of \"abc\"")
    func rfcVector() {
        #expect(
            Hex.encode(BLAKE2b.hash(Array("abc".utf8), digestLength: 64))
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
    }

    @Test("BLAKE2b-256 and BLAKE2b-512 of short inputs match hashlib")
    func shortInputs() {
        #expect(Hex.encode(BLAKE2b.hash([])) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(
            Hex.encode(BLAKE2b.hash("abc".utf8)) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        )
        #expect(
            Hex.encode(BLAKE2b.hash([], digestLength: 64))
                == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                + "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        )
        #expect(
            Hex.encode(BLAKE2b.hash("The quick brown fox jumps over the lazy dog".utf8))
                == "01718cec35cd3d796dd00020e0bfecb473ad23457d063b75eff29c0ffa2e58a9"
        )
    }

    @Test(
        "the digest length is a hash parameter, not a truncation",
        arguments: [
            (1, "6b"),
            (20, "384264f676f39536840523f284921cdc68b6846b"),
            (
                48,
                "6f56a82c8e7ef526dfe182eb5212f7db9df1317e57815dbda46083fc30f54ee6"
                    + "c66ba83be64b302d7cba6ce15bb556f4"
            ),
        ]
    )
    func digestLengths(length: Int, digest: String) {
        var hasher = BLAKE2b(digestLength: length)
        #expect(hasher.digestLength == length)
        hasher.update("abc".utf8)
        #expect(Hex.encode(hasher.finalize()) == digest)
    }

    @Test("the default digest is 32 bytes")
    func defaultLength() {
        #expect(BLAKE2b().digestLength == 32)
        #expect(BLAKE2b.hash([1, 2, 3]).count == 32)
    }

    @Test("inputs around block boundaries match hashlib", arguments: patternDigests)
    func blockBoundaries(count: Int, digest: String) {
        #expect(Hex.encode(BLAKE2b.hash(pattern(count))) == digest)
    }

    @Test("1 MiB matches hashlib, one-shot and in 64 KiB chunks")
    func oneMebibyte() {
        let data = pattern(1 << 20)
        #expect(Hex.encode(BLAKE2b.hash(data)) == "f1f575ea1958253ce05cb44b0a1949fd59eb3b4d964c2a008fc705faf61a9a8f")
        var hasher = BLAKE2b(digestLength: 64)
        for start in stride(from: 0, to: data.count, by: 65536) {
            data[start..<(start + 65536)].withUnsafeBytes { hasher.update($0) }
        }
        #expect(
            Hex.encode(hasher.finalize())
                == "559bd9664cce23ff4d234768d2d1356fb03baad57d2450744def66c5553c46c9"
                + "3d5bf5b5da68f518104c0883e072ac1a117945a3706c9d7ed94747fcd6ced2f6"
        )
    }

    @Test("splitting the input once anywhere near a block boundary changes nothing")
    func singleSplits() {
        let data = pattern(1000)
        let expected = BLAKE2b.hash(data)
        for split in [0, 1, 2, 126, 127, 128, 129, 130, 255, 256, 257, 383, 384, 385, 999, 1000] {
            var hasher = BLAKE2b()
            hasher.update(data[..<split])
            hasher.update(data[split...])
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    @Test("feeding fixed-size chunks gives the one-shot digest", arguments: chunkSizes)
    func chunked(size: Int) {
        for count in [0, 127, 128, 129, 256, 1000] {
            let data = pattern(count)
            var hasher = BLAKE2b()
            for start in stride(from: 0, to: data.count, by: size) {
                data[start..<min(start + size, data.count)].withUnsafeBytes { hasher.update($0) }
            }
            #expect(hasher.finalize() == BLAKE2b.hash(data), "\(count) bytes in chunks of \(size)")
        }
    }

    @Test("irregular chunks, including empty ones, give the one-shot digest")
    func irregularChunks() {
        let data = pattern(5000)
        let expected = BLAKE2b.hash(data)
        var hasher = BLAKE2b()
        var start = 0
        var step = 0
        while start < data.count {
            let size = min([0, 1, 127, 128, 129, 0, 255, 256, 257, 3][step % 10], data.count - start)
            hasher.update(data[start..<(start + size)])
            hasher.update(UnsafeRawBufferPointer(start: nil, count: 0))
            start += size
            step += 1
        }
        #expect(hasher.finalize() == expected)
    }

    @Test("non-contiguous sequences hash like arrays")
    func nonContiguous() {
        for count in [0, 1, 1023, 1024, 1025, 3000] {
            let lazyBytes = (0..<count).lazy.map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 8)) }
            #expect(BLAKE2b.hash(lazyBytes) == BLAKE2b.hash(pattern(count)), "\(count) bytes")
        }
    }

    @Test("copies of a hasher continue independently")
    func valueSemantics() {
        var hasher = BLAKE2b()
        hasher.update("ab".utf8)
        var copy = hasher
        hasher.update("c".utf8)
        copy.update("d".utf8)
        #expect(hasher.finalize() == BLAKE2b.hash("abc".utf8))
        #expect(copy.finalize() == BLAKE2b.hash("abd".utf8))
    }
}
