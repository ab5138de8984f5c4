import PythonPackaging
import Testing

/// Normal and canonical forms of versions, as computed by `packaging` 26.2:
/// `str(Version(input))` and `canonicalize_version(input)`.
private let normalFormTable: [(input: String, normalized: String, canonical: String)] = [
    ("1", "1", "1"),
    ("1.0", "1.0", "1"),
    ("1.0.0", "1.0.0", "1"),
    ("1.0.0.0", "1.0.0.0", "1"),
    ("0", "0", "0"),
    ("0.0", "0.0", "0"),
    ("0.0.1", "0.0.1", "0.0.1"),
    ("01", "1", "1"),
    ("1.01", "1.1", "1.1"),
    ("00!01.002", "1.2", "1.2"),
    ("2024.1.15", "2024.1.15", "2024.1.15"),
    ("1.2.3.4.5.6", "1.2.3.4.5.6", "1.2.3.4.5.6"),
    ("v1.0", "1.0", "1"),
    ("V1.0", "1.0", "1"),
    (" 1.0 ", "1.0", "1"),
    ("\t1.0\n", "1.0", "1"),
    ("  v1.0.0rc1  ", "1.0.0rc1", "1rc1"),
    ("1.0.0rc1", "1.0.0rc1", "1rc1"),
    ("1.0.0a0", "1.0.0a0", "1a0"),
    ("1.0a", "1.0a0", "1a0"),
    ("1.0a1", "1.0a1", "1a1"),
    ("1.0A1", "1.0a1", "1a1"),
    ("1.0alpha1", "1.0a1", "1a1"),
    ("1.0ALPHA.1", "1.0a1", "1a1"),
    ("1.0-alpha-1", "1.0a1", "1a1"),
    ("1.0_alpha_1", "1.0a1", "1a1"),
    ("1.0.alpha.1", "1.0a1", "1a1"),
    ("v1.0-ALPHA.1", "1.0a1", "1a1"),
    ("1.0b2", "1.0b2", "1b2"),
    ("1.0beta2", "1.0b2", "1b2"),
    ("1.0-Beta2", "1.0b2", "1b2"),
    ("1.0c3", "1.0rc3", "1rc3"),
    ("1.0rc3", "1.0rc3", "1rc3"),
    ("1.0pre3", "1.0rc3", "1rc3"),
    ("1.0preview3", "1.0rc3", "1rc3"),
    ("1.0-PREVIEW-3", "1.0rc3", "1rc3"),
    ("1.0.RC.3", "1.0rc3", "1rc3"),
    ("1.0rc", "1.0rc0", "1rc0"),
    ("1.0-1", "1.0.post1", "1.post1"),
    ("1.0-0", "1.0.post0", "1.post0"),
    ("1.0post1", "1.0.post1", "1.post1"),
    ("1.0.post1", "1.0.post1", "1.post1"),
    ("1.0-post1", "1.0.post1", "1.post1"),
    ("1.0_post_1", "1.0.post1", "1.post1"),
    ("1.0.post", "1.0.post0", "1.post0"),
    ("1.0post", "1.0.post0", "1.post0"),
    ("1.0rev1", "1.0.post1", "1.post1"),
    ("1.0r1", "1.0.post1", "1.post1"),
    ("1.0-r", "1.0.post0", "1.post0"),
    ("1.0.REV.2", "1.0.post2", "1.post2"),
    ("1.0-post-02", "1.0.post2", "1.post2"),
    ("1.0dev", "1.0.dev0", "1.dev0"),
    ("1.0.dev0", "1.0.dev0", "1.dev0"),
    ("1.0-dev1", "1.0.dev1", "1.dev1"),
    ("1.0_dev_1", "1.0.dev1", "1.dev1"),
    ("1.0DEV1", "1.0.dev1", "1.dev1"),
    ("1.0.dev.", "1.0.dev0", "1.dev0"),
    ("1.0-dev", "1.0.dev0", "1.dev0"),
    ("1.0a1.post2.dev3", "1.0a1.post2.dev3", "1a1.post2.dev3"),
    ("1.0rc1-1", "1.0rc1.post1", "1rc1.post1"),
    ("1.0b2-3.dev4", "1.0b2.post3.dev4", "1b2.post3.dev4"),
    ("1.0.post1.dev2", "1.0.post1.dev2", "1.post1.dev2"),
    ("1.0a.post.dev", "1.0a0.post0.dev0", "1a0.post0.dev0"),
    ("1!1.0", "1!1.0", "1!1"),
    ("1!1.0.0", "1!1.0.0", "1!1"),
    ("0!1.0", "1.0", "1"),
    ("2!0.0.0.dev0", "2!0.0.0.dev0", "2!0.dev0"),
    ("10!2.0+local", "10!2.0+local", "10!2+local"),
    ("1.0+abc", "1.0+abc", "1+abc"),
    ("1.0+ABC", "1.0+abc", "1+abc"),
    ("1.0+abc.1", "1.0+abc.1", "1+abc.1"),
    ("1.0+abc-1", "1.0+abc.1", "1+abc.1"),
    ("1.0+abc_1", "1.0+abc.1", "1+abc.1"),
    ("1.0+01", "1.0+1", "1+1"),
    ("1.0+001.abc.01", "1.0+1.abc.1", "1+1.abc.1"),
    ("1.0.0+ubuntu.1", "1.0.0+ubuntu.1", "1+ubuntu.1"),
    ("1.0+1a", "1.0+1a", "1+1a"),
    ("0.0+local", "0.0+local", "0+local"),
    ("1.0a1+local.7", "1.0a1+local.7", "1a1+local.7"),
    ("1.0.post1+x", "1.0.post1+x", "1.post1+x"),
    ("1.0.0.dev1+g1234abc", "1.0.0.dev1+g1234abc", "1.dev1+g1234abc"),
    ("1.0a-", "1.0a0", "1a0"),
    ("1.0a.", "1.0a0", "1a0"),
    ("1.0.post.", "1.0.post0", "1.post0"),
    ("1.0dev-", "1.0.dev0", "1.dev0"),
    ("1.0.0.0rc0.post0.dev0+0", "1.0.0.0rc0.post0.dev0+0", "1rc0.post0.dev0+0"),
    ("2020.09.01", "2020.9.1", "2020.9.1"),
    ("1.0.0-1", "1.0.0.post1", "1.post1"),
    ("1.2.0.0.0b0", "1.2.0.0.0b0", "1.2b0"),
]

