use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionType {
    /// Right to buy at the strike.
    Call,
    /// Right to sell at the strike.
    Put,
}

impl OptionType {
    /// `+1` for calls, `−1` for puts.
    pub fn sign(self) -> f64 {
        match self {
            OptionType::Call => 1.0,
            OptionType::Put => -1.0,
        }
    }
}

impl FromStr for OptionType {
    type Err = String;
    /// Accepts `call`/`put`, `c`/`p`, in any case.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "call" | "c" => Ok(OptionType::Call),
            "put" | "p" => Ok(OptionType::Put),
            _ => Err(format!(
                "`{s}` is not an option type (expected call or put)"
            )),
        }
    }
}

impl fmt::Display for OptionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptionType::Call => "call",
            OptionType::Put => "put",
        })
    }
}

/// A European option contract: type, strike and time to expiry in years.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OptionSpec {
    option_type: OptionType,
    strike: f64,
    maturity: f64,
}

impl OptionSpec {
    /// `strike > 0` and finite, `maturity ≥ 0` and finite (years).
    pub fn new(option_type: OptionType, strike: f64, maturity: f64) -> Result<Self> {
        if !(strike.is_finite() && strike > 0.0) {
            return Err(Error::parameter(
                "strike",
                strike,
                "must be positive and finite",
            ));
        }
        if !(maturity.is_finite() && maturity >= 0.0) {
            return Err(Error::parameter(
                "maturity",
                maturity,
                "must be finite and ≥ 0 (years to expiry)",
            ));
        }
        Ok(OptionSpec {
            option_type,
            strike,
            maturity,
        })
    }

    /// Call or put.
    pub fn option_type(&self) -> OptionType {
        self.option_type
    }

    /// Strike.
    pub fn strike(&self) -> f64 {
        self.strike
    }

    /// Years to expiry.
    pub fn maturity(&self) -> f64 {
        self.maturity
    }
}

/// The market an option is priced in: spot, continuously compounded rate and
/// dividend yield (per year).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MarketState {
    spot: f64,
    rate: f64,
    dividend: f64,
}

impl MarketState {
    /// `spot > 0`, finite rate and dividend yield.
    pub fn new(spot: f64, rate: f64, dividend: f64) -> Result<Self> {
        if !(spot.is_finite() && spot > 0.0) {
            return Err(Error::parameter(
                "spot",
                spot,
                "must be positive and finite",
            ));
        }
        if !rate.is_finite() {
            return Err(Error::parameter("rate", rate, "must be finite"));
        }
        if !dividend.is_finite() {
            return Err(Error::parameter("dividend", dividend, "must be finite"));
        }
        Ok(MarketState {
            spot,
            rate,
            dividend,
        })
    }

    /// Spot.
    pub fn spot(&self) -> f64 {
        self.spot
    }

    /// Continuously compounded rate per year.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Continuous dividend yield per year.
    pub fn dividend(&self) -> f64 {
        self.dividend
    }

    /// Forward to `t` years: `S·e^{(r−q)t}`.
    pub fn forward(&self, t: f64) -> f64 {
        self.spot * ((self.rate - self.dividend) * t).exp()
    }

    /// Discount factor to `t` years: `e^{−rt}`.
    pub fn discount(&self, t: f64) -> f64 {
        (-self.rate * t).exp()
    }
}
