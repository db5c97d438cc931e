//! Plain market data: time grids, the business-day calendar, real spot
//! histories, blocks of simulated paths, option contracts and market
//! states. No behaviour beyond validation and simple accessors lives here.

mod calendar;
mod grid;
mod history;
mod option;
mod panel;
mod paths;

pub use calendar::{parse_iso_date, BusinessCalendar, TRADING_DAYS_PER_YEAR};
pub use grid::TimeGrid;
pub use history::SpotHistory;
pub use option::{MarketState, OptionSpec, OptionType};
pub use panel::PanelHistory;
pub use paths::PathChunk;