/// Strings that `packaging.version.Version` refuses.
private let invalidVersions: [String] = [
    "",
    " ",
    "abc",
    "1.0.x",
    "1..0",
    "1.0.",
    ".1",
    "1.0+",
    "1.0+abc.",
    "1.0+.abc",
    "1.0+abc..1",
    "1.0+abc!",
    "1.0-",
    "1.0--1",
    "1.0-1-1",
    "1.0a1a1",
    "1.0prev",
    "1.0alph",
    "1.0-re",
    "1.0.dev1.post1",
    "1.0.post1.a1",
    "v",
    "vv1.0",
    "1.0v",
    "v 1.0",
    "1.0 a1",
    "1 .0",
    "1!",
    "!1.0",
    "1!!1.0",
    "1!v1.0",
    "-1.0",
    "+1.0",
    "1.0+abc+def",
    "1.0\u{e9}",
    "\u{661}.0",
    "1,0",
    "1.0/2",
    "1.0 1",
    "1.0.dev1.dev2",
    "1.0rc1rc2",
    "one",
    "1.0.0-a-1-1-1",
    "latest",
    "1.0+\u{e9}",
    "1.0a1.post1.post2",
    "1.0_",
    "1.0+_abc",
]

@Suite("Version parsing")
struct VersionParsingTests {
    @Test("normal and canonical forms match packaging", arguments: normalFormTable)
    func matchesPackaging(input: String, normalized: String, canonical: String) throws {
        let version = try Version(parsing: input)
        #expect(version.normalized == normalized)
        #expect(version.canonical == canonical)
        #expect(version.description == normalized)
    }

    @Test("the normal form parses back to an identical version", arguments: normalFormTable)
    func normalFormRoundTrips(input: String, normalized: String, canonical: String) throws {
        let version = try Version(parsing: input)
        let reparsed = try Version(parsing: version.normalized)
        #expect(reparsed == version)
        #expect(reparsed.normalized == normalized)
        #expect(try Version(parsing: canonical) == version)
    }

