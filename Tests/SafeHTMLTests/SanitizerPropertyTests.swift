import Testing

@testable import SafeHTML

/// Random soup, made of the pieces attacks are made of and of random bytes, must always come out
/// inert and balanced. The generator is seeded, so a failure names the seed that reproduces it.
@Suite struct SanitizerPropertyTests {
    /// SplitMix64: small, fast, and the same sequence on every platform.
    struct Generator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    static let pieces: [String] = [
        "<", ">", "</", "/>", "/", "=", "\"", "'", " ", "\t", "\n", "\n\n", "\0", "&", "&#", "&#x", ";", "#",
        "script", "SCRIPT", "style", "svg", "math", "iframe", "img", "a", "b", "p", "div", "table", "tr", "td",
        "li", "ul", "ol", "pre", "code", "textarea", "title", "noscript", "template", "object", "xmp",
        "plaintext", "onerror", "onload", "onclick", " onmouseover=", "href", "src", "alt", "style=", "class=",
        "language-py", "javascript:", "JaVaScRiPt:", "java\tscript:", "jav&#x61;script:", "&#106;", "&colon;",
        "vbscript:", "data:text/html,", "https://example.com/", "mailto:x@y", "alert(1)", "<!--", "-->", "--!>",
        "<!", "<?", "<![CDATA[", "]]>", "[", "]", "(", ")", "*", "_", "`", "```", "~~", "|", "-", "> ", "# ",
        "1. ", "é", "😀", "\u{301}", "\u{FFFD}", "\r\n",
    ]

    static func soup(_ generator: inout Generator, pieces count: Int) -> String {
        var text = ""
        for _ in 0..<count {
            if generator.below(8) == 0 {
                let bytes = (0..<generator.below(6)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                text += String(decoding: bytes, as: UTF8.self)
            } else {
                text += pieces[generator.below(pieces.count)]
            }
        }
        return text
    }

    @Test(arguments: 0..<8)
    func sanitisedSoupIsInertAndBalanced(_ seed: Int) {
        var generator = Generator(state: UInt64(seed))
        for round in 0..<400 {
            let input = Self.soup(&generator, pieces: 1 + generator.below(200))
            let output = HTMLSanitizer.sanitize(input)
            let problems = Inertness.problems(in: output)
            #expect(problems == [], "seed \(seed) round \(round): \(input.debugDescription) -> \(output.debugDescription)")
            if !problems.isEmpty { return }
            // Sanitising is idempotent: what comes out is already what the sanitiser writes.
            #expect(HTMLSanitizer.sanitize(output) == output, "seed \(seed) round \(round): \(input.debugDescription)")
        }
    }

    @Test(arguments: 0..<4)
    func renderedMarkdownSoupIsInertAndBalanced(_ seed: Int) {
        var generator = Generator(state: UInt64(1_000 + seed))
        for round in 0..<60 {
            let input = Self.soup(&generator, pieces: 1 + generator.below(120))
            let output = ReadmeRenderer.render(input, contentType: "text/markdown")
            let problems = Inertness.problems(in: output)
            #expect(problems == [], "seed \(seed) round \(round): \(input.debugDescription) -> \(output.debugDescription)")
            if !problems.isEmpty { return }
        }
    }

    @Test(arguments: 0..<4)
    func randomBytesNeverBreakTheTokenizer(_ seed: Int) {
        var generator = Generator(state: UInt64(5_000 + seed))
        for _ in 0..<200 {
            let bytes = (0..<generator.below(400)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 128) }
            let output = HTMLSanitizer.sanitize(String(decoding: bytes, as: UTF8.self))
            #expect(Inertness.problems(in: output) == [])
        }
    }
}
