import Testing

@testable import Registry

/// Reading upstream project pages: what is kept, what is rewritten to absolute URLs, and what a
/// hostile upstream cannot get past (each refused per item).
@Suite struct UpstreamPageParserTests {
    let sha = String(repeating: "ab", count: 32)
    let metadataSHA = String(repeating: "cd", count: 32)
    let pageURL = "https://upstream.example/simple/demo/"

    func json(_ files: String, versions: String? = nil) -> [UInt8] {
        let versionsField = versions.map { ", \"versions\": \($0)" } ?? ""
        return Array(#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [\#(files)]\#(versionsField)}"#.utf8)
    }

    @Test func keepsEveryPEP691FieldAndMakesURLsAbsolute() throws {
        let page = try UpstreamPageParser.parseJSON(
            json(
                """
                {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl", "hashes": {"sha256": "\(sha.uppercased())"},
                 "requires-python": ">=3.9", "core-metadata": {"sha256": "\(metadataSHA)"}, "yanked": "broken", "size": 1234,
                 "upload-time": "2025-01-02T03:04:05.123456Z"},
                {"filename": "demo-0.9.tar.gz", "url": "https://files.example/demo-0.9.tar.gz", "hashes": {"sha256": "\(sha)"}, "yanked": true,
                 "dist-info-metadata": true}
                """,
                versions: #"["0.9", "1.0"]"#
            ),
            pageURL: pageURL,
            project: "demo"
        )
        #expect(page.versions == ["0.9", "1.0"])
        #expect(page.files.count == 2)
        let wheel = page.files[0]
        #expect(wheel.url == "https://upstream.example/files/demo-1.0-py3-none-any.whl")
        #expect(wheel.sha256 == sha)
        #expect(wheel.requiresPython == ">=3.9")
        #expect(wheel.coreMetadataSHA256 == metadataSHA)
        #expect(wheel.yanked == "broken")
        #expect(wheel.size == 1234)
        #expect(wheel.uploadTime == "2025-01-02T03:04:05.123456Z")
        // `true` without a hash cannot be verified, so no metadata is announced for it.
        #expect(page.files[1].coreMetadataSHA256 == nil)
        #expect(page.files[1].yanked == "")
    }

    @Test func leavesOutHostileAndUnverifiableFiles() throws {
        let entries = [
            #"{"filename": "demo-1.0.tar.gz", "url": "https://x.example/a", "hashes": {"md5": "00"}}"#,
            #"{"filename": "../demo-1.0.tar.gz", "url": "https://x.example/a", "hashes": {"sha256": "\#(sha)"}}"#,
            #"{"filename": "sub/demo-1.0.tar.gz", "url": "https://x.example/a", "hashes": {"sha256": "\#(sha)"}}"#,
            #"{"filename": "demo-1.0\u0000.tar.gz", "url": "https://x.example/a", "hashes": {"sha256": "\#(sha)"}}"#,
            #"{"filename": "other-1.0.tar.gz", "url": "https://x.example/a", "hashes": {"sha256": "\#(sha)"}}"#,
            #"{"filename": "demo-1.0.tar.gz", "url": "file:///etc/passwd", "hashes": {"sha256": "\#(sha)"}}"#,
            #"{"filename": "demo-1.0.tar.gz", "url": "https://x.example/a", "hashes": {"sha256": "nothex"}}"#,
            #"{"filename": "demo-2.0.tar.gz", "url": "https://x.example/b", "hashes": {"sha256": "\#(sha)"}, "upload-time": "<script>"}"#,
        ]
        let page = try UpstreamPageParser.parseJSON(json(entries.joined(separator: ",")), pageURL: pageURL, project: "demo")
        #expect(page.files.map(\.filename) == ["demo-2.0.tar.gz"])
        #expect(page.files[0].uploadTime == nil)
        #expect(page.versions == ["2.0"])
    }

    @Test func refusesWhatIsNotAPage() {
        #expect(throws: UpstreamPageParser.Failure.self) {
            try UpstreamPageParser.parse(
                Array("not json".utf8),
                contentType: "application/vnd.pypi.simple.v1+json",
                pageURL: pageURL,
                project: "demo"
            )
        }
        #expect(throws: UpstreamPageParser.Failure.self) {
            try UpstreamPageParser.parse(Array("{}".utf8), contentType: "application/vnd.pypi.simple.v1+json", pageURL: pageURL, project: "demo")
        }
        #expect(throws: UpstreamPageParser.Failure.self) {
            try UpstreamPageParser.parse(Array("%PDF".utf8), contentType: "application/pdf", pageURL: pageURL, project: "demo")
        }
    }

    @Test func readsPEP503Anchors() throws {
        let html = """
            <!DOCTYPE html><html><body>
            <a href="/files/demo-1.0-py3-none-any.whl#sha256=\(sha)" data-requires-python="&gt;=3.8" data-core-metadata="sha256=\(metadataSHA)">demo-1.0-py3-none-any.whl</a><br/>
            <A HREF='https://files.example/demo-1.1.tar.gz#sha256=\(sha)' data-yanked="">demo-1.1.tar.gz</A>
            <a href="https://files.example/demo-1.2.tar.gz">demo-1.2.tar.gz</a>
            <a href="https://files.example/x#sha256=\(sha)">demo-1.3.tar.gz&#x2f;..</a>
            </body></html>
            """
        let page = try UpstreamPageParser.parse(Array(html.utf8), contentType: "text/html; charset=utf-8", pageURL: pageURL, project: "demo")
        #expect(page.files.map(\.filename) == ["demo-1.0-py3-none-any.whl", "demo-1.1.tar.gz"])
        #expect(page.files[0].url == "https://upstream.example/files/demo-1.0-py3-none-any.whl")
        #expect(page.files[0].requiresPython == ">=3.8")
        #expect(page.files[0].coreMetadataSHA256 == metadataSHA)
        #expect(page.files[1].yanked == "")
        #expect(page.versions == ["1.0", "1.1"])
    }

    @Test func decodesEntities() {
        #expect(HTMLAnchors.decodeEntities("a&amp;b&lt;&#62;&#x27;&bogus;&") == "a&b<>'&bogus;&")
    }
}