    @Test("invalid versions are refused", arguments: invalidVersions)
    func invalid(input: String) {
        #expect(throws: VersionError.self) {
            try Version(parsing: input)
        }
    }

    @Test("empty and blank strings are reported as empty", arguments: ["", " ", "\t\n", "\u{3000}"])
    func empty(input: String) {
        #expect(throws: VersionError.empty) {
            try Version(parsing: input)
        }
    }

    @Test("malformed strings carry the input")
    func invalidCarriesInput() {
        #expect(throws: VersionError.invalid("1.0.x")) {
            try Version(parsing: "1.0.x")
        }
    }

    @Test("whitespace that Python's \\s matches is stripped, including non-ASCII")
    func unicodeWhitespace() throws {
        for input in ["\u{A0}1.0", "1.0\u{85}", "\u{1C}1.0\u{1F}", "\u{2003}1.0\u{3000}", "\u{0B}\u{0C}1.0\r"] {
            #expect(try Version(parsing: input).normalized == "1.0")
        }
        #expect(throws: VersionError.self) { try Version(parsing: "\u{200B}1.0") }
    }

    @Test("numbers beyond Int.max are refused without crashing")
    func hugeNumbers() throws {
        #expect(try Version(parsing: "9223372036854775807").release == [Int.max])
        for input in [
            "9223372036854775808", "1.99999999999999999999999", "99999999999999999999!1.0",
            "1.0a99999999999999999999", "1.0.post99999999999999999999", "1.0.dev99999999999999999999",
            "1.0-99999999999999999999",
        ] {
            #expect(throws: VersionError.numberOutOfRange(input)) {
                try Version(parsing: input)
            }
        }
        // A malformed string is reported as malformed even if it also has a huge number.
        #expect(throws: VersionError.invalid("99999999999999999999x")) {
            try Version(parsing: "99999999999999999999x")
        }
    }

    @Test("leading zeros are insignificant, however many")
    func leadingZeros() throws {
        let version = try Version(parsing: "0000000000000000000000001.000000000000000000000002")
        #expect(version.release == [1, 2])
        #expect(version.normalized == "1.2")
    }

    @Test("numeric local segments of any size compare as numbers")
    func hugeLocalSegments() throws {
        let huge = try Version(parsing: "1.0+99999999999999999999999999")
        #expect(huge.local == "99999999999999999999999999")
        #expect(try Version(parsing: "1.0+0099999999999999999999999999") == huge)
        #expect(try Version(parsing: "1.0+9999999999999999999999999") < huge)
        #expect(try Version(parsing: "1.0+100000000000000000000000000") > huge)
    }

    @Test("components are exposed")
    func components() throws {
        let version = try Version(parsing: "2!1.0.3RC4-5.DEV6+Ubuntu-01")
        #expect(version.epoch == 2)
        #expect(version.release == [1, 0, 3])
        #expect(version.preRelease == Version.PreRelease(phase: .releaseCandidate, number: 4))
        #expect(version.postRelease == 5)
        #expect(version.devRelease == 6)
        #expect(version.local == "ubuntu.1")
        #expect(version.normalized == "2!1.0.3rc4.post5.dev6+ubuntu.1")

        let plain = try Version(parsing: "1.0")
        #expect(plain.epoch == 0)
        #expect(plain.preRelease == nil)
        #expect(plain.postRelease == nil)
        #expect(plain.devRelease == nil)
        #expect(plain.local == nil)
    }

    /// `(input, is_prerelease, is_postrelease, is_devrelease)` from `packaging`.
    @Test(
        "release kinds match packaging",
        arguments: [
            ("1.0", false, false, false),
            ("1.0a1", true, false, false),
            ("1.0.dev1", true, false, true),
            ("1.0.post1", false, true, false),
            ("1.0rc1.post1", true, true, false),
            ("1.0.post1.dev1", true, true, true),
            ("1.0+local", false, false, false),
            ("1.0a1+local", true, false, false),
        ]
    )
    func releaseKinds(input: String, isPrerelease: Bool, isPostRelease: Bool, isDevelopmentRelease: Bool) throws {
        let version = try Version(parsing: input)
        #expect(version.isPrerelease == isPrerelease)
        #expect(version.isPostRelease == isPostRelease)
        #expect(version.isDevelopmentRelease == isDevelopmentRelease)
    }

    @Test("parsing accepts any StringProtocol")
    func substrings() throws {
        let text = "foo-1.0rc1.tar.gz"
        let component = text.dropFirst(4).dropLast(7)
        #expect(try Version(parsing: component).normalized == "1.0rc1")
    }

    @Test("error messages quote the input safely")
    func errorMessages() {
        #expect(VersionError.empty.description == "Invalid version: the version is empty")
        #expect(
            VersionError.invalid("1.0.x").description
                == "Invalid version: '1.0.x' is not a PEP 440 version"
        )
        #expect(
            VersionError.invalid("1\n\u{1B}[31m'é").description
                == "Invalid version: '1\\u{A}\\u{1B}[31m\\u{27}\\u{E9}' is not a PEP 440 version"
        )
        let long = VersionError.invalid(String(repeating: "x", count: 1000)).description
        #expect(long.count < 150)
        #expect(
            VersionError.numberOutOfRange("1.99999999999999999999").description
                == "Invalid version: '1.99999999999999999999' contains a number that is too large"
        )
    }
}
