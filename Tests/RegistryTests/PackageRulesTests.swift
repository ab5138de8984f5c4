import PythonPackaging
import Testing

@testable import Registry

@Suite struct PackageRulesTests {
    func request(_ fileName: String, name: String? = "demo", version: String? = "1.0", fileType: String? = nil) -> UploadRequest {
        UploadRequest(fileName: fileName, name: name, version: version, fileType: fileType)
    }

    @Test func acceptsMatchingNamesInAnyForm() throws {
        #expect(try PackageRules.check(request("demo-1.0.tar.gz")).name.normalized == "demo")
        #expect(try PackageRules.check(request("Foo_Bar-1.0.0-py3-none-any.whl", name: "foo.bar", version: "1.0")).version.canonical == "1")
        #expect(try PackageRules.check(request("demo-1.0.tar.gz", fileType: "sdist")).fileName == "demo-1.0.tar.gz")
    }

    @Test(arguments: [
        "other-1.0.tar.gz", "demo-1.1.tar.gz", "demo-1.0.exe", "../demo-1.0.tar.gz", "a/demo-1.0.tar.gz",
        "demo\\x-1.0.tar.gz", ".demo-1.0.tar.gz", "demo-1.0.tar.gz\n", "demo-1.0\u{0}.tar.gz", "",
    ])
    func refusesMismatchedOrHostileFileNames(_ fileName: String) {
        #expect(throws: RegistryError.self) { try PackageRules.check(request(fileName)) }
    }

    @Test func refusesMissingOrInvalidFields() {
        #expect(throws: RegistryError.invalid("name is missing")) { try PackageRules.check(request("demo-1.0.tar.gz", name: nil)) }
        #expect(throws: RegistryError.invalid("version is missing")) { try PackageRules.check(request("demo-1.0.tar.gz", version: " ")) }
        #expect(throws: RegistryError.self) { try PackageRules.check(request("demo-1.0.tar.gz", version: "one")) }
        #expect(throws: RegistryError.self) { try PackageRules.check(request("demo-1.0.tar.gz", name: "-demo")) }
        #expect(throws: RegistryError.self) { try PackageRules.check(request("demo-1.0.tar.gz", fileType: "bdist_wheel")) }
    }

    @Test func emptyRequiresPythonIsAbsent() throws {
        var upload = request("demo-1.0.tar.gz")
        upload.requiresPython = "  "
        #expect(try PackageRules.check(upload).requiresPython == nil)
        upload.requiresPython = ">=3.8"
        #expect(try PackageRules.check(upload).requiresPython == ">=3.8")
    }

    @Test func everySuppliedDigestMustMatch() throws {
        var digester = FileDigester()
        digester.update(Array("hello".utf8))
        let computed = digester.finalize()
        #expect(computed.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(computed.md5 == "5d41402abc4b2a76b9719d911017c592")
        #expect(computed.blake2b256 == "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf")

        var upload = request("demo-1.0.tar.gz")
        try PackageRules.verify(upload, against: computed)
        upload.sha256 = computed.sha256.uppercased()
        upload.md5 = computed.md5
        upload.blake2b256 = computed.blake2b256
        try PackageRules.verify(upload, against: computed)
        for tamper in [\UploadRequest.sha256, \UploadRequest.md5, \UploadRequest.blake2b256] {
            var tampered = upload
            tampered[keyPath: tamper] = String(repeating: "0", count: 32)
            #expect(throws: RegistryError.self) { try PackageRules.verify(tampered, against: computed) }
        }
    }

    @Test func pathRules() throws {
        for good in ["acme", "a", "my_group", "lib-1.2", "_x"] { try PathRules.validateSegment(good, what: "Path") }
        for bad in ["", "-a", "a-", ".a", "a.", "a/b", "a b", "repo.git", "é", String(repeating: "a", count: 256)] {
            #expect(throws: RegistryError.self) { try PathRules.validateSegment(bad, what: "Path") }
        }
        let nested = try PathRules.split("a/b/c")
        #expect(nested.parent == "a/b" && nested.last == "c")
        let top = try PathRules.split("a")
        #expect(top.parent == nil && top.last == "a")
        #expect(throws: RegistryError.self) { try PathRules.split("a//b") }
    }
}
