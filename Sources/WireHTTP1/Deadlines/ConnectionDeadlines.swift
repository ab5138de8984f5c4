import NIOCore

/// How long a connection may take over each phase of an exchange, nginx's four timeouts and its
/// defaults. Without them a client that sends nothing, one header byte a second, a body shorter
/// than its length, or never reads its answer holds a connection, and its descriptor, for as long
/// as it likes.
public struct ConnectionDeadlines: Sendable, Equatable {
    /// The whole request head must arrive within this, counted from the connection's start or, on a
    /// kept-alive connection, from the first byte of the next request (`client_header_timeout`).
    public var requestHead: TimeAmount
    /// After an answer, a connection on which no byte of a next request arrives within this is
    /// closed (`keepalive_timeout`).
    public var keepAlive: TimeAmount
    /// The longest wait for more of a request body while the server asks for it: a gap between two
    /// reads, not a limit on the whole upload (`client_body_timeout`).
    public var requestBody: TimeAmount
    /// The longest a client may leave an answer unread, no byte of it drained, before the
    /// connection is dropped (`send_timeout`).
    public var send: TimeAmount

    public init(requestHead: TimeAmount, keepAlive: TimeAmount, requestBody: TimeAmount, send: TimeAmount) {
        self.requestHead = requestHead
        self.keepAlive = keepAlive
        self.requestBody = requestBody
        self.send = send
    }

    /// nginx's defaults: 60 s for a head, a body gap and a send, 75 s for an idle kept-alive connection.
    public static let standard = ConnectionDeadlines(
        requestHead: .seconds(60),
        keepAlive: .seconds(75),
        requestBody: .seconds(60),
        send: .seconds(60)
    )
}
