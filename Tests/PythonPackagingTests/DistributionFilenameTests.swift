import PythonPackaging
import Testing

/// A wheel file name and what it should parse into; names and versions checked against
/// `packaging.utils.parse_wheel_filename`.
struct WheelCase: Sendable, CustomTestStringConvertible {
    var filename: String
    var nameComponent: String
    var normalizedName: String
    var version: String
    var buildTag: String? = nil
    var python: [String]
    var abi: [String]
    var platform: [String]

    var testDescription: String { self.filename }
}

private let wheels: [WheelCase] = [
    WheelCase(
        filename: "foo-1.0-py3-none-any.whl",
        nameComponent: "foo",
        normalizedName: "foo",
        version: "1.0",
        python: ["py3"],
        abi: ["none"],
        platform: ["any"]
    ),
    WheelCase(
        filename: "foo_bar-1.0-py3-none-any.whl",
        nameComponent: "foo_bar",
        normalizedName: "foo-bar",
        version: "1.0",
        python: ["py3"],
        abi: ["none"],
        platform: ["any"]
    ),
    WheelCase(
        filename: "Foo.Bar-2.0.0rc1-py2.py3-none-any.whl",
        nameComponent: "Foo.Bar",
        normalizedName: "foo-bar",
        version: "2.0.0rc1",
        python: ["py2", "py3"],
        abi: ["none"],
        platform: ["any"]
    ),
    WheelCase(
        filename: "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        nameComponent: "numpy",
        normalizedName: "numpy",
        version: "1.26.4",
        python: ["cp311"],
        abi: ["cp311"],
        platform: ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    ),
    WheelCase(
        filename: "pkg-1.0-1-py3-none-any.whl",
        nameComponent: "pkg",
        normalizedName: "pkg",
        version: "1.0",
        buildTag: "1",
        python: ["py3"],
        abi: ["none"],
        platform: ["any"]
    ),
    WheelCase(
        filename: "pkg-1.0-2abc-cp39-abi3-win_amd64.whl",
        nameComponent: "pkg",
        normalizedName: "pkg",
        version: "1.0",
        buildTag: "2abc",
        python: ["cp39"],
        abi: ["abi3"],
        platform: ["win_amd64"]
    ),
    WheelCase(
        filename: "pkg-1!2.0+local.1-py3-none-any.whl",
        nameComponent: "pkg",
        normalizedName: "pkg",
        version: "1!2.0+local.1",
        python: ["py3"],
        abi: ["none"],
        platform: ["any"]
    ),
    WheelCase(
        filename: "zope.interface-6.1-cp312-cp312-macosx_10_9_x86_64.whl",
        nameComponent: "zope.interface",
        normalizedName: "zope-interface",
        version: "6.1",
        python: ["cp312"],
        abi: ["cp312"],
        platform: ["macosx_10_9_x86_64"]
    ),
    WheelCase(
        filename: "pkg-v1.0_BETA_2-py3-none-any.whl",
        nameComponent: "pkg",
        normalizedName: "pkg",
        version: "1.0b2",
        python: ["py3"],
        abi: ["none"],
        platform: ["any"]
    ),
]

/// `(file name, name as written, normalised name, version as written, normalised version,
/// extension)`; the right-most readings agree with `packaging.utils.parse_sdist_filename`.
private let sdists: [(String, String, String, String, String, String)] = [
    ("foo-1.0.tar.gz", "foo", "foo", "1.0", "1.0", ".tar.gz"),
    ("foo_bar-1.0.tar.gz", "foo_bar", "foo-bar", "1.0", "1.0", ".tar.gz"),
    ("foo-bar-1.0.zip", "foo-bar", "foo-bar", "1.0", "1.0", ".zip"),
    ("Foo.Bar-1.0.0rc1.tar.gz", "Foo.Bar", "foo-bar", "1.0.0rc1", "1.0.0rc1", ".tar.gz"),
    ("foo-bar-baz-2.0.post1.tar.gz", "foo-bar-baz", "foo-bar-baz", "2.0.post1", "2.0.post1", ".tar.gz"),
    // Ambiguous: read at the right-most dash, like packaging.
    ("foo-bar-1.0-1.tar.gz", "foo-bar-1.0", "foo-bar-1-0", "1", "1", ".tar.gz"),
    // "dev" is no version, so the split moves one dash to the left.
    ("foo-1.0-dev.tar.gz", "foo", "foo", "1.0-dev", "1.0.dev0", ".tar.gz"),
    ("foo-2024.1.zip", "foo", "foo", "2024.1", "2024.1", ".zip"),
]

