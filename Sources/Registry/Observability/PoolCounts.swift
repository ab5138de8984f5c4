import NIOConcurrencyHelpers

/// The two numbers behind `PoolGauges`: a gauge is set, not moved, so the counts live here and
/// each change sets the gauge to the new total.
final class PoolCounts: Sendable {
    private let state = NIOLockedValueBox((inUse: Int64(0), waiting: Int64(0)))

    func add(inUse delta: Int64) -> Int64 {
        self.state.withLockedValue { state in
            state.inUse += delta
            return state.inUse
        }
    }

    func add(waiting delta: Int64) -> Int64 {
        self.state.withLockedValue { state in
            state.waiting += delta
            return state.waiting
        }
    }
}
