import Testing

@testable import SafeHTML

/// Autolinks and HTML-style void tags no longer turn the rest of a README into raw text.
@Suite struct SwallowingTagsTests {
    private func render(_ markdown: String) -> String { ReadmeRenderer.render(markdown, contentType: "text/markdown") }

    @Test func anAutolinkIsALinkAndTheMarkdownAfterItRenders() {
        #expect(
            render("Docs: <https://example.com/docs?a=1&b=2> and more.\n\n# Heading\n\n*emph*")
                == "<p>Docs: <a href=\"https://example.com/docs?a=1&amp;b=2\" rel=\"nofollow noopener\">https://example.com/docs?a=1&amp;b=2</a> and more.</p><h1>Heading</h1><p><em>emph</em></p>"
        )
        #expect(
            render("Mail <dev@example.com>.\n\n## Next")
                == "<p>Mail <a href=\"mailto:dev@example.com\" rel=\"nofollow noopener\">dev@example.com</a>.</p><h2>Next</h2>"
        )
    }

    @Test func aHostileAutolinkLosesItsTarget() {
        let output = render("<javascript:alert(1)> <JAVASCRIPT:alert(1)> <data:text/html,x>\n\n# After")
        #expect(Inertness.problems(in: output) == [], "\(output)")
        #expect(!output.contains("href=\"javascript") && !output.contains("href=\"data"))
        #expect(output.hasSuffix("<h1>After</h1>"))
    }

    @Test func voidTagsWrittenTheHTMLWayDoNotSwallowTheRest() {
        #expect(render("one<br>\ntwo\n\n# H") == "<p>one<br> two</p><h1>H</h1>")
        #expect(render("A <img src=\"logo.png\" alt=\"Logo\"> here\n\n- item") == "<p>A Logo here</p><ul><li>item</li></ul>")
        // (Ink takes it for paragraph text now; the sanitiser closes the paragraph before the rule.)
        #expect(render("<hr>\n\n**bold**") == "<p></p><hr><p><strong>bold</strong></p>")
    }

    @Test func inCodeTheyStayText() {
        #expect(
            render("```html\n<br>\n<img src=x>\n<https://example.com>\n```\n\nand `<br>` inline")
                == "<pre><code class=\"language-html\">&lt;br&gt;\n&lt;img src=x&gt;\n&lt;https://example.com&gt;\n</code></pre><p>and <code>&lt;br&gt;</code> inline</p>"
        )
    }

    @Test func inALinkTargetTheyAreCharacters() {
        let output = render("[x](<https://example.com>)")
        #expect(Inertness.problems(in: output) == [], "\(output)")
    }

    @Test func standInsAlreadyThereBecomeReplacementCharacters() {
        #expect(SwallowingTags.hide(in: "a\u{F0001}b\u{F0002}c") == "a\u{FFFD}b\u{FFFD}c")
    }

    @Test func selfClosingAndPairedTagsAreLeftToInk() {
        for markdown in ["<br/>", "<img src=x />", "<b>x</b>", "<div>\n\nx\n\n</div>", "a < b > c", "<http://x y>"] {
            #expect(SwallowingTags.hide(in: markdown) == markdown)
        }
    }
}
