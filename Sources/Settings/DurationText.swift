import Foundation

/// `for: 10m` — a duration written as `90s`, `10m`, `2h`, `1h30m`, or a number of seconds.
struct DurationText: Decodable {
    let seconds: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            guard number >= 0 else { throw Self.error(decoder, "\(number)") }
            seconds = number
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Self.parse(text) else { throw Self.error(decoder, text.debugDescription) }
        seconds = parsed
    }

    static func parse(_ text: String) -> Int? {
        var total = 0, number = "", sawUnit = false
        for character in text.trimmingCharacters(in: .whitespaces) {
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Int(number), value <= 1_000_000 else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }

    private static func error(_ decoder: any Decoder, _ text: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a duration such as 90s, 10m, 2h or 1h30m, got \(text)"))
    }
}
