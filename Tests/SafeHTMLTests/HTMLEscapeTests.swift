import SafeHTML
import Testing

@Suite struct HTMLEscapeTests {
    @Test func escapesTheFiveCharactersThatEndTextOrAnAttribute() {
        #expect(HTML.escape("<a href=\"x\" title='y'>&amp;</a>") == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;")
    }

    @Test func keepsOtherTextAsItIs() {
        #expect(HTML.escape("naïve café 😀 \n\t") == "naïve café 😀 \n\t")
    }
}
