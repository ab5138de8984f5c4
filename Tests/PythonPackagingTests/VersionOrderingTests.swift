import PythonPackaging
import Testing

/// Strictly increasing, from packaging's own test suite.
private let packagingOrder = [
    "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
    "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5",
    "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
]

/// Strictly increasing, checked with `packaging` 26.2: zeros, epochs and local labels.
private let extendedOrder = [
    "0.dev0", "0", "0.0.1", "0.1.dev1", "0.1a1", "0.1", "0.9", "0.10", "1.0.dev0", "1.0.dev1",
    "1.0a0", "1.0a1.dev1", "1.0a1", "1.0a1.post1.dev1", "1.0a1.post1", "1.0a1.post1+local",
    "1.0b0", "1.0rc0", "1.0rc1", "1.0rc9", "1.0rc10", "1.0", "1.0+a", "1.0+a.b", "1.0+a.1",
    "1.0+a1", "1.0+b", "1.0+z", "1.0+0", "1.0+1", "1.0+1.a", "1.0+1.0", "1.0+2", "1.0+10",
    "1.0+99999999999999999999999999", "1.0.post0.dev0", "1.0.post0", "1.0.post1", "1.0.0.1",
    "1.0.1", "1.1", "2.0", "10.0", "2013.10.1", "1!0.dev0", "1!0", "1!1.0", "2!0.0.1",
]

/// Spellings that denote one version each, checked with `packaging` 26.2.
private let equalGroups: [[String]] = [
    ["1.0", "1.0.0", "1", "1.0.0.0", "v1.0", "01.00", "0!1.0"],
    ["1.0a1", "1.0.0alpha1", "1.0-a-1", "1.0.0.a.01"],
    ["1.0+ABC.01", "1.0.0+abc-1", "1+abc_001"],
    ["0", "0.0", "0!0.0.0", "00"],
    ["1.0.post1", "1.0-1", "1.0.0r1", "1.0-rev-1"],
]

/// Pairs that differ, checked with `packaging` 26.2.
private let unequalPairs: [(String, String)] = [
    ("1.0", "1.0+0"), ("1.0", "1.0.post0"), ("1.0", "1.0a0"), ("1.0", "1.0.dev0"),
    ("1.0", "1!1.0"), ("1.0+a", "1.0+A.0"), ("1.0+0", "1.0+00.0"), ("1.0", "1.0.1"),
]

@Suite("Version ordering")
struct VersionOrderingTests {
    @Test("versions sort as in packaging's test suite", arguments: [packagingOrder, extendedOrder])
    func strictOrder(_ spellings: [String]) throws {
        let versions = try spellings.map { spelling throws(VersionError) in try Version(parsing: spelling) }
        for (index, lower) in versions.enumerated() {
            for higher in versions[(index + 1)...] {
                #expect(lower < higher, "\(lower) < \(higher)")
                #expect(!(higher < lower), "!(\(higher) < \(lower))")
                #expect(lower != higher)
                #expect(higher > lower)
            }
            #expect(!(lower < lower))
            #expect(lower <= lower)
        }
        #expect(versions.reversed().sorted() == versions)
        #expect(versions.shuffled().sorted().map(\.normalized) == versions.map(\.normalized))
    }

    @Test("equal versions have equal hashes and one canonical form", arguments: equalGroups)
    func equality(_ spellings: [String]) throws {
        let versions = try spellings.map { spelling throws(VersionError) in try Version(parsing: spelling) }
        let first = versions[0]
        for version in versions {
            #expect(version == first, "\(version) == \(first)")
            #expect(version.hashValue == first.hashValue)
            #expect(version.canonical == first.canonical)
            #expect(!(version < first) && !(first < version))
        }
        #expect(Set(versions).count == 1)
    }

    @Test("distinct versions are unequal", arguments: unequalPairs)
    func inequality(_ left: String, _ right: String) throws {
        let (lhs, rhs) = (try Version(parsing: left), try Version(parsing: right))
        #expect(lhs != rhs)
        #expect((lhs < rhs) != (rhs < lhs))
        #expect(lhs.canonical != rhs.canonical)
    }

    @Test("1.0 and 1.0.0 are one release but keep their spelling")
    func trailingZeros() throws {
        let short = try Version(parsing: "1.0")
        let long = try Version(parsing: "1.0.0")
        #expect(short == long)
        #expect(short.hashValue == long.hashValue)
        #expect(short.normalized == "1.0")
        #expect(long.normalized == "1.0.0")
        #expect(short.canonical == "1")
        #expect(long.canonical == "1")
        #expect(Set([short, long]).count == 1)
    }

    @Test("pre-release phases order alpha < beta < rc")
    func preReleaseOrder() {
        typealias PreRelease = Version.PreRelease
        #expect(PreRelease(phase: .alpha, number: 9) < PreRelease(phase: .beta, number: 0))
        #expect(PreRelease(phase: .beta, number: 9) < PreRelease(phase: .releaseCandidate, number: 0))
        #expect(PreRelease(phase: .releaseCandidate, number: 1) < PreRelease(phase: .releaseCandidate, number: 2))
        #expect(PreRelease(phase: .releaseCandidate, number: 3).description == "rc3")
    }
}
