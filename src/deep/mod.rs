//! The deep generator: a neural autoregressive model of daily log returns
//! with a Student-t mixture conditional law, trained by maximum likelihood in
//! candle.
//!
//! Design (why this shape):
//! * **Heavy tails from the law, not the network.** The next standardised
//!   return is `z = σ_t (μ_t + ε)`: the network gives the scale σ_t and a
//!   bounded drift μ_t; ε follows one learnt mixture of K Student-t laws
//!   (ν > 4) shared by all days. A GAN that pushes Gaussian noise through a
//!   Lipschitz network cannot create power tails (Wiese et al. 2020); a t
//!   mixture can, and it can also stay Gaussian when the data are.
//! * **Long memory through features, not backpropagation through time.** The
//!   network sees exponentially weighted averages of past squared and signed
//!   standardised returns at half-lives 1, 4, 16, 64 and 256 days. Mixtures
//!   of exponentials at several scales approximate the slow, power-law-like decay of the |r| autocorrelation that a single
//!   GARCH recursion cannot, and signed averages carry the leverage effect.
//!   The features are fixed recursions of the data, so training is a
//!   feed-forward fit over all days at once (seconds on a CPU), and
//!   generation is one small MLP evaluation per path and day.
//! * **Paths of any length from any seed.** Generation runs the recursion
//!   forward; randomness comes from the project's per-path streams (candle's
//!   CPU backend cannot be seeded), and the forward pass at generation time is
//!   plain Rust over the saved weights in f64, so a path does not depend on
//!   batch size or thread count.
//! * **A variance state for pricing.** The one-step conditional variance of
//!   the mixture, annualised, is the path's `variance`.

mod features;
mod fit;
mod generator;
mod model;
pub mod panel;
pub mod pricing;
pub mod select;
mod shipped;
mod train;

pub use features::{
    squash, FeatureState, CORE_LEN, HALF_LIVES, LEGACY_STATE_LEN, N_FEATURES, STATE_LEN,
};
pub use fit::{HEAVY_START_RAW_NU, WARMUP};
pub use generator::DeepGenerator;
pub(crate) use generator::DEEP_NAME;
pub use model::{softplus, DeepConfig, Mixture, MixtureNet, Scratch, CORE_CORRECTION};
pub use pricing::{NestedPricer, TermTable};
pub use shipped::{shipped_pricing, SHIPPED_MODEL};
pub use train::{save, train, TrainOptions, TrainReport, MIN_RETURNS, MIN_RETURNS_COLD};