/// The settings' rules: what each field accepts, and that forwarding needs an upstream.
@Suite struct SettingsChangeTests {
    @Test func forwardingNeedsAnUpstream() throws {
        #expect(throws: SettingsError(field: "pypi_package_requests_forwarding", problem: "needs pypi_upstream_url to be set first")) {
            try SettingsChange(forwarding: true).applied(to: ApplicationSettings())
        }
        let on = try SettingsChange(forwarding: true, upstreamURL: "http://127.0.0.1:9/simple").applied(to: ApplicationSettings())
        #expect(on.forwarding && on.upstreamURL == "http://127.0.0.1:9/simple/")
        // Clearing the URL while forwarding is on is refused too.
        #expect(throws: SettingsError.self) { try SettingsChange(upstreamURL: "").applied(to: on) }
    }

    @Test func refusesBadValues() {
        for url in ["ftp://x/simple", "/simple", "http://", "http://user:pw@host/simple", "http://host/simple#x", "http://host/a b"] {
            #expect(throws: SettingsError.self, "\(url)") { try SettingsChange(upstreamURL: url).applied(to: ApplicationSettings()) }
        }
        #expect(throws: SettingsError.self) { try SettingsChange(forwardingMode: "proxy").applied(to: ApplicationSettings()) }
        for ttl in ["-1", "x", "2592001"] {
            #expect(throws: SettingsError.self) { try SettingsChange(upstreamTTLSeconds: ttl).applied(to: ApplicationSettings()) }
        }
    }

    @Test func emptyStringsClear() throws {
        var settings = ApplicationSettings()
        settings.upstreamUsername = "u"
        settings.upstreamPassword = "p"
        let cleared = try SettingsChange(upstreamUsername: "", upstreamPassword: "").applied(to: settings)
        #expect(cleared.upstreamUsername == nil && cleared.upstreamPassword == nil)
    }
}
