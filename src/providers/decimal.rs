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
}
