/// The UTF-8 rules of MQTT (section 1.5.4): strings must be well-formed UTF-8 without surrogate
/// code points and without U+0000; control characters and non-characters are discouraged, and
/// rejecting them is left to policy.
enum MQTTUTF8 {
    /// What is wrong with a byte sequence.
    enum Violation: Equatable {
        case illFormed
        case nullCharacter
        case discouraged
    }

    /// Checks `bytes`; `nil` means acceptable.
    static func check(_ bytes: UnsafeRawBufferPointer, rejectDiscouraged: Bool) -> Violation? {
        let count = bytes.count
        var index = 0
        var sawDiscouraged = false
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead == 0 { return .nullCharacter }
                if lead < 0x20 || lead == 0x7F { sawDiscouraged = true }
                index += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF:
                length = 2
                scalar = UInt32(lead & 0x1F)
            case 0xE0...0xEF:
                length = 3
                scalar = UInt32(lead & 0x0F)
            case 0xF0...0xF4:
                length = 4
                scalar = UInt32(lead & 0x07)
            default:
                return .illFormed
            }
            guard count - index >= length else { return .illFormed }
            for offset in 1..<length {
                let byte = bytes[index + offset]
                guard byte & 0xC0 == 0x80 else { return .illFormed }
                scalar = scalar << 6 | UInt32(byte & 0x3F)
            }
            if length == 3 && scalar < 0x800 { return .illFormed }
            if length == 4 && (scalar < 0x1_0000 || scalar > 0x10_FFFF) { return .illFormed }
            if (0xD800...0xDFFF).contains(scalar) { return .illFormed }
            if (0x80...0x9F).contains(scalar) || (0xFDD0...0xFDEF).contains(scalar) || scalar & 0xFFFE == 0xFFFE {
                sawDiscouraged = true
            }
            index += length
        }
        return rejectDiscouraged && sawDiscouraged ? .discouraged : nil
    }

    /// Checks the UTF-8 of a string, e.g. a payload with Payload Format Indicator 1.
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch check(bytes, rejectDiscouraged: false) {
        case nil, .nullCharacter: return true
        case .illFormed, .discouraged: return false
        }
    }
}
