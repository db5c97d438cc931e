//! Numbers in report tables.

/// Formats a number for report tables (the Markdown reports and the
/// tables printed by the CLI): 4 decimals between 1e-3 and 1e4, scientific
/// otherwise, `n/a` if not finite.
pub fn table_number(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x == 0.0 || (1e-3..1e4).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::table_number;

    #[test]
    fn four_decimals_in_range_scientific_outside_na_if_not_finite() {
        assert_eq!(table_number(0.0), "0.0000");
        assert_eq!(table_number(-1.23456), "-1.2346");
        assert_eq!(table_number(0.001), "0.0010");
        assert_eq!(table_number(0.0001234), "1.234e-4");
        assert_eq!(table_number(12345.0), "1.234e4");
        assert_eq!(table_number(f64::NAN), "n/a");
        assert_eq!(table_number(f64::INFINITY), "n/a");
    }
}
