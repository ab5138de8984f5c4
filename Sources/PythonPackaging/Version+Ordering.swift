/// PEP 440 equality, hashing and ordering.
///
/// The order is the one `packaging.version.Version` implements: versions compare by epoch,
/// then by release with trailing zeros removed, then by the pre/post/dev suffix, then by the
/// local label (absent before present, segment by segment, a shorter label first when one is a
/// prefix of the other).
extension Version: Hashable, Comparable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.epoch == rhs.epoch
            && lhs.significantRelease.elementsEqual(rhs.significantRelease)
            && lhs.preRelease == rhs.preRelease
            && lhs.postRelease == rhs.postRelease
            && lhs.devRelease == rhs.devRelease
            && lhs.localSegments == rhs.localSegments
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.epoch)
        let release = self.significantRelease
        hasher.combine(release.count)
        for component in release {
            hasher.combine(component)
        }
        hasher.combine(self.preRelease)
        hasher.combine(self.postRelease)
        hasher.combine(self.devRelease)
        hasher.combine(self.localSegments)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.epoch != rhs.epoch {
            return lhs.epoch < rhs.epoch
        }
        let (lhsRelease, rhsRelease) = (lhs.significantRelease, rhs.significantRelease)
        if !lhsRelease.elementsEqual(rhsRelease) {
            return lhsRelease.lexicographicallyPrecedes(rhsRelease)
        }
        let (lhsSuffix, rhsSuffix) = (lhs.suffixKey, rhs.suffixKey)
        if lhsSuffix != rhsSuffix {
            return lhsSuffix < rhsSuffix
        }
        switch (lhs.localSegments, rhs.localSegments) {
        case (nil, nil), (_?, nil):
            return false
        case (nil, _?):
            return true
        case (let lhsLocal?, let rhsLocal?):
            return lhsLocal.lexicographicallyPrecedes(rhsLocal)
        }
    }

    /// The release without trailing zeros; empty for an all-zero release.
    var significantRelease: ArraySlice<Int> {
        var end = self.release.endIndex
        while end > self.release.startIndex, self.release[end - 1] == 0 {
            end -= 1
        }
        return self.release[..<end]
    }

    /// The pre, post and dev segments flattened so that tuple order is PEP 440 order.
    ///
    /// The phase rank puts a development release of the final version (`1.0.dev1`, no pre or
    /// post segment) before every pre-release, and a version without a pre-release after them.
    /// A missing post segment ranks before any post-release; a missing dev segment ranks after
    /// any development release.
    private var suffixKey: (Int, Int, Int, Int, Int, Int) {
        let phaseRank: Int
        let phaseNumber: Int
        if let preRelease = self.preRelease {
            phaseRank = preRelease.phase.rawValue
            phaseNumber = preRelease.number
        } else if self.postRelease == nil, self.devRelease != nil {
            phaseRank = -1
            phaseNumber = 0
        } else {
            phaseRank = PreRelease.Phase.releaseCandidate.rawValue + 1
            phaseNumber = 0
        }
        return (
            phaseRank, phaseNumber,
            self.postRelease == nil ? 0 : 1, self.postRelease ?? 0,
            self.devRelease == nil ? 1 : 0, self.devRelease ?? 0
        )
    }
}
