import PythonPackaging
import Testing

@Suite("Core metadata")
struct CoreMetadataTests {
    static let wheelMetadata = """
        Metadata-Version: 2.1
        Name: Requests_Toolbelt
        Version: 1.0.0rc1
        Summary: A utility belt for advanced users of python-requests  \("")
        Home-page: https://toolbelt.readthedocs.io/
        Author: Ian Cordasco, Cory Benfield
        License: Apache 2.0
        Project-URL: Source, https://github.com/requests/toolbelt
        Classifier: Development Status :: 5 - Production/Stable
        classifier: License :: OSI Approved :: Apache Software License
        Requires-Python: >=2.7, !=3.0.*, !=3.1.*
        Description-Content-Type: text/x-rst
        Requires-Dist: requests (<3.0.0,>=2.0.1)
        Requires-Dist: pyOpenSSL>=0.14; extra == "security"
        Requires-Dist: importlib-metadata; python_version < "3.8"
        Provides-Extra: security
        Provides-Extra: socks

        The Python Requests Toolbelt
        ============================

        This is just a collection of utilities.

        """

    static func parse(_ text: String, maxBytes: Int = CoreMetadata.defaultMaxBytes) throws -> CoreMetadata {
        try CoreMetadata(parsing: Array(text.utf8), maxBytes: maxBytes)
    }

