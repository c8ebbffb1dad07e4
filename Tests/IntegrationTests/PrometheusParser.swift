import Foundation
import Testing

/// Checks a text exposition with the reference parser, `prometheus_client.parser` (Debian's
/// python3-prometheus-client, which scripts/test installs).
enum PrometheusParser {
    static let script = """
    import sys
    from prometheus_client.parser import text_string_to_metric_families
    families = list(text_string_to_metric_families(sys.stdin.read()))
    for family in families:
        assert family.type in ("gauge", "histogram", "counter"), family.name
        assert family.name.startswith("orchestrator_"), family.name
        for sample in family.samples:
            assert sample.value == sample.value, sample
        if family.type == "histogram":
            series = {}
            for sample in family.samples:
                key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                series.setdefault(key, {"buckets": [], "count": None})
                if sample.name.endswith("_bucket"):
                    series[key]["buckets"].append((float(sample.labels["le"]), sample.value))
                elif sample.name.endswith("_count"):
                    series[key]["count"] = sample.value
            for key, one in series.items():
                counts = [value for _, value in sorted(one["buckets"])]
                assert counts == sorted(counts), (family.name, key, "buckets not cumulative")
                assert one["buckets"][-1][0] == float("inf") and counts[-1] == one["count"], (family.name, key)
    print(len(families))
    """

    /// Fails the test unless the text parses into at least `families` gauge, counter and histogram
    /// families, each histogram's buckets cumulative and ending in +Inf at its count.
    static func check(_ text: String, families: Int) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try await exited(process)
        #expect(process.terminationStatus == 0, "prometheus_client could not parse /metrics: \(complaint)")
        let count = Int(printed.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(count >= families, "parsed \(count) families")
    }
}
