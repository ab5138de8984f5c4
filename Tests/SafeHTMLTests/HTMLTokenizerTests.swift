import Testing

@testable import SafeHTML

@Suite struct HTMLTokenizerTests {
    private func tokens(_ html: String) -> [HTMLToken] { Array(HTMLTokenizer(html)) }

    @Test func readsTextTagsAndAttributesInEveryQuoting() {
        #expect(
            tokens("a<P Class=\"x y\" id='z' data-v=w checked>b</P >")
                == [
                    .text("a"),
                    .startTag(
                        HTMLStartTag(
                            name: "p",
                            attributes: [
                                HTMLAttribute(name: "class", value: "x y"), HTMLAttribute(name: "id", value: "z"),
                                HTMLAttribute(name: "data-v", value: "w"), HTMLAttribute(name: "checked", value: ""),
                            ]
                        )
                    ), .text("b"), .endTag("p"),
                ]
        )
    }

    @Test func spacesAroundTheEqualsSign() {
        #expect(
            tokens("<a href = \"x\" title= y>") == [
                .startTag(HTMLStartTag(name: "a", attributes: [HTMLAttribute(name: "href", value: "x"), HTMLAttribute(name: "title", value: "y")]))
            ]
        )
    }

    @Test func slashesSeparateAttributesAndMarkSelfClosing() {
        #expect(tokens("<br/>") == [.startTag(HTMLStartTag(name: "br", selfClosing: true))])
        #expect(tokens("<img/src=x/>") == [.startTag(HTMLStartTag(name: "img", attributes: [HTMLAttribute(name: "src", value: "x/")]))])
        #expect(tokens("<a/b/>") == [.startTag(HTMLStartTag(name: "a", attributes: [HTMLAttribute(name: "b", value: "")], selfClosing: true))])
    }

    @Test func attributeValuesAreDecoded() {
        #expect(
            tokens("<a title=\"&lt;&#x41;&#66;&amp\">") == [
                .startTag(HTMLStartTag(name: "a", attributes: [HTMLAttribute(name: "title", value: "<AB&")]))
            ]
        )
    }

    @Test func aGreaterThanInsideQuotesDoesNotEndTheTag() {
        #expect(
            tokens("<a title=\"x>y\">z") == [
                .startTag(HTMLStartTag(name: "a", attributes: [HTMLAttribute(name: "title", value: "x>y")])), .text("z"),
            ]
        )
    }

    @Test func rawTextElementsHoldNoMarkup() {
        #expect(
            tokens("<script>a<b>c</b></script>d") == [.startTag(HTMLStartTag(name: "script")), .rawText("a<b>c</b>"), .endTag("script"), .text("d")]
        )
        #expect(tokens("<style>x</styles></STYLE>") == [.startTag(HTMLStartTag(name: "style")), .rawText("x</styles>"), .endTag("style")])
        #expect(tokens("<textarea>x") == [.startTag(HTMLStartTag(name: "textarea")), .rawText("x")])
        #expect(tokens("<plaintext>a</plaintext>b") == [.startTag(HTMLStartTag(name: "plaintext")), .rawText("a</plaintext>b")])
    }

    @Test func commentsDoctypesAndProcessingInstructions() {
        #expect(
            tokens("<!-- a -->b<!DOCTYPE html>c<?x?>d<![CDATA[e]]>") == [.comment, .text("b"), .comment, .text("c"), .comment, .text("d"), .comment]
        )
        #expect(tokens("<!-->a") == [.comment, .text("a")])
        #expect(tokens("<!-- a") == [.comment])
    }

    @Test func aTagCutOffByTheEndIsDropped() {
        #expect(tokens("a<b c=\"d") == [.text("a"), .comment])
        #expect(tokens("a<b") == [.text("a"), .comment])
        #expect(tokens("a</b") == [.text("a"), .comment])
    }

    @Test func lessThanSignsThatBeginNoMarkupAreText() {
        #expect(tokens("a < b <3 <") == [.text("a < b <3 <")])
    }
}
