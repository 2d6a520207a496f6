//! Exact conversion of JSON numbers to [`Decimal`].

use std::str::FromStr;

use rust_decimal::Decimal;

/// The decimal that a JSON number was written as.
///
/// serde_json reads a JSON number such as `1.31` into the nearest `f64`;
/// Rust's `Display` for `f64` prints the shortest text that reads back to the
/// same `f64`, which for any number written with at most 15 significant
/// digits is the text the vendor sent. So `1.31` becomes exactly `1.31`, not
/// `1.3100000000000000532907051820075`. Returns `None` for NaN, infinities
/// and magnitudes a `Decimal` cannot hold.
pub fn decimal_from_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    let text = value.to_string();
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

/// A decimal written plainly as `-?digits[.digits]` (no exponent, no
/// grouping, no spaces), read exactly, never through `f64`. `None` otherwise.
pub fn plain_decimal(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let plain = !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if plain { Decimal::from_str(text).ok() } else { None }
}

/// A non-negative [`plain_decimal`]: a price as `digits[.digits]`.
pub fn plain_price(text: &str) -> Option<Decimal> {
    if text.starts_with('-') { None } else { plain_decimal(text) }
}

/// A price the way a CSV file wrote it, without the digits of a widened
/// `float32`.
///
/// yfinance keeps prices as `float32` and prints them as `float64`, so the
/// Yahoo downloads hold `53.9900016784668` for the 53.99 it recorded (and
/// `11.065999984741211` for an adjusted 11.066). When the text has more
/// significant digits than a `float32` holds (over 9) and reads back as
/// exactly a `float32` value, the price is that `float32`'s shortest decimal
/// (`53.99`, `11.066`): the value the source recorded, not a rounding of it.
/// Any other text is read exactly as [`plain_price`] does (`186.8600` stays
/// `186.8600`; `39.7999` stays `39.7999`). `None` for what `plain_price`
/// refuses.
pub fn recorded_price(text: &str) -> Option<Decimal> {
    let exact = plain_price(text)?;
    let significant = text.bytes().filter(u8::is_ascii_digit).skip_while(|b| *b == b'0').count();
    if significant <= 9 {
        return Some(exact);
    }
    let Ok(wide) = text.parse::<f64>() else {
        return Some(exact);
    };
    #[allow(clippy::cast_possible_truncation, reason = "the point: is the text exactly a float32?")]
    let narrow = wide as f32;
    if narrow.is_finite() && f64::from(narrow) == wide {
        Decimal::from_str(&narrow.to_string()).ok().or(Some(exact))
    } else {
        Some(exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn json_numbers_keep_their_written_digits() {
        assert_eq!(decimal_from_f64(1.31), Some(dec!(1.31)));
        assert_eq!(decimal_from_f64(186.86), Some(dec!(186.86)));
        assert_eq!(decimal_from_f64(0.0), Some(dec!(0)));
        assert_eq!(decimal_from_f64(f64::NAN), None);
        assert_eq!(decimal_from_f64(1e300), None);
    }

    #[test]
    fn plain_text_is_read_exactly_and_nothing_else() {
        assert_eq!(plain_decimal("39.79999923706055"), Some(dec!(39.79999923706055)));
        assert_eq!(plain_decimal("-0.525"), Some(dec!(-0.525)));
        assert_eq!(plain_price("-0.525"), None);
        assert_eq!(plain_price("12"), Some(dec!(12)));
        for bad in ["", ".", "1.", ".5", "1e3", "1,000.5", " 1", "NaN", "--1"] {
            assert_eq!(plain_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_widened_float32_reads_as_the_price_it_recorded() {
        // Yahoo CVNA.csv lines 602-603 and HOOD.csv's 2023-02-08 close.
        assert_eq!(recorded_price("53.9900016784668"), Some(dec!(53.99)));
        assert_eq!(recorded_price("39.79999923706055"), Some(dec!(39.8)));
        assert_eq!(recorded_price("11.065999984741211"), Some(dec!(11.066)));
        assert_eq!(recorded_price("92.5"), Some(dec!(92.5)));
        // Written with few digits, or not a float32: kept as written.
        assert_eq!(recorded_price("186.8600"), Some(dec!(186.8600)));
        assert_eq!(recorded_price("39.7999"), Some(dec!(39.7999)));
        assert_eq!(recorded_price("144.08193661226423"), Some(dec!(144.08193661226423)));
        assert_eq!(recorded_price("-1.5"), None);
    }
}
