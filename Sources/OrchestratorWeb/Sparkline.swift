/// A series drawn as the `points` of an SVG polyline in a 100 × 24 box, so the page needs no
/// script and no image request. The points are numbers only; nothing from the database reaches
/// the markup through them.
enum Sparkline {
    static let width = 100.0
    static let height = 24.0

    /// Nil when fewer than two buckets have a value.
    static func points(_ values: [Double?]) -> String? {
        let present = values.enumerated().compactMap { index, value in value.map { (index, $0) } }
        guard present.count >= 2, let low = present.map(\.1).min(), let high = present.map(\.1).max() else { return nil }
        let span = high - low
        let step = values.count > 1 ? width / Double(values.count - 1) : 0
        return present.map { index, value in
            let y = span > 0 ? (height - 2) - (value - low) / span * (height - 4) : height / 2
            return "\(format(Double(index) * step)),\(format(y))"
        }.joined(separator: " ")
    }

    private static func format(_ number: Double) -> String {
        String((number * 10).rounded() / 10)
    }
}