@Suite("Distribution file names")
struct DistributionFilenameTests {
    @Test("wheel file names", arguments: wheels)
    func wheel(_ expected: WheelCase) throws {
        let wheel = try WheelFilename(parsing: expected.filename)
        #expect(wheel.filename == expected.filename)
        #expect(wheel.nameComponent == expected.nameComponent)
        #expect(wheel.name.normalized == expected.normalizedName)
        #expect(wheel.version.normalized == expected.version)
        #expect(wheel.buildTag?.raw == expected.buildTag)
        #expect(wheel.pythonTags == expected.python)
        #expect(wheel.abiTags == expected.abi)
        #expect(wheel.platformTags == expected.platform)

        let parsed = try DistributionFilename(parsing: expected.filename)
        #expect(parsed == .wheel(wheel))
        #expect(parsed.packageType == "bdist_wheel")
        #expect(parsed.nameComponent == expected.nameComponent)
        #expect(parsed.version == wheel.version)
        #expect(parsed.description == expected.filename)
    }

    @Test("build tags split into number and suffix")
    func buildTags() throws {
        let tag = try #require(try WheelFilename(parsing: "pkg-1.0-2abc-cp39-abi3-win_amd64.whl").buildTag)
        #expect(tag.number == 2)
        #expect(tag.suffix == "abc")
        let one = try WheelFilename.BuildTag(parsing: "1")
        #expect(one.number == 1 && one.suffix == "")
        #expect(try WheelFilename.BuildTag(parsing: "01") == one)
        #expect(one < tag)
        #expect(try WheelFilename.BuildTag(parsing: "2") < tag)
        #expect(try WheelFilename.BuildTag(parsing: "10") > tag)
    }

    @Test("sdist file names", arguments: sdists)
    func sdist(
        filename: String,
        nameComponent: String,
        normalizedName: String,
        versionComponent: String,
        version: String,
        fileExtension: String
    ) throws {
        let sdist = try SdistFilename(parsing: filename)
        #expect(sdist.filename == filename)
        #expect(sdist.nameComponent == nameComponent)
        #expect(sdist.name.normalized == normalizedName)
        #expect(sdist.versionComponent == versionComponent)
        #expect(sdist.version.normalized == version)
        #expect(sdist.extension == fileExtension)

        let parsed = try DistributionFilename(parsing: filename)
        #expect(parsed == .sdist(sdist))
        #expect(parsed.packageType == "sdist")
        #expect(parsed.nameComponent == nameComponent)
        #expect(parsed.name.normalized == normalizedName)
    }

    @Test(
        "matches compares normalised names and PEP 440 versions",
        arguments: [
            ("foo-1.0.tar.gz", "Foo", "1.0.0", true),
            ("foo-1.0.tar.gz", "foo", "1", true),
            ("foo_bar-1.0-py3-none-any.whl", "foo.bar", "1.0", true),
            ("Foo.Bar-1.0a1-py3-none-any.whl", "FOO_BAR", "1.0alpha1", true),
            ("foo-1.0.post1.zip", "foo", "1.0-1", true),
            ("foo-1.0.tar.gz", "foo", "1.0.1", false),
            ("foo-1.0.tar.gz", "foobar", "1.0", false),
            ("foo-1.0.tar.gz", "foo", "1.0+local", false),
            ("foo-1.0+local-py3-none-any.whl", "foo", "1.0", false),
            ("foo-1.0.tar.gz", "foo", "1.0.post0", false),
            ("foo-bar-1.0-py3-none-any.whl", "foo-bar", "1.0", false),  // unescaped dash: not a wheel name
            // Every reading of an ambiguous legacy sdist name is accepted.
            ("foo-bar-1.0-1.tar.gz", "foo-bar", "1.0.post1", true),
            ("foo-bar-1.0-1.tar.gz", "foo-bar-1.0", "1", true),
            ("foo-bar-1.0-1.tar.gz", "foo-bar", "1", false),
            ("foo-bar-1.0.tar.gz", "foo-bar", "1.0", true),
            ("foo-bar-1.0.tar.gz", "foo", "1.0", false),
        ] as [(String, String, String, Bool)]
    )
    func matches(filename: String, name: String, version: String, expected: Bool) throws {
        guard let parsed = try? DistributionFilename(parsing: filename) else {
            #expect(!expected)
            return
        }
        let release = (name: try ProjectName(validating: name), version: try Version(parsing: version))
        #expect(parsed.matches(name: release.name, version: release.version) == expected)
    }

