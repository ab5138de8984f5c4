/// How long each cache may answer without asking the database, in one place, because they add up.
///
/// Changes made through this process reach every cache at once (see `Freshness`); these lifetimes
/// bound how long a change made elsewhere (the CLI, another instance) takes to show:
/// - a new upload, yank or deletion: `packagesVersions` (pages, downloads and replayed answers are
///   all checked against the versions, so none is staler than they are);
/// - a revoked token: `tokens` plus `replayedAnswers` (one second);
/// - a removed member or a narrowed visibility: `accessDecisions` plus `replayedAnswers`;
/// - a settings change: `settings` plus `replayedAnswers`.
public enum CacheLifetimes {
    /// Projects' `packages_version`, what cached pages, downloads and replays are checked against.
    public static let packagesVersions = Duration.milliseconds(250)
    /// Successful token lookups.
    public static let tokens = Duration.milliseconds(750)
    /// Read-path authorisation decisions (who may see or read a project or group).
    public static let accessDecisions = Duration.seconds(1)
    /// The application settings (forwarding to the upstream index): a change made with the CLI
    /// reaches running servers within a second, with `replayedAnswers`.
    public static let settings = Duration.milliseconds(500)
    /// Answers kept as sent, for the wire layer to send again.
    public static let replayedAnswers = Duration.milliseconds(250)
    /// How long after expiring an entry may still stand in for a database that cannot be reached,
    /// on the read path only.
    public static let staleIfUnavailable = Duration.seconds(600)
}
