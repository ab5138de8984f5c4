import PythonPackaging
import Testing

/// Whether `packaging.specifiers.SpecifierSet(input)` (packaging 26.4) accepts each input: our parser
/// must agree on every one, since a `requires_python` it refuses is an upload Warehouse refuses too.
private let specifierSetTable: [(input: String, valid: Bool)] = [
    (">=3.8", true),
    (">=3.8,<4", true),
    ("~=3.10", true),
    ("==3.*", true),
    ("!=3.0.*", true),
    ("", true),
    (" >= 3.8 , < 4 ", true),
    (">=3.8,", true),
    (",>=3.8", true),
    ("<script>", false),
    (">=", false),
    ("3.8", false),
    (">=3.8;", false),
    ("~=3", false),
    ("~=3.0", true),
    ("==1.0+local", true),
    (">=1.0+local", false),
    ("!=1.0+local", true),
    ("===foobar", true),
    ("===foo bar", false),
    ("==1.0rc1.*", false),
    ("==1.0.*.*", false),
    (">=3.8.*", false),
    ("~=1.0.*", false),
    ("=>3.8", false),
    (">3", true),
    ("<3", true),
    ("<=3", true),
    ("==2!1.0.*", true),
    ("== 1.0", true),
    (">=v3.8", true),
    (">=3.8 3.9", false),
    ("==1.0 .*", false),
    (">=3.8)", false),
    (">=3.8 ,, <4", true),
    ("~=1.0.post1", true),
    ("~=1.0a1", true),
    (">=1.0.dev0", true),
    ("*", false),
    ("python>=3", false),
    (">=3,<4,!=3.5.*", true),
    ("==1.0-1", true),
    ("!==1", false),
    ("====1", true),
    ("<>1", false),
    (">=1.0a", true),
    ("==1.*.0", false),
    ("===1.0+x", true),
    ("\u{2265}3.8", false),
    (">=3.8\t", true),
    ("~= 2.7, >=3.4", true),
    ("<script>alert(1)</script>", false),
    (">=3.8 || <2", false),
    ("==1.0+local.*", false),
    ("!=1.0.post1.*", false),
    ("<1.0.dev0", true),
    (">=1!2.0", true),
    ("~=1!2.0", true),
]

@Suite struct VersionSpecifierTests {
    @Test(arguments: specifierSetTable)
    func agreesWithPackaging(input: String, valid: Bool) {
        let parsed = try? VersionSpecifierSet(parsing: input)
        #expect((parsed != nil) == valid, "\(input.debugDescription) should be \(valid ? "valid" : "invalid")")
    }

    @Test func keepsEachClauseWithoutItsWhitespace() throws {
        let set = try VersionSpecifierSet(parsing: " >= 3.8 , != 3.9.* ,, < 4 ")
        #expect(set.specifiers.map(\.op) == [.greaterThanOrEqual, .notEqual, .lessThan])
        #expect(set.description == ">=3.8,!=3.9.*,<4")
    }

    @Test func theLongestOperatorWins() throws {
        #expect(try VersionSpecifier(parsing: "===1.0").op == .arbitraryEqual)
        #expect(try VersionSpecifier(parsing: "<=1.0").op == .lessThanOrEqual)
        #expect(try VersionSpecifier(parsing: "~=1.0").op == .compatible)
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: VersionSpecifierError.noOperator("3.8")) { try VersionSpecifier(parsing: "3.8") }
        #expect(throws: VersionSpecifierError.invalid("~=3")) { try VersionSpecifier(parsing: "~=3") }
        #expect(throws: VersionSpecifierError.empty) { try VersionSpecifier(parsing: "  ") }
        #expect("\(VersionSpecifierError.invalid("<script>"))".contains("not a PEP 440 version specifier"))
    }
}
