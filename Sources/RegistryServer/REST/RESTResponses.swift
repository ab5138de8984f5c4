import Hummingbird
import Registry

/// How JSON answers look (REST, uploads, yanks, errors): JSON bodies, GitLab's pagination headers, 204s.
enum RESTResponse {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        let body = value.rendered
        var headers = extra
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(body.utf8.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }

    static func accepted() -> Response {
        self.json(.object([("message", .string("202 Accepted"))]), status: .accepted)
    }

    /// A page of a list with `X-Total`, `X-Total-Pages`, `X-Page`, `X-Per-Page`, `X-Next-Page`,
    /// `X-Prev-Page` and a `Link` header, as GitLab sends them.
    static func page(_ items: [JSONValue], total: Int, request page: PageRequest, call: RESTCall) -> Response {
        let totalPages = max(1, (total + page.perPage - 1) / page.perPage)
        var headers = HTTPFields()
        headers[.init("X-Total")!] = String(total)
        headers[.init("X-Total-Pages")!] = String(totalPages)
        headers[.init("X-Page")!] = String(page.page)
        headers[.init("X-Per-Page")!] = String(page.perPage)
        headers[.init("X-Next-Page")!] = page.page < totalPages ? String(page.page + 1) : ""
        headers[.init("X-Prev-Page")!] = page.page > 1 ? String(page.page - 1) : ""
        var links: [String] = []
        func link(_ number: Int, _ relation: String) -> String {
            var query = call.request.uri.queryParameters.filter { $0.key != "page" && $0.key != "per_page" }
                .map { "\($0.key)=\(Self.queryEscape(String($0.value)))" }
            query += ["page=\(number)", "per_page=\(page.perPage)"]
            return "<\(call.externalBase)\(call.request.uri.path)?\(query.joined(separator: "&"))>; rel=\"\(relation)\""
        }
        if page.page > 1 { links.append(link(page.page - 1, "prev")) }
        if page.page < totalPages { links.append(link(page.page + 1, "next")) }
        links.append(link(1, "first"))
        links.append(link(totalPages, "last"))
        headers[.init("Link")!] = links.joined(separator: ", ")
        return self.json(.array(items), headers: headers)
    }

    /// A whole list paged in memory (small collections: members, subgroups, deploy tokens).
    static func page(_ all: [JSONValue], call: RESTCall) -> Response {
        let page = call.page
        return self.page(Array(all.dropFirst((page.page - 1) * page.perPage).prefix(page.perPage)), total: all.count, request: page, call: call)
    }

    private static func queryEscape(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if character.isASCII, character.isLetter || character.isNumber || "-._~".contains(character) {
                output.append(character)
            } else {
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
