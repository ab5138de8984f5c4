import Testing

@testable import SafeHTML

/// What the sanitiser keeps of ordinary HTML, and how it keeps the output balanced and shallow.
@Suite struct HTMLSanitizerTests {
    @Test func allowedElementsAreWrittenAgain() {
        let html = """
            <h1>T</h1><h2>a</h2><h3>b</h3><h4>c</h4><h5>d</h5><h6>e</h6>\
            <p><b>b</b><i>i</i><em>em</em><strong>s</strong><del>d</del><s>s</s><q>q</q><sub>1</sub><sup>2</sup>\
            <kbd>k</kbd><samp>s</samp><tt>t</tt><code>c</code><span>s</span><abbr title="HyperText">HTML</abbr><br>x</p>\
            <blockquote>q</blockquote><hr><ul><li>u</li></ul><ol start="3"><li>o</li></ol><dl><dt>t</dt><dd>d</dd></dl>\
            <details><summary>more</summary>hidden</details><div>d</div><pre>p</pre>
            """
        #expect(HTMLSanitizer.sanitize(html) == html)
    }

    @Test func tablesKeepAlignmentAndSpans() {
        let html = """
            <table><thead><tr><th align="left">a</th><th align="CENTER">b</th></tr></thead>\
            <tbody><tr><td colspan="2" rowspan="01" align="top">c</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>
            """
        #expect(
            HTMLSanitizer.sanitize(html) == """
                <table><thead><tr><th align="left">a</th><th align="center">b</th></tr></thead>\
                <tbody><tr><td colspan="2" rowspan="1">c</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>
                """
        )
        #expect(HTMLSanitizer.sanitize("<td colspan=0 rowspan=99999999>x</td>") == "x")
        #expect(HTMLSanitizer.sanitize("<table><tr><td colspan=0 rowspan=x>x</td></tr></table>") == "<table><tr><td>x</td></tr></table>")
    }

    @Test func codeKeepsOnlyALanguageClass() {
        #expect(
            HTMLSanitizer.sanitize("<pre><code class=\"language-python\">x</code></pre>") == "<pre><code class=\"language-python\">x</code></pre>"
        )
        #expect(HTMLSanitizer.sanitize("<code class=\"language-C++\">x</code>") == "<code class=\"language-c++\">x</code>")
        #expect(HTMLSanitizer.sanitize("<code class=\"language-objective-c\">x</code>") == "<code class=\"language-objective-c\">x</code>")
        for rejected in ["highlight", "language-", "language-py thon", "language-a\"b", "language-é", "x language-py"] {
            #expect(HTMLSanitizer.sanitize("<span class='\(rejected)'>x</span>") == "<span>x</span>", "\(rejected)")
        }
        #expect(HTMLSanitizer.sanitize("<div class=\"language-python\">x</div>") == "<div>x</div>")
    }

    @Test func listStartMustBeAnInteger() {
        #expect(HTMLSanitizer.sanitize("<ol start=\"-2\"><li>x</li></ol>") == "<ol start=\"-2\"><li>x</li></ol>")
        #expect(HTMLSanitizer.sanitize("<ol start=\"2x\"><li>x</li></ol>") == "<ol><li>x</li></ol>")
        #expect(HTMLSanitizer.sanitize("<ol start=\"99999999999\"><li>x</li></ol>") == "<ol><li>x</li></ol>")
    }

    @Test func unknownElementsKeepTheirTextEscaped() {
        #expect(HTMLSanitizer.sanitize("<center><font color=red>a & b</font></center>") == "a &amp; b")
        #expect(HTMLSanitizer.sanitize("<custom-element x=1>y</custom-element>") == "y")
        #expect(HTMLSanitizer.sanitize("<select><option>one</option></select>") == "one")
    }

    @Test func textIsDecodedThenEscaped() {
        #expect(HTMLSanitizer.sanitize("AT&T &amp; &copy; &#169; &#xA9; &unknown; & x") == "AT&amp;T &amp; © © © &amp;unknown; &amp; x")
        #expect(HTMLSanitizer.sanitize("\"quotes\" and 'apostrophes'") == "&quot;quotes&quot; and &#39;apostrophes&#39;")
        #expect(HTMLSanitizer.sanitize("a < b > c") == "a &lt; b &gt; c")
        #expect(HTMLSanitizer.sanitize("1 <2 and x<-y") == "1 &lt;2 and x&lt;-y")
        #expect(HTMLSanitizer.sanitize("&#0; &#xD800; &#x110000; &#99999999999999;") == "\u{FFFD} \u{FFFD} \u{FFFD} \u{FFFD}")
        #expect(HTMLSanitizer.sanitize("&#128; &#x99;") == "€ ™")
        #expect(HTMLSanitizer.sanitize("nul\u{0}here") == "nul\u{FFFD}here")
        #expect(HTMLSanitizer.sanitize("naïve café 😀") == "naïve café 😀")
    }

    @Test func unclosedElementsAreClosedAtTheEnd() {
        #expect(HTMLSanitizer.sanitize("<div><p><b>x") == "<div><p><b>x</b></p></div>")
        #expect(HTMLSanitizer.sanitize("<ul><li>a<li>b") == "<ul><li>a</li><li>b</li></ul>")
    }

    @Test func strayEndTagsAreIgnored() {
        #expect(HTMLSanitizer.sanitize("</div>a</p></b>b</br>") == "ab")
        #expect(HTMLSanitizer.sanitize("<b>x</i>y</b>") == "<b>xy</b>")
    }

    @Test func misnestedTagsCloseInOrder() {
        #expect(HTMLSanitizer.sanitize("<b><i>x</b>y</i>") == "<b><i>x</i></b>y")
        #expect(HTMLSanitizer.sanitize("<p>a<div>b</div>") == "<p>a</p><div>b</div>")
        #expect(HTMLSanitizer.sanitize("<p>a<p>b") == "<p>a</p><p>b</p>")
        #expect(
            HTMLSanitizer.sanitize("<a href=\"#a\">a<a href=\"#b\">b</a>")
                == "<a href=\"#a\" rel=\"nofollow noopener\">a</a><a href=\"#b\" rel=\"nofollow noopener\">b</a>"
        )
        #expect(HTMLSanitizer.sanitize("<dl><dt>a<dd>b<dt>c</dl>") == "<dl><dt>a</dt><dd>b</dd><dt>c</dt></dl>")
        #expect(HTMLSanitizer.sanitize("<h1>a<h2>b") == "<h1>a</h1><h2>b</h2>")
        #expect(HTMLSanitizer.sanitize("<ul><li>a<ul><li>b</ul><li>c</ul>") == "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>")
    }

    @Test func tablePartsNeedATable() {
        #expect(HTMLSanitizer.sanitize("<tr><td>x</td></tr>") == "x")
        #expect(
            HTMLSanitizer.sanitize("<table><tr><td>a<td>b<tr><td>c</table>")
                == "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
        )
        #expect(
            HTMLSanitizer.sanitize("<div><table><tr><td>a</div>b</td></tr></table></div>")
                == "<div><table><tr><td>ab</td></tr></table></div>"
        )
    }

    @Test func voidElementsHaveNoEndTag() {
        #expect(HTMLSanitizer.sanitize("a<br/>b<br>c<hr/>d") == "a<br>b<br>c<hr>d")
        #expect(HTMLSanitizer.sanitize("<p>a<hr>b") == "<p>a</p><hr>b")
    }

    @Test func nestingIsCappedButTextIsKept() {
        let depth = 10_000
        let html = String(repeating: "<div>", count: depth) + "deep" + String(repeating: "</div>", count: depth) + "after"
        let output = HTMLSanitizer.sanitize(html)
        #expect(
            output == String(repeating: "<div>", count: HTMLSanitizer.maximumDepth) + "deep"
                + String(repeating: "</div>", count: HTMLSanitizer.maximumDepth) + "after"
        )
        let unclosed = HTMLSanitizer.sanitize(String(repeating: "<b><i>x", count: 5_000))
        #expect(Inertness.problems(in: unclosed) == [])
        #expect(Inertness.depth(of: unclosed) == HTMLSanitizer.maximumDepth)
        #expect(unclosed.components(separatedBy: "x").count == 5_001)
    }

    @Test func endTagsOfTagsDroppedForDepthDoNotCloseOuterOnes() {
        let html = String(repeating: "<span>", count: 70) + "x" + String(repeating: "</span>", count: 70) + "<b>y</b>"
        let output = HTMLSanitizer.sanitize(html)
        #expect(output.hasSuffix(String(repeating: "</span>", count: 64) + "<b>y</b>"))
    }

    @Test func duplicateAttributesKeepTheFirst() {
        #expect(
            HTMLSanitizer.sanitize("<a href=\"https://a.example\" href=\"https://b.example\">x</a>")
                == "<a href=\"https://a.example\" rel=\"nofollow noopener\">x</a>"
        )
        #expect(HTMLSanitizer.sanitize("<a href=\"javascript:x\" href=\"https://b.example\">x</a>") == "<a rel=\"nofollow noopener\">x</a>")
    }

    @Test func attributeValuesAreEscaped() {
        #expect(
            HTMLSanitizer.sanitize("<abbr title='say \"hi\" &amp; <bye>'>x</abbr>") == "<abbr title=\"say &quot;hi&quot; &amp; &lt;bye&gt;\">x</abbr>"
        )
    }

    @Test func emptyAndPlainInputs() {
        #expect(HTMLSanitizer.sanitize("") == "")
        #expect(HTMLSanitizer.sanitize("plain") == "plain")
        #expect(HTMLSanitizer.sanitize("<") == "&lt;")
        #expect(HTMLSanitizer.sanitize("</") == "&lt;/")
        #expect(HTMLSanitizer.sanitize("<b") == "")
        #expect(HTMLSanitizer.sanitize("x<a href=\"unterminated>y") == "x")
        #expect(HTMLSanitizer.sanitize("&") == "&amp;")
        #expect(HTMLSanitizer.sanitize("&#") == "&amp;#")
        #expect(HTMLSanitizer.sanitize("&#x") == "&amp;#x")
    }
}
