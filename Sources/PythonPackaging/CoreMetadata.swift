/// The core metadata of a Python distribution: the `METADATA` file of a wheel or the `PKG-INFO`
/// file of an sdist.
///
/// Core metadata is written in the email header format (RFC 822 and successors): `Name: value`
/// fields, one a line, a line that starts with a space or tab continuing the field above it, and
/// an empty line ending the header fields. Whatever follows that empty line is the body, which
/// holds the project's long description from metadata version 2.1 on.
///
/// Parsing follows Python's `email` parser in its `compat32` policy, the one `packaging.metadata`
/// uses, with these differences:
/// - the input must be valid UTF-8 and at most a given number of bytes long;
/// - a header line that is neither a field nor a continuation is an error rather than the
///   silent start of the body;
/// - field values drop trailing spaces and tabs, and the lines of a folded value are joined
///   with a line feed whatever line ending the file uses.
///
/// `Metadata-Version`, `Name` and `Version` are required and validated; ``name`` and ``version``
/// are the parsed forms. Every other field is kept as written and can be read with
/// ``values(of:)``. The metadata version itself is not interpreted: deciding which versions to
/// accept is the caller's policy.
///
/// See <https://packaging.python.org/en/latest/specifications/core-metadata/>.
public struct CoreMetadata: Sendable, Equatable {
    /// One header field, in the order it appears.
    public struct Field: Sendable, Hashable {
        /// The field name as written, such as `Requires-Dist`.
        public let name: String
        /// The value: leading whitespace of the first line and trailing whitespace of the
        /// whole value removed, continuation lines joined with `\n` and kept as written.
        public let value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The default for the `maxBytes` limit of ``init(parsing:maxBytes:)``: 1 MiB.
    public static let defaultMaxBytes = 1 << 20

    /// Fields that may appear at most once and that this type reads.
    private static let singleUseFields = ["Metadata-Version", "Name", "Version", "Summary", "Requires-Python"]

    /// The `Metadata-Version` field, such as `2.1`.
    public let metadataVersion: String

    /// The project name from the `Name` field.
    public let name: ProjectName

    /// The version from the `Version` field.
    public let version: Version

    /// Every header field, in order, the required ones included.
    public let fields: [Field]

    /// The text after the header fields, `nil` when there is none. Kept exactly as written,
    /// line endings included.
    public let body: String?

    /// Parses core metadata.
    ///
    /// - Parameters:
    ///   - bytes: The contents of a `METADATA` or `PKG-INFO` file.
    ///   - maxBytes: The largest input accepted, in bytes; longer input is refused with
    ///     ``CoreMetadataError/tooLarge(limit:)`` before it is decoded.
    public init(
        parsing bytes: some Collection<UInt8>,
        maxBytes: Int = CoreMetadata.defaultMaxBytes
    ) throws(CoreMetadataError) {
        guard bytes.count <= maxBytes else {
            throw .tooLarge(limit: maxBytes)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .notUTF8
        }
        var reader = HeaderReader(text)
        let fields = try reader.readFields()
        let body = reader.remainder

        for field in Self.singleUseFields {
            let matching = fields.filter { Self.fieldName($0.name, equals: field) }
            if matching.count > 1 {
                throw .duplicateField(matching[1].name)
            }
        }
        func required(_ name: String) throws(CoreMetadataError) -> String {
            guard let field = fields.first(where: { Self.fieldName($0.name, equals: name) }),
                !field.value.isEmpty
            else {
                throw .missingField(name)
            }
            return field.value
        }

        self.metadataVersion = try required("Metadata-Version")
        let rawName = try required("Name")
        let rawVersion = try required("Version")
        do throws(ProjectNameError) {
            self.name = try ProjectName(validating: rawName)
        } catch {
            throw .invalidName(error)
        }
        do throws(VersionError) {
            self.version = try Version(parsing: rawVersion)
        } catch {
            throw .invalidVersion(error)
        }
        self.fields = fields
        self.body = body.isEmpty ? nil : String(body)
    }

