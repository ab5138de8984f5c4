import PythonPackaging
import Testing

@Suite("Hostile file names")
struct HostileFilenameTests {
    @Test(
        "are refused before parsing, with a specific reason",
        arguments: [
            ("", DistributionFilenameError.empty),
            ("../x-1.0.tar.gz", .pathSeparator),
            ("a/b-1.0.tar.gz", .pathSeparator),
            ("a\\b-1.0.tar.gz", .pathSeparator),
            ("/etc/passwd", .pathSeparator),
            ("..\\..\\boot.ini", .pathSeparator),
            ("foo-1.0-py3-none-any.whl/", .pathSeparator),
            (".hidden-1.0.tar.gz", .leadingDot),
            ("..-1.0.tar.gz", .leadingDot),
            (".whl", .leadingDot),
            ("foo\0-1.0.tar.gz", .controlCharacter),
            ("foo-1.0.tar.gz\0.exe", .controlCharacter),
            ("foo\n-1.0.tar.gz", .controlCharacter),
            ("foo-1.0.tar.gz\r\n", .controlCharacter),
            ("foo\t-1.0.tar.gz", .controlCharacter),
            ("foo\u{7F}-1.0.tar.gz", .controlCharacter),
            ("\u{1B}[31mfoo-1.0.tar.gz", .controlCharacter),
            ("föo-1.0.tar.gz", .nonASCII),
            ("foo-1.0.tar.gz\u{202E}", .nonASCII),
            ("foo-１.0.tar.gz", .nonASCII),
            (String(repeating: "a", count: 300) + "-1.0.tar.gz", .tooLong(byteCount: 311)),
            (String(repeating: "é", count: 128), .tooLong(byteCount: 256)),
            ("pkg-1.0.exe", .unsupportedExtension),
            ("pkg-1.0.egg", .unsupportedExtension),
            ("pkg-1.0.tar.bz2", .unsupportedExtension),
            ("pkg-1.0.tgz", .unsupportedExtension),
            ("pkg-1.0.tar", .unsupportedExtension),
            ("pkg-1.0.whl.exe", .unsupportedExtension),
            ("pkg-1.0-py3-none-any.WHL", .unsupportedExtension),
            ("pkg-1.0.TAR.GZ", .unsupportedExtension),
            ("pkg-1.0", .unsupportedExtension),
        ]
    )
    func refused(filename: String, error: DistributionFilenameError) {
        #expect(throws: error) {
            try DistributionFilename(parsing: filename)
        }
    }

    @Test(
        "characters outside the grammar never survive parsing",
        arguments: [
            "foo-1.0%2F.tar.gz", "foo-1.0?.tar.gz", "foo-1.0#x.tar.gz", "foo-1.0\".tar.gz", "foo;rm -rf-1.0.tar.gz",
            "foo-1.0:x.tar.gz", "foo*-1.0.tar.gz", "foo-1.0-py3-none-$(x).whl", "foo-1.0-py3-none-any;.whl",
            "foo-1.0-1`id`-py3-none-any.whl", "<script>-1.0.zip", "foo-1.0 .tar.gz", "foo -1.0.zip",
            "foo-1.0&x=1.tar.gz", "~foo-1.0.tar.gz", "foo-1.0-py3-none-any .whl",
        ]
    )
    func unsafeCharacters(filename: String) {
        #expect(throws: DistributionFilenameError.self) {
            try DistributionFilename(parsing: filename)
        }
    }

    @Test("wheel and sdist parsers screen too")
    func screenedByEachKind() {
        #expect(throws: DistributionFilenameError.pathSeparator) {
            try WheelFilename(parsing: "../foo-1.0-py3-none-any.whl")
        }
        #expect(throws: DistributionFilenameError.controlCharacter) {
            try SdistFilename(parsing: "foo\0-1.0.tar.gz")
        }
        #expect(throws: DistributionFilenameError.leadingDot) {
            try SdistFilename(parsing: ".foo-1.0.zip")
        }
    }

    @Test("the 255-byte limit is inclusive")
    func lengthLimit() throws {
        let prefix = String(repeating: "a", count: 200) + "-1.0-py3-none-"
        let fitting = prefix + String(repeating: "x", count: 255 - prefix.utf8.count - 4) + ".whl"
        #expect(fitting.utf8.count == 255)
        #expect(try DistributionFilename(parsing: fitting).name.normalized.count == 200)

        let tooLong = prefix + String(repeating: "x", count: 256 - prefix.utf8.count - 4) + ".whl"
        #expect(throws: DistributionFilenameError.tooLong(byteCount: 256)) {
            try DistributionFilename(parsing: tooLong)
        }
    }

    @Test(
        "messages are fit for a client",
        arguments: [
            (DistributionFilenameError.empty, "Invalid file name: the name is empty"),
            (.tooLong(byteCount: 311), "Invalid file name: 311 bytes long, at most 255 allowed"),
            (.pathSeparator, "Invalid file name: contains a path separator"),
            (.controlCharacter, "Invalid file name: contains a control character"),
            (.nonASCII, "Invalid file name: contains a non-ASCII character"),
            (.leadingDot, "Invalid file name: starts with '.'"),
            (.unsupportedExtension, "Invalid file name: unsupported extension, expected '.whl', '.tar.gz' or '.zip'"),
            (.invalidBuildTag("a\nb"), "Invalid wheel file name: 'a\\u{A}b' is not a valid build tag"),
            (.invalidCompatibilityTag("x y"), "Invalid wheel file name: 'x y' is not a valid compatibility tag"),
        ]
    )
    func messages(error: DistributionFilenameError, message: String) {
        #expect(error.description == message)
    }
}
