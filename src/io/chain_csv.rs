//! The `options.csv` format: one row per (path, step, expiry, strike, type).

use crate::pricing::ChainRow;

/// Column names of `options.csv`.
pub const COLUMNS: [&str; 13] = [
    "path",
    "step",
    "date",
    "expiry",
    "maturity",
    "strike",
    "option_type",
    "price",
    "implied_vol",
    "delta",
    "gamma",
    "vega",
    "theta",
];

/// Appends the chain of one (path, step, date) to `out`. Non-finite values
/// (no implied volatility: the price sits on a no-arbitrage bound to machine
/// precision) are written as empty fields.
pub fn write_rows(path: u64, step: usize, date: &str, rows: &[ChainRow], out: &mut Vec<u8>) {
    let mut ib = itoa::Buffer::new();
    let mut fb = ryu::Buffer::new();
    let mut num = |x: f64, out: &mut Vec<u8>| {
        if x.is_finite() {
            out.extend_from_slice(fb.format(x).as_bytes());
        }
    };
    for r in rows {
        out.extend_from_slice(ib.format(path).as_bytes());
        out.push(b',');
        out.extend_from_slice(ib.format(step).as_bytes());
        out.push(b',');
        out.extend_from_slice(date.as_bytes());
        out.push(b',');
        out.extend_from_slice(r.expiry.to_string().as_bytes());
        out.push(b',');
        num(r.maturity, out);
        out.push(b',');
        num(r.strike, out);
        out.push(b',');
        out.extend_from_slice(r.option_type.to_string().as_bytes());
        for x in [r.price, r.implied_vol, r.delta, r.gamma, r.vega, r.theta] {
            out.push(b',');
            num(x, out);
        }
        out.push(b'\n');
    }
}
