import Testing

@testable import SafeHTML

/// What `LinkBrackets` leaves for Ink: the `[` of links Ink parses at once, and nothing else.
@Suite struct LinkBracketsTests {
    private let standIn = String(LinkBrackets.stand_in)

    @Test(arguments: [
        "[text](https://example.com)", "see [a link](url) here", "[ref link][ref]", "![alt](img.png)",
        "[![badge](https://img.example/b.svg)](https://ci.example)", "[r]: https://example.com", "   [r]:\thttps://example.com",
        "[with `code]` inside](x)", "[with <img src=\"x\" /> logo](x)", "[AT&amp;T](x)", "[a\nwrapped link](x)",
        "[parens](https://en.wikipedia.org/wiki/A_(b))", "[é accent](x)", "[a\u{301}](x)", "[`a`](x)", "[a < b](x)", "[a&b]c;](d)",
    ])
    func linksInkParsesAtOnceAreLeftAlone(_ markdown: String) {
        #expect(LinkBrackets.hide(in: markdown) == markdown)
    }

    @Test(arguments: [
        ("[", "X"), ("[[[", "XXX"), ("[text]", "X" + "text]"), ("[a](", "Xa]("), ("a [b] c", "a Xb] c"),
        ("[a\\](b)", "Xa\\](b)"), ("[`]`", "X`]`"), ("[a]\u{301}(b)", "Xa]\u{301}(b)"), ("[a\u{600}](b)", "Xa\u{600}](b)"),
        ("[a\n\nb](c)", "Xa\n\nb](c)"), ("[a\n- b](c)", "Xa\n- b](c)"), ("[a <b>c</b>](d)", "Xa <b>c</b>](d)"),
        ("[a <p/>](d)", "Xa <p/>](d)"), ("[a](b\n)", "Xa](b\n)"), ("[a](b(c)", "Xa](b(c)"),
        ("[[a](b)", "X[a](b)"), ("[a][b", "Xa]Xb"), ("x [r]: y", "x Xr]: y"),
    ])
    func otherBracketsAreHidden(_ markdown: String, _ expected: String) {
        #expect(LinkBrackets.hide(in: markdown) == expected.replacingOccurrences(of: "X", with: standIn))
    }

    @Test func restoringGivesTheTextBack() {
        for text in ["[", "a [b] c [d](e) [[f]]", "[\\]", "[`]`[`]`", "plain", ""] {
            #expect(LinkBrackets.restore(in: LinkBrackets.hide(in: text)) == text)
        }
    }

    @Test func aStandInAlreadyThereBecomesAReplacementCharacter() {
        #expect(LinkBrackets.hide(in: "a\u{F0000}b[") == "a\u{FFFD}b" + standIn)
    }

    @Test func combiningMarksAndPrependedMarksMakeNoStandaloneCharacter() {
        #expect(Array("a]".utf8).isStandaloneASCII(at: 1))
        #expect(Array("é]".utf8).isStandaloneASCII(at: 2))
        #expect(!Array("]\u{301}".utf8).isStandaloneASCII(at: 0))
        #expect(!Array("]\u{200D}".utf8).isStandaloneASCII(at: 0))
        #expect(!Array("]\u{1F3FB}".utf8).isStandaloneASCII(at: 0))
        #expect(!Array("]\u{E33}".utf8).isStandaloneASCII(at: 0))
        #expect(!Array("\u{600}]".utf8).isStandaloneASCII(at: 2))
        #expect(Array("]é".utf8).isStandaloneASCII(at: 0))
    }
}
