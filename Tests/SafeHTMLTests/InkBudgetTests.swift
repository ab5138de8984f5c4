import Testing

@testable import SafeHTML

/// Inputs that make Ink slow or never finish are shown as plain text; a README Ink handles well is
/// rendered. (No timing here: a broken guard shows as a test that hangs or crashes.)
@Suite struct InkBudgetTests {
    private func allows(_ markdown: String) -> Bool {
        InkBudget.allows(LinkBrackets.hide(in: markdown), readmeBytes: markdown.utf8.count)
    }

    @Test(arguments: ["<p", "x <p", "<P class=x", "<pre", "a\n\n<p>b</p>\n\n<p", "<p\u{301}"])
    func aParagraphTagWithNoGreaterThanAfterItIsRefused(_ markdown: String) {
        #expect(!allows(markdown))
    }

    @Test(arguments: ["<p>x</p>", "<pre>x</pre>", "a <p> b", "<P>"])
    func aParagraphTagThatEndsIsAllowed(_ markdown: String) {
        #expect(allows(markdown))
    }

    @Test func longScansAreRefused() {
        #expect(!allows(String(repeating: "&", count: 8_192)))
        #expect(!allows(String(repeating: "<", count: 8_192)))
        #expect(!allows(String(repeating: "<a ", count: 4_096)))
        #expect(!allows(String(repeating: "`", count: 1) + String(repeating: "`a", count: 0) + String(repeating: "&x;\u{301}", count: 4_096)))
        #expect(allows(String(repeating: "&amp; ", count: 8_192)))
        #expect(allows(String(repeating: "<b>x</b> ", count: 4_096)))
        #expect(allows(String(repeating: "`code` ", count: 8_192)))
    }

    @Test func deeplyIndentedListItemsAreRefused() {
        #expect(!allows("- a\n" + String(repeating: " ", count: 65) + "- b\n"))
        #expect(allows("- a\n" + String(repeating: " ", count: 64) + "- b\n"))
        #expect(allows(String(repeating: " ", count: 200) + "code, not a list item\n"))
    }

    @Test func aReadmeOverTheInkLimitIsPlainText() {
        let markdown = "# Big\n\n" + String(repeating: "A paragraph of *prose*.\n\n", count: InkBudget.maximumBytes / 20)
        #expect(markdown.utf8.count > InkBudget.maximumBytes)
        #expect(
            ReadmeRenderer.render(markdown, contentType: "text/markdown")
                == "<pre class=\"readme-text\">" + HTML.escape(markdown)
                + "</pre><p class=\"readme-unrendered\">This Markdown description is too long or too deeply nested to render: it is shown as plain text.</p>"
        )
    }

    /// Each of these took Ink seconds, minutes, all memory or its stack before the guard.
    @Test(arguments: [
        String(repeating: "[", count: 20), String(repeating: "[", count: 100_000), String(repeating: "[\\]", count: 30),
        String(repeating: "[`]`", count: 30), String(repeating: "[x](", count: 4_096), String(repeating: "![", count: 30),
        String(repeating: "*[`_a", count: 30), String(repeating: "[a [b [c [d ", count: 1_000), "<p",
        "text\n\n<p", String(repeating: "&", count: 8_192), String(repeating: "<a", count: 8_192),
        String(repeating: ">", count: 10_000) + " deep", String(repeating: "*", count: 100_000),
        String(repeating: "[a\u{600}](x)", count: 30), String(repeating: "[a]\u{301}(x)", count: 30),
    ])
    func pathologicalMarkdownRendersInert(_ markdown: String) {
        let output = ReadmeRenderer.render(markdown, contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [])
        #expect(Inertness.depth(of: output) <= HTMLSanitizer.maximumDepth)
    }

    @Test func fiftyThousandNestedListItemsAreShownAsText() {
        var markdown = ""
        for level in 0..<50_000 { markdown += String(repeating: " ", count: level % 200) + "- item\n" }
        let output = ReadmeRenderer.render(markdown, contentType: "text/markdown")
        #expect(output.hasPrefix("<pre class=\"readme-text\">- item\n"))
        #expect(Inertness.problems(in: output) == [])
    }

    @Test func aLargeTableIsRendered() {
        var markdown = "| a | b | c |\n|---|:-:|--:|\n"
        for row in 0..<2_000 { markdown += "| \(row) | <b>x</b> | [l](https://example.com/\(row)) |\n" }
        let output = ReadmeRenderer.render(markdown, contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [])
        #expect(output.hasPrefix("<table><thead><tr><th>a</th><th align=\"center\">b</th><th align=\"right\">c</th></tr></thead><tbody>"))
        #expect(output.components(separatedBy: "<tr>").count == 2_002)
    }

    @Test func badgesAndLogosInLinksStayLinks() {
        let markdown = """
            [![PyPI](https://img.shields.io/pypi/v/demo.svg)](https://example.com/demo) [![CI][ci-badge]][ci]

            [<img src="https://example.com/logo.svg" width="150" alt="Logo" />](https://example.com)

            [ci-badge]: https://example.com/ci.svg
              [ci]: https://ci.example.com/demo
            """
        let output = ReadmeRenderer.render(markdown, contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [])
        #expect(output.contains("<a href=\"https://example.com/demo\" rel=\"nofollow noopener\">PyPI</a>"))
        #expect(output.contains("<a href=\"https://ci.example.com/demo\" rel=\"nofollow noopener\">CI</a>"))
        #expect(output.contains("<a href=\"https://example.com\" rel=\"nofollow noopener\">Logo</a>"))
    }

    @Test func bracketsThatAreNoLinksShowAsWritten() {
        // (`[1][2]` is a reference link to Ink, to "2" when no such reference is defined.)
        let output = ReadmeRenderer.render("Use `a[0]` or [optional] or x[1][2] or [\\] or [", contentType: "text/markdown")
        #expect(output == "<p>Use <code>a[0]</code> or [optional] or x<a href=\"2\" rel=\"nofollow noopener\">1</a> or [] or [</p>")
    }
}
