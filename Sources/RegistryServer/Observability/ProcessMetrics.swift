#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The standard `process_*` metrics every Prometheus client library exports, read from Linux's
/// `/proc/self` at scrape time (nothing is kept between scrapes). On a system without `/proc`
/// the lines it cannot read are left out.
struct ProcessMetrics: Sendable {
    /// The process' start, as seconds since the epoch, taken when the server is made.
    let startTime: Double

    init() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        self.startTime = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The metrics in Prometheus' text format.
    func render() -> String {
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ value: Double?, counter: Bool = false) {
            guard let value else { return }
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(counter ? "counter" : "gauge")")
            lines.append("\(name) \(Self.format(value))")
        }
        let stat = Self.stat()
        gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", stat?.cpuSeconds, counter: true)
        gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", self.startTime)
        gauge("process_resident_memory_bytes", "Resident memory size in bytes.", stat?.residentBytes)
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", stat?.virtualBytes)
        gauge("process_open_fds", "Number of open file descriptors.", Self.openDescriptors())
        gauge("process_max_fds", "Maximum number of open file descriptors.", Self.maxDescriptors())
        return lines.joined(separator: "\n") + "\n"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// From `/proc/self/stat`: utime and stime (fields 14 and 15, in clock ticks), vsize (23, bytes)
    /// and rss (24, pages). The command name (field 2) is in parentheses and may hold spaces, so
    /// fields are counted from the last `)`.
    private static func stat() -> (cpuSeconds: Double, virtualBytes: Double, residentBytes: Double)? {
        guard let text = Self.contents(of: "/proc/self/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state).
        guard fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
            let vsize = Double(fields[20]), let rss = Double(fields[21])
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        return ((utime + stime) / ticks, vsize, rss * page)
    }

    private static func openDescriptors() -> Double? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { count += 1 }
        }
        // Less the descriptor `opendir` itself holds.
        return Double(max(0, count - 1))
    }

    private static func maxDescriptors() -> Double? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Double(limit.rlim_cur)
    }

    private static func contents(of path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &bytes, bytes.count)
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
