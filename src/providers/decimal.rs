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
}
