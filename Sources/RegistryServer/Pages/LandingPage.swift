import Hummingbird

/// `GET /`: until the web interface exists, a short page that names the server, its version and
/// where its API is, so that someone who opens the registry's address in a browser learns what it is.
enum LandingPage {
    static let body = """
        <!DOCTYPE html>
        <html>
          <head>
            <meta charset="utf-8">
            <title>Wheelhouse \(WheelhouseVersion.current)</title>
          </head>
          <body>
            <h1>Wheelhouse</h1>
            <p>Version \(WheelhouseVersion.current): a Python package registry speaking GitLab's PyPI API, under <code>/api/v4</code>.</p>
            <ul>
              <li>A project's index: <code>/api/v4/projects/:id/packages/pypi/simple</code></li>
              <li>A group's index: <code>/api/v4/groups/:id/-/packages/pypi/simple</code></li>
              <li>Uploads: <code>POST /api/v4/projects/:id/packages/pypi</code></li>
            </ul>
          </body>
        </html>

        """

    static func response(isHead: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLength] = String(self.body.utf8.count)
        return Response(status: .ok, headers: headers, body: isHead ? .init() : .init(byteBuffer: ByteBuffer(string: self.body)))
    }
}