    /// The values of every field called `field`, compared without regard to ASCII case, in the
    /// order they appear; empty when there is none.
    public func values(of field: String) -> [String] {
        self.fields.filter { Self.fieldName($0.name, equals: field) }.map(\.value)
    }

    /// The `Summary` field: a one-line description of the project.
    public var summary: String? {
        self.values(of: "Summary").first
    }

    /// The `Requires-Python` field: the version specifier of the Python versions supported.
    public var requiresPython: String? {
        self.values(of: "Requires-Python").first
    }

    /// The `Requires-Dist` fields: the PEP 508 requirements, markers included, in order.
    public var requiresDist: [String] {
        self.values(of: "Requires-Dist")
    }

    /// The `Provides-Extra` fields: the names of the optional features, in order.
    public var providesExtra: [String] {
        self.values(of: "Provides-Extra")
    }

    private static func fieldName(_ lhs: String, equals rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8) { ASCII.lowercased($0) == ASCII.lowercased($1) }
    }
}

extension CoreMetadata {
    /// Reads the header fields of email-format text line by line, leaving the body.
    ///
    /// Lines end at `\r\n`, `\n` or a lone `\r`, as in Python's `email` parser.
    struct HeaderReader {
        private let text: String
        private var position: String.Index
        private var lineNumber = 0

        init(_ text: String) {
            self.text = text
            self.position = text.startIndex
        }

        /// What follows the empty line that ends the header fields, once they have been read.
        var remainder: Substring {
            self.text[self.position...]
        }

        /// Reads fields up to the first empty line or the end of the text.
        mutating func readFields() throws(CoreMetadataError) -> [Field] {
            var fields: [Field] = []
            var pending: (name: Substring, value: String)?
            while let line = self.nextLine(), !line.isEmpty {
                let first = line.utf8.first!
                if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                    guard pending != nil else {
                        throw .malformedLine(self.lineNumber)
                    }
                    pending!.value += "\n"
                    pending!.value += line
                    continue
                }
                guard let colon = line.utf8.firstIndex(of: UInt8(ascii: ":")),
                    colon != line.startIndex,
                    line.utf8[..<colon].allSatisfy(Self.isFieldNameByte)
                else {
                    throw .malformedLine(self.lineNumber)
                }
                if let (name, value) = pending {
                    fields.append(Self.field(name: name, value: value))
                }
                let value = line[line.utf8.index(after: colon)...].unicodeScalars.drop(while: Self.isBlank)
                pending = (line[..<colon], String(value))
            }
            if let (name, value) = pending {
                fields.append(Self.field(name: name, value: value))
            }
            return fields
        }

        /// The next line without its ending, `nil` at the end of the text.
        private mutating func nextLine() -> Substring? {
            let utf8 = self.text.utf8
            guard self.position != utf8.endIndex else {
                return nil
            }
            self.lineNumber += 1
            let start = self.position
            var end = start
            while end != utf8.endIndex, utf8[end] != UInt8(ascii: "\n"), utf8[end] != UInt8(ascii: "\r") {
                utf8.formIndex(after: &end)
            }
            self.position = end
            if self.position != utf8.endIndex {
                let ending = utf8[self.position]
                utf8.formIndex(after: &self.position)
                if ending == UInt8(ascii: "\r"), self.position != utf8.endIndex,
                    utf8[self.position] == UInt8(ascii: "\n")
                {
                    utf8.formIndex(after: &self.position)
                }
            }
            return self.text[start..<end]
        }

        private static func field(name: Substring, value: String) -> Field {
            var value = Substring(value).unicodeScalars
            while let last = value.last, Self.isBlank(last) {
                value.removeLast()
            }
            return Field(name: String(name), value: String(value))
        }

        /// RFC 5322 `ftext`: printable ASCII other than `:`.
        private static func isFieldNameByte(_ byte: UInt8) -> Bool {
            (33...126).contains(byte) && byte != UInt8(ascii: ":")
        }

        private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t"
        }
    }
}
