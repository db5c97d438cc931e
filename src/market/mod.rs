//! Plain market data: time grids, the business-day calendar, real spot
//! histories and blocks of simulated paths. No behaviour beyond validation and
//! simple accessors lives here.

mod calendar;
mod grid;
mod history;
mod paths;

pub use calendar::{parse_iso_date, BusinessCalendar, TRADING_DAYS_PER_YEAR};
pub use grid::TimeGrid;
pub use history::SpotHistory;
pub use paths::PathChunk;