    @Test(
        "malformed wheel and sdist names are refused with the reason",
        arguments: [
            ("foo-py3-none-any.whl", DistributionFilenameError.wrongWheelPartCount(4)),
            ("foo-1.0-1-2-py3-none-any.whl", .wrongWheelPartCount(7)),
            ("foo-1.0.tar.gz.whl", .wrongWheelPartCount(2)),
            ("foo-1.0.x-py3-none-any.whl", .invalidVersion(.invalid("1.0.x"))),
            ("foo--py3-none-any.whl", .invalidVersion(.empty)),
            ("foo__bar-1.0-py3-none-any.whl", .invalidName("foo__bar")),
            ("_foo-1.0-py3-none-any.whl", .invalidName("_foo")),
            ("-1.0-py3-none-any.whl", .invalidName("")),
            ("foo-1.0-abc-py3-none-any.whl", .invalidBuildTag("abc")),
            ("foo-1.0-1+x-py3-none-any.whl", .invalidBuildTag("1+x")),
            ("foo-1.0-99999999999999999999-py3-none-any.whl", .invalidBuildTag("99999999999999999999")),
            ("foo-1.0-py3-none-.whl", .invalidCompatibilityTag("")),
            ("foo-1.0-py3..py2-none-any.whl", .invalidCompatibilityTag("py3..py2")),
            ("foo-1.0-py3-none-any+x.whl", .invalidCompatibilityTag("any+x")),
            ("foo-1.0-py3-none-any .whl", .invalidCompatibilityTag("any ")),
            ("foo.tar.gz", .missingVersion),
            ("foo-bar.tar.gz", .invalidVersion(.invalid("bar"))),
            ("foo-.tar.gz", .invalidVersion(.empty)),
            ("foo-1.0 .tar.gz", .invalidVersion(.invalid("1.0 "))),
            ("foo- 1.0.zip", .invalidVersion(.invalid(" 1.0"))),
            ("-1.0.tar.gz", .invalidName("")),
            ("foo$-1.0.tar.gz", .invalidName("foo$")),
            ("foo bar-1.0.tar.gz", .invalidName("foo bar")),
        ]
    )
    func malformed(filename: String, error: DistributionFilenameError) {
        #expect(throws: error) {
            try DistributionFilename(parsing: filename)
        }
    }

    @Test("each kind refuses the other's extension")
    func kindMismatch() {
        #expect(throws: DistributionFilenameError.unsupportedExtension) {
            try WheelFilename(parsing: "foo-1.0.tar.gz")
        }
        #expect(throws: DistributionFilenameError.unsupportedExtension) {
            try SdistFilename(parsing: "foo-1.0-py3-none-any.whl")
        }
    }

    @Test("error messages describe the problem")
    func messages() {
        #expect(
            DistributionFilenameError.invalidVersion(.invalid("1.0.x")).description
                == "Invalid file name: Invalid version: '1.0.x' is not a PEP 440 version"
        )
        #expect(
            DistributionFilenameError.invalidName("foo bar").description
                == "Invalid file name: 'foo bar' is not a valid distribution name"
        )
        #expect(
            DistributionFilenameError.wrongWheelPartCount(4).description
                == "Invalid wheel file name: 4 '-'-separated parts, expected "
                + "{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl"
        )
        #expect(
            DistributionFilenameError.missingVersion.description
                == "Invalid sdist file name: expected {name}-{version}.tar.gz"
        )
    }
}
