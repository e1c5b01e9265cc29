//! The feature table `pointerprint features` writes: `file,action,<feature names>` and one
//! row per action. Rows are formatted into byte buffers, so files can be formatted on
//! several threads and written in order; floats go through `zmij` (shortest round-trip
//! digits) and whole numbers through `itoa`, with no allocation per row.

use std::io::{self, Write};

use pointerprint_core::{FEATURE_NAMES, FeatureVector};

/// Largest magnitude written as an integer: below 2^53 every whole double is exact.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Writes the header line.
pub fn write_feature_header(out: &mut impl Write) -> io::Result<()> {
    let mut line = String::from("file,action");
    for name in FEATURE_NAMES {
        line.push(',');
        line.push_str(name);
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// Appends one row per action of the session file `file` to `buf`; `file` is written as
/// given (quoted if it holds a comma, a quote or a line break).
pub fn format_feature_rows(buf: &mut Vec<u8>, file: &str, actions: &[FeatureVector]) {
    let mut name = Vec::with_capacity(file.len() + 2);
    push_field(&mut name, file);
    let mut integers = itoa::Buffer::new();
    let mut floats = zmij::Buffer::new();
    for (i, action) in actions.iter().enumerate() {
        buf.extend_from_slice(&name);
        buf.push(b',');
        buf.extend_from_slice(integers.format(i).as_bytes());
        for &value in action.as_slice() {
            buf.push(b',');
            push_number(buf, value, &mut integers, &mut floats);
        }
        buf.push(b'\n');
    }
}

/// A number as `{}` prints it for the values features take: whole numbers without a
/// fraction, others in their shortest round-trip form.
fn push_number(
    buf: &mut Vec<u8>,
    value: f64,
    integers: &mut itoa::Buffer,
    floats: &mut zmij::Buffer,
) {
    if value == value.trunc() && value.abs() < EXACT_INTEGER {
        if value == 0.0 && value.is_sign_negative() {
            buf.extend_from_slice(b"-0");
        } else {
            buf.extend_from_slice(integers.format(value as i64).as_bytes());
        }
    } else {
        buf.extend_from_slice(floats.format(value).as_bytes());
    }
}

/// A CSV field, quoted when it must be.
pub(crate) fn push_field(buf: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        buf.push(b'"');
        buf.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        buf.push(b'"');
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use pointerprint_core::FEATURE_COUNT;

    use super::*;

    #[test]
    fn rows_parse_back_to_the_same_numbers() {
        let mut values = [0.0; FEATURE_COUNT];
        let samples = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            3.0,
            0.1,
            -2.5e-7,
            1.0 / 3.0,
            123_456_789.125,
            1e300,
            -1e-300,
            f64::MIN_POSITIVE,
            9.5e15,
            2e16,
        ];
        for (i, v) in values.iter_mut().enumerate() {
            *v = samples[i % samples.len()] * if i % 2 == 0 { 1.0 } else { -1.0 };
        }
        let mut buf = Vec::new();
        format_feature_rows(&mut buf, "a,b \"c\".csv", &[FeatureVector(values); 2]);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let row = lines[1].strip_prefix("\"a,b \"\"c\"\".csv\",1,").unwrap();
        let parsed: Vec<f64> = row.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(parsed.len(), FEATURE_COUNT);
        for (got, want) in parsed.iter().zip(values) {
            assert_eq!(got.to_bits(), want.to_bits(), "{got} vs {want}");
        }
        // Whole numbers print as `{}` prints them.
        assert!(row.starts_with("0,0,1,1,3,-0.1,"), "{row}");
    }

    #[test]
    fn the_header_names_every_feature() {
        let mut out = Vec::new();
        write_feature_header(&mut out).unwrap();
        let header = String::from_utf8(out).unwrap();
        assert!(header.starts_with("file,action,action_type,elapsed_time,"));
        assert_eq!(header.trim_end().split(',').count(), FEATURE_COUNT + 2);
    }
}
