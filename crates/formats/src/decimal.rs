//! A fast path for the plain decimals that fill CSV recordings (`1043`, `0.0939999999828`).
//!
//! Only `digits[.digits]` with few enough digits is accepted, and for those the result is the
//! one `str::parse::<f64>` gives: the digits form an integer `m` of at most 2^53 and the point
//! divides it by `10^k` with `k` at most 22, so `m` and `10^k` are both exact doubles and the one
//! division IEEE rounds correctly, which is the correctly rounded value std returns too (the
//! "Clinger fast path"). Anything else is left to the caller's fallback, std.

/// The powers of ten that are exact doubles.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The powers of ten below 10^8.
const POW10_INT: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Parses the plain decimal at the start of `s`: `Some((value, bytes used))`, or `None` when `s`
/// does not start with a digit or its number needs std's general algorithm (too many digits).
/// The number ends at the first byte that is not part of it; the caller checks that byte.
#[inline(always)]
pub(crate) fn parse_prefix(s: &[u8]) -> Option<(f64, usize)> {
    // The usual case, up to 7 digits before and after the point, eight bytes at a time.
    let word = load8(s);
    let int_len = digit_run(word);
    if int_len == 0 {
        return None;
    }
    if int_len < 8 {
        let int = digits_value(word, int_len);
        if s.get(int_len) != Some(&b'.') {
            return Some((int as i64 as f64, int_len));
        }
        let frac_word = load8(&s[int_len + 1..]);
        let frac_len = digit_run(frac_word);
        if frac_len < 8 {
            // At most 14 digits: far below 2^53, so exact as a double (and converted as an i64,
            // which is quicker).
            let mantissa = int * POW10_INT[frac_len] + digits_value(frac_word, frac_len);
            let value = mantissa as i64 as f64 / POW10[frac_len];
            return Some((value, int_len + 1 + frac_len));
        }
    }
    parse_prefix_bytewise(s)
}

/// [`parse_prefix`] one byte at a time, for numbers with 8 or more digits on a side of the point.
fn parse_prefix_bytewise(s: &[u8]) -> Option<(f64, usize)> {
    let mut mantissa = 0u64;
    let mut i = 0;
    while let Some(d) = s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|&d| d < 10) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    let int_digits = i;
    if int_digits == 0 {
        return None;
    }
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|&d| d < 10) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
            frac_digits += 1;
        }
    }
    // 19 digits cannot overflow a u64, so the wrapping arithmetic above was exact.
    if int_digits + frac_digits > 19 || mantissa > 1 << 53 || frac_digits >= POW10.len() {
        return None;
    }
    Some((mantissa as f64 / POW10[frac_digits], i))
}

/// The 8 bytes at the start of `s` as one word, first byte lowest, zero-padded past the end.
#[inline]
pub(crate) fn load8(s: &[u8]) -> u64 {
    match s.first_chunk::<8>() {
        Some(bytes) => u64::from_le_bytes(*bytes),
        None => {
            let mut bytes = [0; 8];
            bytes[..s.len()].copy_from_slice(s);
            u64::from_le_bytes(bytes)
        }
    }
}

/// A word with the high bit set in the first byte of `word` equal to `byte` (and perhaps in
/// later bytes, which callers ignore); 0 if there is none.
#[inline]
pub(crate) fn find_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ (0x0101_0101_0101_0101 * u64::from(byte));
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080
}

/// How many bytes `word` starts with that are ASCII digits: 0 to 8.
#[inline]
fn digit_run(word: u64) -> usize {
    // A digit's high nibble is 3, and stays 3 when 6 is added. The carry out of a byte of 0xFA
    // or more can only spoil the bytes after it, not the first non-digit.
    let high = 0xF0F0_F0F0_F0F0_F0F0;
    let nibbles = (word & high) | ((word.wrapping_add(0x0606_0606_0606_0606) & high) >> 4);
    ((nibbles ^ 0x3333_3333_3333_3333).trailing_zeros() / 8) as usize
}

