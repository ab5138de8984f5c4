import NIOConcurrencyHelpers

/// Fails fast while the database is known to be unreachable, so that a request does not wait out a
/// connect timeout for each of its queries, and a burst of requests does not each open a doomed
/// connection.
///
/// After a failure the circuit is open for `retryInterval`: every call is refused at once. Then
/// one call at a time is let through as a probe; its success closes the circuit, its failure opens
/// it again.
final class CircuitBreaker: Sendable {
    private struct State {
        var openUntil: ContinuousClock.Instant?
        var probing = false
    }

    private let state = NIOLockedValueBox(State())
    let retryInterval: Duration

    init(retryInterval: Duration = .milliseconds(500)) {
        self.retryInterval = retryInterval
    }

    /// Whether a call may go to the database now.
    func admit() -> Bool {
        let now = ContinuousClock.now
        return self.state.withLockedValue { state in
            guard let openUntil = state.openUntil else { return true }
            guard openUntil <= now, !state.probing else { return false }
            state.probing = true
            return true
        }
    }

    /// The database answered (whatever it answered).
    func recordSuccess() {
        self.state.withLockedValue { state in
            state.openUntil = nil
            state.probing = false
        }
    }

    /// The call said nothing about the database (cancelled, or no connection free): a probe's
    /// turn passes to the next call.
    func recordInconclusive() {
        self.state.withLockedValue { $0.probing = false }
    }

    /// The database could not be reached, or did not answer in time.
    func recordFailure() {
        let until = ContinuousClock.now + self.retryInterval
        self.state.withLockedValue { state in
            state.openUntil = until
            state.probing = false
        }
    }
}
