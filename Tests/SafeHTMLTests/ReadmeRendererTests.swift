import Testing

@testable import SafeHTML

@Suite struct ReadmeRendererTests {
    @Test(arguments: [
        "text/markdown", "TEXT/MARKDOWN", "text/markdown; charset=UTF-8", "text/markdown;charset=utf-8;variant=GFM",
        " text/markdown ; variant=CommonMark", "\ttext/Markdown;",
    ])
    func markdownContentTypesAreRendered(_ contentType: String) {
        #expect(ReadmeRenderer.render("# Hello *world*", contentType: contentType) == "<h1>Hello <em>world</em></h1>")
    }

    @Test(arguments: [
        "text/x-rst", "text/plain", "text/plain; charset=UTF-8", "text/html", "application/json", "text/markdownx",
        "text/x-markdown", "markdown", "", ";text/markdown",
    ])
    func otherContentTypesArePreformattedText(_ contentType: String) {
        #expect(
            ReadmeRenderer.render("# Hello <b>world</b> & co", contentType: contentType)
                == "<pre class=\"readme-text\"># Hello &lt;b&gt;world&lt;/b&gt; &amp; co</pre>"
        )
    }

    @Test func aMissingContentTypeIsPreformattedText() {
        #expect(
            ReadmeRenderer.render("Title\n=====\n\n<script>x</script>", contentType: nil)
                == "<pre class=\"readme-text\">Title\n=====\n\n&lt;script&gt;x&lt;/script&gt;</pre>"
        )
    }

    @Test(arguments: ["", " ", "\n\n\t  \r\n", "\u{A0}\u{2003}"])
    func anEmptyDescriptionSaysSo(_ description: String) {
        let expected = "<p class=\"readme-empty\">No description was given for this release.</p>"
        #expect(ReadmeRenderer.render(description, contentType: "text/markdown") == expected)
        #expect(ReadmeRenderer.render(description, contentType: nil) == expected)
    }

    @Test func aDescriptionOverTheLimitIsCutAndSaysSo() {
        let limit = ReadmeRenderer.maximumBytes
        let description = "<b>" + String(repeating: "é", count: limit / 2) + "tail"
        for contentType in ["text/markdown", "text/plain"] {
            let output = ReadmeRenderer.render(description, contentType: contentType)
            #expect(output.hasPrefix("<pre class=\"readme-text\">&lt;b&gt;éé"))
            #expect(
                output.hasSuffix(
                    "é</pre><p class=\"readme-truncated\">This description is longer than 512 KiB: only its first 512 KiB are shown, as plain text.</p>"
                )
            )
            #expect(!output.contains("tail"))
            #expect(Inertness.problems(in: output) == [])
        }
    }

    @Test func theCutFallsOnACharacterBoundary() {
        // "é" is two bytes: a limit of 5 bytes takes two of them, not half of the third.
        #expect(ReadmeRenderer.prefix(of: "ééé", maximumBytes: 5) == "éé")
        // A flag is one character of eight bytes: it is taken whole or not at all.
        #expect(ReadmeRenderer.prefix(of: "a🇫🇷b", maximumBytes: 8) == "a")
        #expect(ReadmeRenderer.prefix(of: "a🇫🇷b", maximumBytes: 9) == "a🇫🇷")
        #expect(ReadmeRenderer.prefix(of: "abc", maximumBytes: 10) == "abc")
        // One enormous character (thousands of combining marks) is cut between its scalars instead.
        let zalgo = "e" + String(repeating: "\u{301}", count: 5_000)
        let cut = ReadmeRenderer.prefix(of: zalgo, maximumBytes: 4_001)
        #expect(cut.utf8.count == 4_001)
        #expect(cut.unicodeScalars.count == 2_001)
    }

    @Test func aDescriptionAtTheLimitIsWhole() {
        let description = String(repeating: "a", count: ReadmeRenderer.maximumBytes)
        #expect(ReadmeRenderer.render(description, contentType: "text/plain") == "<pre class=\"readme-text\">" + description + "</pre>")
    }

    @Test func markdownWithRawHTMLIsSanitised() {
        let output = ReadmeRenderer.render("Hello <span onclick=\"alert(1)\">x</span>\n\n<script>alert(1)</script>", contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [], "\(output)")
        #expect(!output.contains("alert"))
    }

    @Test func aRealisticReadmeRendersItsStructure() {
        let readme = """
            # wheelhouse-demo

            A *small* package that does **one** thing. See [the docs](https://docs.example.com/demo) or
            [the changelog](CHANGELOG.md#v2).

            ## Installation

            ```bash
            pip install wheelhouse-demo
            ```

            ## Usage

            1. Import it
            2. Call it:

            ```python
            from demo import run
            if 1 < 2 and "a" != 'b':
                run()
            ```

            - Fast
            - Small
              - Really small
            - Safe

            | Option | Default | Meaning |
            |:-------|:-------:|--------:|
            | `level` | 3 | How hard |
            | `quiet` | no | Less talk |

            > Note: this is a quote.

            ---

            Inline `code` and ~~old~~ text.
            Contact: <mailto:dev@example.com>
            """
        let output = ReadmeRenderer.render(readme, contentType: "text/markdown; charset=UTF-8; variant=GFM")
        #expect(Inertness.problems(in: output) == [], "\(output)")
        #expect(output.contains("<h1>wheelhouse-demo</h1>"))
        #expect(output.contains("<h2>Installation</h2>"))
        #expect(output.contains("<p>A <em>small</em> package that does <strong>one</strong> thing."))
        #expect(output.contains("<a href=\"https://docs.example.com/demo\" rel=\"nofollow noopener\">the docs</a>"))
        #expect(output.contains("<a href=\"CHANGELOG.md#v2\" rel=\"nofollow noopener\">the changelog</a>"))
        #expect(output.contains("<pre><code class=\"language-bash\">pip install wheelhouse-demo\n</code></pre>"))
        #expect(
            output.contains(
                "<pre><code class=\"language-python\">from demo import run\nif 1 &lt; 2 and &quot;a&quot; != &#39;b&#39;:\n    run()\n</code></pre>"
            )
        )
        #expect(output.contains("<ol><li>Import it</li><li>Call it:</li></ol>"))
        #expect(output.contains("<ul><li>Fast</li><li>Small<ul><li>Really small</li>"))
        #expect(
            output.contains(
                "<table><thead><tr><th align=\"left\">Option</th><th align=\"center\">Default</th><th align=\"right\">Meaning</th></tr></thead>"
            )
        )
        #expect(output.contains("<td align=\"left\"><code>level</code></td><td align=\"center\">3</td><td align=\"right\">How hard</td>"))
        #expect(output.contains("<blockquote><p>Note: this is a quote.</p></blockquote>"))
        #expect(output.contains("<hr>"))
        #expect(output.contains("Inline <code>code</code> and <s>old</s> text."))
    }
}