/// The value of the `len` (0 to 8) digits `word` starts with.
#[inline]
fn digits_value(word: u64, len: usize) -> u64 {
    if len == 0 {
        return 0;
    }
    // Digit values, moved up so the bytes below them read as leading zeros; the bytes past the
    // digits (and any borrow out of them) fall off the top.
    let v = word.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - len));
    // Combine neighbouring digits into pairs, pairs into fours, fours into the eight.
    let v = (v.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    v.wrapping_mul(10_000 << 32 | 1) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn std(s: &str) -> f64 {
        s.parse().unwrap()
    }

    #[test]
    fn plain_decimals_are_parsed_with_their_length() {
        assert_eq!(parse_prefix(b"1043,410"), Some((1043.0, 4)));
        assert_eq!(
            parse_prefix(b"0.0939999999828\n"),
            Some((std("0.0939999999828"), 15))
        );
        assert_eq!(parse_prefix(b"0"), Some((0.0, 1)));
        assert_eq!(parse_prefix(b"0.0"), Some((0.0, 3)));
        assert_eq!(parse_prefix(b"5."), Some((5.0, 2)));
        assert_eq!(parse_prefix(b"12.5e3"), Some((12.5, 4)));
        assert_eq!(
            parse_prefix(b"9007199254740992"),
            Some((9007199254740992.0, 16))
        );
        assert_eq!(
            parse_prefix(b"12345678.87654321,"),
            Some((std("12345678.87654321"), 17))
        );
        assert_eq!(
            parse_prefix(b"1234567.7654321,"),
            Some((std("1234567.7654321"), 15))
        );
    }

    #[test]
    fn words_are_read_eight_digits_at_a_time() {
        for (text, run) in [
            ("", 0),
            ("7", 1),
            ("12345678", 8),
            ("1234567,", 7),
            ("12:4", 2),
        ] {
            let word = load8(text.as_bytes());
            assert_eq!(digit_run(word), run, "{text:?}");
            let value = text[..run].parse::<u64>().unwrap_or(0);
            assert_eq!(digits_value(word, run), value, "{text:?}");
        }
        // Bytes whose carry or borrow could spill over do not disturb the digits before them.
        let word = load8(&[b'4', b'2', 0xFF, b'9', 0x00, b'1', b'/', b'3']);
        assert_eq!((digit_run(word), digits_value(word, 2)), (2, 42));
        assert_eq!(find_byte(load8(b"ab,cd,ef"), b','), 0x80 << 16 | 0x80 << 40);
        assert_eq!(find_byte(load8(b"abc"), b','), 0);
    }

    #[test]
    fn anything_else_is_left_to_std() {
        for s in [
            "",
            ",",
            "-1",
            "+1",
            ".5",
            " 1",
            "inf",
            "NaN",
            "9007199254740993",          // above 2^53
            "12345678901234567890",      // 20 digits
            "0.00000000000000000000001", // 23 decimals
        ] {
            assert_eq!(parse_prefix(s.as_bytes()), None, "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_every_decimal_it_accepts(
            int in "[0-9]{1,20}",
            frac in proptest::option::of("[0-9]{0,24}"),
        ) {
            let text = match &frac {
                Some(frac) => format!("{int}.{frac}"),
                None => int.clone(),
            };
            if let Some((value, used)) = parse_prefix(text.as_bytes()) {
                prop_assert_eq!(used, text.len());
                prop_assert_eq!(value.to_bits(), std(&text).to_bits(), "{}", text);
            }
        }

        #[test]
        fn eight_at_a_time_agrees_with_bytewise_and_std(
            text in "[0-9]{0,10}([.][0-9]{0,10})?[,\n.:/ a\x00]?[0-9]{0,3}",
        ) {
            let parsed = parse_prefix(text.as_bytes());
            prop_assert_eq!(parsed, parse_prefix_bytewise(text.as_bytes()));
            if let Some((value, used)) = parsed {
                prop_assert_eq!(value.to_bits(), std(&text[..used]).to_bits(), "{}", text);
            }
        }

        #[test]
        fn agrees_with_std_on_doubles_printed_shortest(bits in any::<u64>()) {
            let v = f64::from_bits(bits).abs();
            prop_assume!(v.is_finite());
            let text = format!("{v}");
            if let Some((value, used)) = parse_prefix(text.as_bytes()) {
                prop_assert_eq!(used, text.len());
                prop_assert_eq!(value.to_bits(), v.to_bits(), "{}", text);
            }
        }

        #[test]
        fn agrees_with_std_on_short_decimals(m in 0u64..=1 << 53, k in 0usize..=22) {
            let digits = format!("{m:0>width$}", width = k + 1);
            let text = format!("{}.{}", &digits[..digits.len() - k], &digits[digits.len() - k..]);
            let parsed = parse_prefix(text.as_bytes());
            if digits.len() <= 19 {
                prop_assert!(parsed.is_some(), "{} should take the fast path", text);
            }
            if let Some((value, used)) = parsed {
                prop_assert_eq!(used, text.len());
                prop_assert_eq!(value.to_bits(), std(&text).to_bits(), "{}", text);
            }
        }
    }
}
