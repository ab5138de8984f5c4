import Registry

/// GitLab's simple index pages (PEP 503 HTML) in structure, plus what GitLab lacks: the PEP 629
/// repository version, PEP 658/714 metadata and PEP 592 yanking attributes.
struct SimplePages {
    /// The absolute URL of the project or group PyPI root, e.g. `https://host/api/v4/projects/1/packages/pypi`.
    var baseURL: String

    func index(title: String, packages: [ListedPackage]) -> String {
        var links = ""
        for package in packages {
            links +=
                "<a href=\"\(HTML.escape("\(self.baseURL)/simple/\(package.normalizedName)"))\" data-requires-python=\"\(HTML.escape(package.requiresPython ?? ""))\">\(HTML.escape(package.name))</a><br>"
        }
        return self.page(title: title, links: links)
    }

    /// A project's files, each linked to this scope's own file route; local or from the upstream.
    func package(name: String, files: [SimpleFile]) -> String {
        var links = ""
        for file in files {
            let href = "\(self.baseURL)/files/\(file.sha256)/\(file.filename)#sha256=\(file.sha256)"
            links += "<a href=\"\(HTML.escape(href))\""
            if let requiresPython = file.requiresPython {
                links += " data-requires-python=\"\(HTML.escape(requiresPython))\""
            }
            if let metadata = file.coreMetadataSHA256 {
                links += " data-dist-info-metadata=\"sha256=\(metadata)\" data-core-metadata=\"sha256=\(metadata)\""
            }
            if let reason = file.yankReason {
                links += " data-yanked=\"\(HTML.escape(reason))\""
            }
            links += ">\(HTML.escape(file.filename))</a><br>"
        }
        return self.page(title: name, links: links)
    }

    private func page(title: String, links: String) -> String {
        """
        <!DOCTYPE html>
        <html>
          <head>
            <meta name="pypi:repository-version" content="\(SimpleJSON.apiVersion)">
            <title>Links for \(HTML.escape(title))</title>
          </head>
          <body>
            <h1>Links for \(HTML.escape(title))</h1>
            \(links)
          </body>
        </html>

        """
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }
}