    @Test("a wheel's METADATA with a body description")
    func wheelMetadata() throws {
        let metadata = try Self.parse(Self.wheelMetadata)
        #expect(metadata.metadataVersion == "2.1")
        #expect(metadata.name.raw == "Requests_Toolbelt")
        #expect(metadata.name.normalized == "requests-toolbelt")
        #expect(metadata.version.normalized == "1.0.0rc1")
        #expect(metadata.summary == "A utility belt for advanced users of python-requests")
        #expect(metadata.requiresPython == ">=2.7, !=3.0.*, !=3.1.*")
        #expect(
            metadata.requiresDist == [
                "requests (<3.0.0,>=2.0.1)",
                #"pyOpenSSL>=0.14; extra == "security""#,
                #"importlib-metadata; python_version < "3.8""#,
            ]
        )
        #expect(metadata.providesExtra == ["security", "socks"])
        #expect(
            metadata.values(of: "CLASSIFIER") == [
                "Development Status :: 5 - Production/Stable",
                "License :: OSI Approved :: Apache Software License",
            ]
        )
        #expect(metadata.values(of: "project-url") == ["Source, https://github.com/requests/toolbelt"])
        #expect(metadata.values(of: "Obsoletes-Dist") == [])
        #expect(metadata.fields.count == 17)
        #expect(metadata.fields.first == CoreMetadata.Field(name: "Metadata-Version", value: "2.1"))
        #expect(
            metadata.body == """
                The Python Requests Toolbelt
                ============================

                This is just a collection of utilities.

                """
        )
    }

    @Test("metadata 2.4 with license expression and dynamic fields")
    func version24() throws {
        let metadata = try Self.parse(
            """
            Metadata-Version: 2.4
            Name: wheelhouse-demo
            Version: 2!1.4.post2
            Dynamic: license-file
            License-Expression: MIT OR Apache-2.0
            License-File: LICENSE-MIT
            License-File: licenses/LICENSE-APACHE
            Requires-Dist: typing-extensions>=4.6; python_version < "3.12"
            Requires-Dist: rich[jupyter]>=13; extra == "pretty"
            Provides-Extra: pretty

            """
        )
        #expect(metadata.metadataVersion == "2.4")
        #expect(metadata.version.normalized == "2!1.4.post2")
        #expect(metadata.values(of: "License-Expression") == ["MIT OR Apache-2.0"])
        #expect(metadata.values(of: "license-file") == ["LICENSE-MIT", "licenses/LICENSE-APACHE"])
        #expect(metadata.requiresDist.last == #"rich[jupyter]>=13; extra == "pretty""#)
        #expect(metadata.providesExtra == ["pretty"])
        #expect(metadata.summary == nil)
        #expect(metadata.requiresPython == nil)
        #expect(metadata.body == nil)
    }

    @Test("a multi-line Description field keeps its continuation lines as written")
    func foldedDescription() throws {
        let metadata = try Self.parse(
            "Metadata-Version: 2.3\nName: zope.interface\nVersion: 4.0\n"
                + "Description: ``zope.interface`` README\n        |=========================\n"
                + "        |\n        |\tTabbed line\nPlatform: UNKNOWN\n"
        )
        #expect(metadata.name.normalized == "zope-interface")
        #expect(
            metadata.values(of: "Description") == [
                "``zope.interface`` README\n        |=========================\n        |\n        |\tTabbed line"
            ]
        )
        #expect(metadata.values(of: "Platform") == ["UNKNOWN"])
        #expect(metadata.body == nil)
    }

    @Test("CRLF line endings: fields are the same, the body is kept as written")
    func crlf() throws {
        let text =
            "Metadata-Version: 2.1\r\nName: foo\r\nVersion: 1.0\r\nRequires-Dist: bar;\r\n"
            + "  extra == 'x'\r\nSummary:\tspaced \t\r\n\r\nBody\r\nmore\r\n"
        let metadata = try Self.parse(text)
        #expect(metadata.requiresDist == ["bar;\n  extra == 'x'"])
        #expect(metadata.summary == "spaced")
        #expect(metadata.body == "Body\r\nmore\r\n")
    }

    @Test("a lone CR ends a line, as in Python's email parser")
    func loneCarriageReturn() throws {
        let metadata = try Self.parse("Metadata-Version: 2.1\rName: foo\rVersion: 1.0\r\rbody")
        #expect(metadata.name.raw == "foo")
        #expect(metadata.body == "body")
    }

    @Test("input without a final line ending, or from any byte collection")
    func anyCollection() throws {
        let text = "Metadata-Version: 2.2\nName: foo\nVersion: 1"
        let metadata = try CoreMetadata(parsing: text.utf8)
        #expect(metadata.version.normalized == "1")
        #expect(try CoreMetadata(parsing: Array(text.utf8)[...]) == metadata)
        #expect(try Self.parse(text + "\n") == metadata)
        #expect(try Self.parse(text + "\n\n") == metadata)
    }

    @Test(
        "required fields must be present and non-empty",
        arguments: [
            ("", "Metadata-Version"),
            ("Name: foo\nVersion: 1.0\n", "Metadata-Version"),
            ("Metadata-Version:  \nName: foo\nVersion: 1.0\n", "Metadata-Version"),
            ("Metadata-Version: 2.1\nVersion: 1.0\n", "Name"),
            ("Metadata-Version: 2.1\nName:\nVersion: 1.0\n", "Name"),
            ("Metadata-Version: 2.1\nName: foo\n", "Version"),
            ("Metadata-Version: 2.1\nVersion: 1.0\n\nName: foo\n", "Name"),
        ]
    )
    func missingField(text: String, field: String) {
        #expect(throws: CoreMetadataError.missingField(field)) {
            try Self.parse(text)
        }
    }

    @Test("an invalid version is refused with the reason")
    func invalidVersion() {
        #expect(throws: CoreMetadataError.invalidVersion(.invalid("1.0-beta-gamma"))) {
            try Self.parse("Metadata-Version: 2.1\nName: foo\nVersion: 1.0-beta-gamma\n")
        }
    }

    @Test("an invalid name is refused with the reason")
    func invalidName() {
        #expect(throws: CoreMetadataError.invalidName(.invalidCharacter(" "))) {
            try Self.parse("Metadata-Version: 2.1\nName: foo bar\nVersion: 1.0\n")
        }
        #expect(throws: CoreMetadataError.invalidName(.invalidBoundary)) {
            try Self.parse("Metadata-Version: 2.1\nName: -foo\nVersion: 1.0\n")
        }
    }

    @Test("a single-use field may not repeat, whatever its case")
    func duplicateField() {
        #expect(throws: CoreMetadataError.duplicateField("name")) {
            try Self.parse("Metadata-Version: 2.1\nName: foo\nname: evil\nVersion: 1.0\n")
        }
        #expect(throws: CoreMetadataError.duplicateField("Summary")) {
            try Self.parse("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nSummary: a\nSummary: b\n")
        }
    }

    @Test(
        "bytes that are not UTF-8 are refused, in the headers or the body",
        arguments: [
            Array("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nSummary: caf".utf8) + [0xE9],
            Array("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\n".utf8) + [0xC3, 0x28],
            [0xFF, 0xFE] + Array("Metadata-Version: 2.1\n".utf8),
            Array("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\n".utf8) + [0xED, 0xA0, 0x80],
        ]
    )
    func notUTF8(bytes: [UInt8]) {
        #expect(throws: CoreMetadataError.notUTF8) {
            try CoreMetadata(parsing: bytes)
        }
    }

    @Test(
        "a header line that is neither a field nor a continuation is refused with its number",
        arguments: [
            ("Metadata-Version: 2.1\nName: foo\nVersion 1.0\n", 3),
            (" Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n", 1),
            ("Metadata-Version: 2.1\r\nName : foo\r\nVersion: 1.0\r\n", 2),
            ("Metadata-Version: 2.1\nName: foo\n: 1.0\n", 3),
            ("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nRequires-Dist\n\nbody", 4),
            ("Metadata-Version: 2.1\nNäme: foo\nVersion: 1.0\n", 2),
            ("Metadata-Version: 2.1\rName: foo\rVersion: 1.0\rno colon\r", 4),
            ("\u{FEFF}Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n", 1),
        ]
    )
    func malformedLine(text: String, line: Int) {
        #expect(throws: CoreMetadataError.malformedLine(line)) {
            try Self.parse(text)
        }
    }

    @Test("the body is not parsed: header-like or odd lines after the empty line are fine")
    func bodyIsFree() throws {
        let metadata = try Self.parse("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nno colon\n  indented\nName: bar\n")
        #expect(metadata.name.raw == "foo")
        #expect(metadata.values(of: "Name") == ["foo"])
        #expect(metadata.body == "no colon\n  indented\nName: bar\n")
    }

    @Test("input over the limit is refused; the limit is inclusive")
    func tooLarge() throws {
        let text = "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n"
        #expect(throws: CoreMetadataError.tooLarge(limit: 44)) {
            try Self.parse(text, maxBytes: 44)
        }
        #expect(try Self.parse(text, maxBytes: 45).name.raw == "foo")
        let huge = text + "\n" + String(repeating: "x", count: CoreMetadata.defaultMaxBytes)
        #expect(throws: CoreMetadataError.tooLarge(limit: 1 << 20)) {
            try Self.parse(huge)
        }
    }

    @Test("metadata compares by its fields and body")
    func equality() throws {
        let a = try Self.parse("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n")
        #expect(try Self.parse("Metadata-Version: 2.1\r\nName: foo\r\nVersion: 1.0\r\n") == a)
        #expect(try Self.parse("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nSummary: x\n") != a)
        #expect(try Self.parse("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nbody") != a)
    }

    @Test("error messages quote untrusted parts")
    func messages() {
        #expect(CoreMetadataError.tooLarge(limit: 10).description == "Invalid metadata: larger than 10 bytes")
        #expect(
            CoreMetadataError.malformedLine(3).description
                == "Invalid metadata: line 3 is not a 'Name: value' header field"
        )
        #expect(
            CoreMetadataError.duplicateField("na'me").description
                == "Invalid metadata: the field 'na\\u{27}me' appears more than once"
        )
        #expect(
            CoreMetadataError.invalidVersion(.invalid("x")).description
                == "Invalid metadata: Invalid version: 'x' is not a PEP 440 version"
        )
    }
}
