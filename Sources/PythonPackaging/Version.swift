/// A PEP 440 version, such as `1.0`, `2!1.4rc2.post1.dev3` or `1.2+ubuntu.1`.
///
/// Parsing accepts every spelling that PEP 440 normalises (`v1.0-ALPHA.1` is `1.0a1`), exactly
/// as `packaging.version.Version` does, and keeps the parsed components; ``normalized`` renders
/// the PEP 440 normal form and ``canonical`` the PEP 625 form used to tell releases apart.
///
/// Equality, hashing and ordering follow PEP 440: trailing zeros of the release are
/// insignificant (`1.0 == 1.0.0`), a development release sorts before pre-releases, which sort
/// before the final release, which sorts before post-releases, and a local version sorts after
/// its public version.
///
/// Numeric components are stored as `Int`; a version with a number beyond `Int.max` is refused
/// with ``VersionError/numberOutOfRange(_:)``. Numeric local segments have no such limit.
public struct Version: Sendable, CustomStringConvertible {
    /// The epoch, `0` when the version has none.
    public let epoch: Int

    /// The release segment as written, trailing zeros included: `[1, 0, 0]` for `1.0.0`.
    public let release: [Int]

    /// The pre-release segment: `a1` in `1.0a1`.
    public let preRelease: PreRelease?

    /// The post-release number: `2` in `1.0.post2`.
    public let postRelease: Int?

    /// The development release number: `3` in `1.0.dev3`.
    public let devRelease: Int?

    /// The local version label split at its separators, `nil` when the version has none.
    let localSegments: [LocalVersionSegment]?

    init(
        epoch: Int,
        release: [Int],
        preRelease: PreRelease?,
        postRelease: Int?,
        devRelease: Int?,
        localSegments: [LocalVersionSegment]?
    ) {
        precondition(!release.isEmpty, "a version has at least one release component")
        self.epoch = epoch
        self.release = release
        self.preRelease = preRelease
        self.postRelease = postRelease
        self.devRelease = devRelease
        self.localSegments = localSegments
    }

    /// Parses a PEP 440 version, accepting the lenient spellings that normalise.
    ///
    /// Surrounding whitespace, a leading `v`, any letter case, the separators `.`, `_` and `-`,
    /// the alternative spellings `alpha`, `beta`, `c`, `pre`, `preview`, `rev` and `r`,
    /// implicit post releases (`1.0-1`) and implicit numbers (`1.0a` is `1.0a0`) are accepted.
    public init(parsing string: some StringProtocol) throws(VersionError) {
        self = try VersionParser.parse(string)
    }

    /// The local version label in normal form (`ubuntu.1` in `1.0+ubuntu.1`), `nil` if absent.
    public var local: String? {
        self.localSegments.map { segments in
            segments.lazy.map(\.description).joined(separator: ".")
        }
    }

    /// Whether this is a pre-release or a development release, as PEP 440 defines it.
    public var isPrerelease: Bool {
        self.preRelease != nil || self.devRelease != nil
    }

    /// Whether this is a post-release.
    public var isPostRelease: Bool {
        self.postRelease != nil
    }

    /// Whether this is a development release.
    public var isDevelopmentRelease: Bool {
        self.devRelease != nil
    }

    /// The PEP 440 normal form, e.g. `1.0a1` for `v1.0-ALPHA.1` and `1.0.post1` for `1.0-1`.
    ///
    /// The release segment is kept as written: `1.0.0` stays `1.0.0`.
    public var normalized: String {
        self.render(release: self.release[...])
    }

    /// The normal form with trailing zeros of the release removed, keeping one component:
    /// `1.0.0` becomes `1`, `1.0.0rc1` becomes `1rc1`, `1.0+local` becomes `1+local`.
    ///
    /// Versions that are equal have the same canonical form, so it serves as the key that makes
    /// `1.0` and `1.0.0` one release.
    public var canonical: String {
        var end = self.release.endIndex
        while end > self.release.startIndex + 1, self.release[end - 1] == 0 {
            end -= 1
        }
        return self.render(release: self.release[..<end])
    }

    public var description: String {
        self.normalized
    }

    private func render(release: ArraySlice<Int>) -> String {
        var text = ""
        if self.epoch != 0 {
            text += "\(self.epoch)!"
        }
        text += release.lazy.map(String.init).joined(separator: ".")
        if let preRelease = self.preRelease {
            text += preRelease.description
        }
        if let postRelease = self.postRelease {
            text += ".post\(postRelease)"
        }
        if let devRelease = self.devRelease {
            text += ".dev\(devRelease)"
        }
        if let local = self.local {
            text += "+" + local
        }
        return text
    }
}

extension Version {
    /// The pre-release segment of a version: a phase and a number, such as `rc2`.
    public struct PreRelease: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// The pre-release phase, in PEP 440 order.
        public enum Phase: Int, Hashable, Comparable, Sendable {
            case alpha
            case beta
            case releaseCandidate

            /// The normal-form spelling: `a`, `b` or `rc`.
            public var tag: String {
                switch self {
                case .alpha: return "a"
                case .beta: return "b"
                case .releaseCandidate: return "rc"
                }
            }

            public static func < (lhs: Self, rhs: Self) -> Bool {
                lhs.rawValue < rhs.rawValue
            }
        }

        public let phase: Phase
        public let number: Int

        public init(phase: Phase, number: Int) {
            self.phase = phase
            self.number = number
        }

        /// The normal form, such as `a1` or `rc0`.
        public var description: String {
            self.phase.tag + String(self.number)
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.phase, lhs.number) < (rhs.phase, rhs.number)
        }
    }
}
