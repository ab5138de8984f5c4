import PythonPackaging
import Testing

@Suite("Project names")
struct ProjectNameTests {
    @Test(
        "valid names keep their spelling and normalise per PEP 503",
        arguments: [
            ("Foo.Bar__baz", "foo-bar-baz"),
            ("a-_.b", "a-b"),
            ("requests", "requests"),
            ("Django", "django"),
            ("oslo.concurrency", "oslo-concurrency"),
            ("zope.interface", "zope-interface"),
            ("X---Y", "x-y"),
            ("A", "a"),
            ("7", "7"),
            ("1a", "1a"),
            ("Flask_SQLAlchemy", "flask-sqlalchemy"),
            ("a.-_-.b.c", "a-b-c"),
        ]
    )
    func valid(raw: String, normalized: String) throws {
        let name = try ProjectName(validating: raw)
        #expect(name.raw == raw)
        #expect(name.description == raw)
        #expect(name.normalized == normalized)
        #expect(ProjectName.normalize(raw) == normalized)
    }

    @Test(
        "invalid names are refused with the reason",
        arguments: [
            ("", ProjectNameError.empty),
            ("-foo", .invalidBoundary),
            ("foo-", .invalidBoundary),
            ("_foo", .invalidBoundary),
            ("foo.", .invalidBoundary),
            (".", .invalidBoundary),
            ("foo bar", .invalidCharacter(" ")),
            ("föo", .invalidCharacter("ö")),
            ("foo/bar", .invalidCharacter("/")),
            ("foo\\bar", .invalidCharacter("\\")),
            ("foo\0", .invalidCharacter("\0")),
            ("foo\n", .invalidCharacter("\n")),
            ("foo+bar", .invalidCharacter("+")),
            ("foo@1.0", .invalidCharacter("@")),
            (String(repeating: "a", count: 201), .tooLong(length: 201)),
        ]
    )
    func invalid(raw: String, error: ProjectNameError) {
        #expect(throws: error) {
            try ProjectName(validating: raw)
        }
    }

    @Test("the length limit is inclusive")
    func maximumLength() throws {
        let name = try ProjectName(validating: String(repeating: "a", count: ProjectName.maximumLength))
        #expect(name.normalized.count == 200)
    }

    @Test(
        "normalize accepts any string",
        arguments: [
            ("", ""),
            ("--", "-"),
            ("_a_", "-a-"),
            ("a..b", "a-b"),
            ("ÄB", "äb"),
            ("Foo Bar", "foo bar"),
            ("FOO.bar-_BAZ", "foo-bar-baz"),
        ]
    )
    func normalizeAnything(input: String, normalized: String) {
        #expect(ProjectName.normalize(input) == normalized)
        #expect(ProjectName.normalize(Substring(input)) == normalized)
    }

    @Test("names are equal and hash alike when their normal forms are")
    func equality() throws {
        let spellings = ["Foo_Bar", "foo.bar", "FOO--BAR", "foo-bar", "Foo._-Bar"]
        let names = try spellings.map { raw throws(ProjectNameError) in try ProjectName(validating: raw) }
        for name in names {
            #expect(name == names[0])
            #expect(name.hashValue == names[0].hashValue)
        }
        #expect(Set(names).count == 1)
        #expect(try ProjectName(validating: "foobar") != names[0])
    }

    @Test("error messages are fit for a client")
    func messages() {
        #expect(ProjectNameError.empty.description == "Invalid project name: the name is empty")
        #expect(
            ProjectNameError.invalidCharacter("\n").description
                == "Invalid project name: character '\\u{A}' is not allowed; "
                + "use ASCII letters, digits, '.', '_' and '-'"
        )
        #expect(
            ProjectNameError.invalidCharacter(" ").description
                == "Invalid project name: character ' ' is not allowed; "
                + "use ASCII letters, digits, '.', '_' and '-'"
        )
        #expect(
            ProjectNameError.invalidBoundary.description
                == "Invalid project name: it must start and end with an ASCII letter or digit"
        )
        #expect(
            ProjectNameError.tooLong(length: 201).description
                == "Invalid project name: 201 characters long, at most 200 allowed"
        )
    }
}
