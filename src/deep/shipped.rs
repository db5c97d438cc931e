//! The pretrained model shipped inside the binary (`models/sp500/`), so
//! `simulate --model deep` works out of the box without the repository.

use super::model::MixtureNet;
use crate::error::Result;

/// Name of the shipped model (its directory under `models/`).
pub const SHIPPED_MODEL: &str = "sp500";

static CONFIG: &[u8] = include_bytes!("../../models/sp500/config.json");
static WEIGHTS: &[u8] = include_bytes!("../../models/sp500/model.safetensors");
static PRICING_JSON: &[u8] = include_bytes!("../../models/sp500/pricing.json");
static PRICING: &[u8] = include_bytes!("../../models/sp500/pricing.safetensors");

/// The shipped model's option-pricing table (`synthmarket fit-pricing`
/// output; accuracy in the model card).
pub fn shipped_pricing() -> Result<crate::deep::TermTable> {
    crate::deep::TermTable::from_bytes(
        PRICING_JSON,
        PRICING,
        "shipped:sp500",
        MixtureNet::shipped()?,
    )
}

impl MixtureNet {
    /// The shipped model (trained on `data/sp500_daily.csv`; see
    /// `models/sp500/MODEL_CARD.md`).
    pub fn shipped() -> Result<MixtureNet> {
        MixtureNet::from_bytes(CONFIG, WEIGHTS, None)
    }
}
