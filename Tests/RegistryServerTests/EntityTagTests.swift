import Testing

@testable import RegistryServer

@Suite("Entity tags")
struct EntityTagTests {
    static let tag = EntityTag(opaque: "sha256-abc")

    @Test("the header value quotes the opaque part")
    func headerValue() {
        #expect(Self.tag.headerValue == #""sha256-abc""#)
        #expect(EntityTag(opaque: "").headerValue == #""""#)
        #expect(EntityTag(opaque: "a/b+c=,!#~").headerValue == #""a/b+c=,!#~""#)
        #expect(EntityTag(opaque: "x") == EntityTag(opaque: "x"))
        #expect(EntityTag(opaque: "x") != EntityTag(opaque: "X"))
    }

    @Test(
        "If-None-Match values that name the tag",
        arguments: [
            #""sha256-abc""#,
            "*",
            " * ",
            #"W/"sha256-abc""#,
            #""other", "sha256-abc""#,
            #""other",W/"sha256-abc""#,
            #"  "a" ,  "sha256-abc"  , "b"  "#,
            #""a,b", "sha256-abc""#,
            #"garbage, "sha256-abc""#,
            #""bad tag", "sha256-abc""#,
            #""x"junk, "sha256-abc""#,
            #","sha256-abc",,"#,
            #"w/"other", "sha256-abc""#,
        ]
    )
    func matches(header: String) {
        #expect(EntityTag.ifNoneMatch(header, matches: Self.tag))
    }

    @Test(
        "If-None-Match values that do not name the tag",
        arguments: [
            nil, "", " ", ",", #""other""#, #"W/"other""#, #""SHA256-ABC""#, "sha256-abc", #"w/"sha256-abc""#,
            #""sha256-abc"#, #"sha256-abc""#, #""sha256-abc"x"#, #""sha256-abc" "x""#, #""sha256-"abc""#,
            #""a, sha256-abc""#, "*, \"other\"", "**", #"W/ "sha256-abc""#,
            // An unbalanced quote swallows the rest of the list: no tag after it is trusted.
            #""unterminated, "sha256-abc""#,
        ]
    )
    func doesNotMatch(header: String?) {
        #expect(!EntityTag.ifNoneMatch(header, matches: Self.tag))
    }

    @Test("a tag with a comma is read whole")
    func commaInTag() {
        let tag = EntityTag(opaque: "a,b")
        #expect(EntityTag.ifNoneMatch(#""x", "a,b""#, matches: tag))
        #expect(!EntityTag.ifNoneMatch(#""a", "b""#, matches: tag))
    }
}
