import Testing

@testable import RegistryServer

@Suite("PEP 691 content negotiation")
struct ContentNegotiationTests {
    static let v1JSON = "application/vnd.pypi.simple.v1+json"
    static let v1HTML = "application/vnd.pypi.simple.v1+html"

    @Test(
        "Accept headers real clients send",
        arguments: [
            // pip 22.2 and later
            (
                "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01",
                SimpleFormat.json
            ),
            // uv
            ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01", .json),
            // pip before 22.2
            ("text/html", .legacyHTML),
            // a browser
            ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", .legacyHTML),
            // curl
            ("*/*", .legacyHTML),
        ]
    )
    func realClients(accept: String, expected: SimpleFormat) {
        #expect(ContentNegotiation.choose(accept: accept, formatParameter: nil) == expected)
    }

    @Test(
        "the highest weight wins; ties go to the more specific range, then to the server's preference",
        arguments: [
            ("application/vnd.pypi.simple.v1+html", SimpleFormat?.some(.html)),
            ("application/vnd.pypi.simple.latest+json", .json),
            ("application/vnd.pypi.simple.latest+html", .html),
            ("application/vnd.pypi.simple.v1+json;q=0.5, application/vnd.pypi.simple.v1+html", .html),
            ("text/html, application/vnd.pypi.simple.v1+html", .html),
            ("text/html, application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html", .json),
            ("application/*", .json),
            ("text/*", .legacyHTML),
            ("text/*, application/*", .json),
            ("text/html, application/*", .legacyHTML),
            ("application/*;q=0.5, text/html;q=0.4", .json),
            // The exact range sets JSON's weight, application/* that of v1 HTML.
            ("application/*;q=0.9, application/vnd.pypi.simple.v1+json;q=0.1", .html),
            // Equally specific ranges: the higher weight counts.
            ("application/vnd.pypi.simple.v1+json;q=0.1, application/vnd.pypi.simple.latest+json;q=0.9, text/html;q=0.5", .json),
            // A client that rules plain HTML out but takes anything else gets the PEP 691 JSON form.
            ("text/html;q=0, */*;q=0.5", .json),
            ("text/html;q=0, application/vnd.pypi.simple.v1+json;q=0, */*", .html),
            ("*/*;q=0.1, application/vnd.pypi.simple.v1+html;q=0.1", .html),
        ]
    )
    func ranking(accept: String, expected: SimpleFormat?) {
        #expect(ContentNegotiation.choose(accept: accept, formatParameter: nil) == expected)
    }

    @Test(
        "nothing acceptable is nil, for a 406",
        arguments: [
            "application/json",
            "image/png, text/plain",
            "*/*;q=0",
            "application/vnd.pypi.simple.v1+json;q=0",
            "text/html;q=0, application/*;q=0",
            "application/vnd.pypi.simple.v2+json",
        ]
    )
    func notAcceptable(accept: String) {
        #expect(ContentNegotiation.choose(accept: accept, formatParameter: nil) == nil)
    }

    @Test(
        "no header, or no well-formed entry, is plain HTML",
        arguments: [nil, "", " ", ",", "garbage", "text/html;q=2", "application/vnd.pypi.simple.v1+json;q=0.0001"]
    )
    func noPreference(accept: String?) {
        #expect(ContentNegotiation.choose(accept: accept, formatParameter: nil) == .legacyHTML)
    }

    @Test(
        "malformed entries are skipped, the rest still counts",
        arguments: [
            ("application/vnd.pypi.simple.v1+json;q=abc, application/vnd.pypi.simple.v1+html;q=0.5", SimpleFormat.html),
            ("text, application/vnd.pypi.simple.v1+html;q=0.1", .html),
            ("*/vnd.pypi.simple.v1+json, text/html;q=0.1", .legacyHTML),
            ("text / html, application/vnd.pypi.simple.v1+html;q=0.1", .html),
            ("/, a/, /b, application/vnd.pypi.simple.v1+html;q=0.1", .html),
            ("application/vnd.pypi.simple.v1+json;q=1.5, text/html;q=0.1", .legacyHTML),
        ]
    )
    func malformedEntries(accept: String, expected: SimpleFormat) {
        #expect(ContentNegotiation.choose(accept: accept, formatParameter: nil) == expected)
    }

    @Test("media types and q are case-insensitive; other parameters are ignored, quoted commas included")
    func parametersAndCase() {
        #expect(ContentNegotiation.choose(accept: "Application/VND.PyPI.Simple.V1+JSON", formatParameter: nil) == .json)
        #expect(ContentNegotiation.choose(accept: "TEXT/HTML;Q=0.5, application/*;q=0.4", formatParameter: nil) == .legacyHTML)
        #expect(
            ContentNegotiation.choose(
                accept: "application/vnd.pypi.simple.v1+json; charset=utf-8; q=0.9, text/html;q=0.8",
                formatParameter: nil
            ) == .json
        )
        #expect(
            ContentNegotiation.choose(
                accept: #"text/html;foo="a,b;q=1";q=0.1, application/vnd.pypi.simple.v1+html;q=0.2"#,
                formatParameter: nil
            ) == .html
        )
    }

    @Test(
        "q-values: 0 or 1 with up to three decimals",
        arguments: [
            ("a/b", 1000), ("a/b;q=1", 1000), ("a/b;q=1.", 1000), ("a/b;q=1.000", 1000), ("a/b;q=0", 0),
            ("a/b;q=0.", 0), ("a/b;q=0.5", 500), ("a/b;q=0.05", 50), ("a/b;q=0.001", 1), ("a/b; q = 0.25 ", 250),
            ("a/b;q=0.1;q=0.9", 100), ("a/b;level=1;q=0.3", 300),
        ]
    )
    func weights(element: String, weight: Int) {
        #expect(ContentNegotiation.MediaRange(parsing: Substring(element))?.weight == weight)
    }

    @Test(
        "malformed q-values make the entry malformed",
        arguments: ["a/b;q=abc", "a/b;q=0.0001", "a/b;q=1.001", "a/b;q=2", "a/b;q=.5", "a/b;q=", "a/b;q=-0", "a/b;q=0,5"]
    )
    func malformedWeights(element: String) {
        #expect(ContentNegotiation.MediaRange(parsing: Substring(element)) == nil)
    }

    @Test(
        "the format query parameter decides alone when present",
        arguments: [
            (v1JSON, "text/html", SimpleFormat?.some(.json)),
            ("application/vnd.pypi.simple.latest+html", nil, .html),
            ("text/html", v1JSON, .legacyHTML),
            ("Application/Vnd.PyPI.Simple.V1+Json", nil, .json),
            ("application/json", v1JSON, nil),
            ("*/*", nil, nil),
            ("application/*", nil, nil),
            ("", v1JSON, nil),
            ("json", nil, nil),
        ]
    )
    func formatParameter(format: String, accept: String?, expected: SimpleFormat?) {
        #expect(ContentNegotiation.choose(accept: accept, formatParameter: format) == expected)
    }

    @Test("each format sends its own media type")
    func mediaTypes() {
        #expect(SimpleFormat.json.mediaType == Self.v1JSON)
        #expect(SimpleFormat.html.mediaType == Self.v1HTML)
        #expect(SimpleFormat.legacyHTML.mediaType == "text/html")
    }
}
