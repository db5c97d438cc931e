use clap::Args;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use synthmarket::error::{Error, Location, Result};
use synthmarket::io::option_csv::fmt;
use synthmarket::io::parquet::ParquetCursor;
use synthmarket::io::write_atomic;
use synthmarket::market::OptionType;
use synthmarket::pricing::arbitrage::{ChainQuotes, Kind, Quote, Tolerance, Violation};

const AFTER_HELP: &str = "Input: an option-chain file in the long options.csv schema (any file with
at least expiry,maturity,strike,option_type,price; path, date (or step) and
implied_vol and vega are used when present). `synthmarket validate` runs the
same checks on every chain of a simulated market, in either layout. A chain is
all rows of one (path, date, asset) (asset when the file has that column: a
market's chains); rows of a chain must be contiguous, as simulate writes them.

Checks per expiry, model-free (the discount factor D and forward F are
inferred from put-call parity, C - P = D(F - K), fitted over the strikes):
parity residuals; bounds max(D(F-K),0) <= C <= D F and max(D(K-F),0) <= P <= D K;
calls non-increasing and puts non-decreasing in strike, call spreads no
steeper than D; non-negative butterflies; and across expiries, total implied
variance non-decreasing in maturity at fixed forward moneyness.

Tolerance: eps = --tolerance x max strike for prices; for total variance
--tolerance plus what eps allows, 2 sigma T eps / vega (when vega is given).
Exit code 0 when the file is free of static arbitrage, 1 when violations are
found (all listed in --report, the first 20 printed), 2 for a malformed file.";

/// `synthmarket check-arbitrage`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct CheckArbitrageCmd {
    /// Option-chain file (`-` for standard input)
    #[arg(long)]
    input: PathBuf,
    /// Relative tolerance (prices: this times the largest strike of a slice)
    #[arg(long, default_value_t = 1e-9)]
    tolerance: f64,
    /// Write every violation to this CSV file
    #[arg(long)]
    report: Option<PathBuf>,
}

struct Chain {
    path: String,
    date: String,
    asset: String,
    quotes: ChainQuotes,
}

pub fn run(cmd: CheckArbitrageCmd) -> Result<()> {
    if !(cmd.tolerance.is_finite() && cmd.tolerance >= 0.0) {
        return Err(Error::parameter("tolerance", cmd.tolerance, "must be ≥ 0"));
    }
    let tol = Tolerance {
        price: cmd.tolerance,
        variance: cmd.tolerance,
    };
    let stdin = cmd.input.as_os_str() == "-";
    let shown: &Path = if stdin {
        Path::new("<stdin>")
    } else {
        &cmd.input
    };
    let mut input = if !stdin && synthmarket::io::parquet::is_parquet(&cmd.input) {
        Input::Parquet(ParquetCursor::open(&cmd.input)?)
    } else {
        let reader: Box<dyn Read> = if stdin {
            Box::new(std::io::stdin())
        } else {
            Box::new(
                std::fs::File::open(&cmd.input).map_err(|source| Error::Read {
                    path: cmd.input.clone(),
                    source,
                })?,
            )
        };
        let rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(std::io::BufReader::with_capacity(1 << 20, reader));
        Input::Csv(rdr, csv::StringRecord::new())
    };
    let headers = input.headers(shown)?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let wide = col("option_type").is_none() && col("call").is_some();
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            let hint = if wide {
                " (this is a wide-layout file, a strike per row: `synthmarket validate` \
                 certifies a market's chains in either layout)"
            } else {
                ""
            };
            Error::input(
                input.header_location(shown).field(name),
                format!("missing column `{name}`{hint}"),
            )
        })
    };
    let (ce, cm, ck, ct, cp) = (
        need("expiry")?,
        need("maturity")?,
        need("strike")?,
        need("option_type")?,
        need("price")?,
    );
    let (cpath, cdate, casset, civ, cvega) = (
        col("path"),
        col("date").or(col("step")),
        col("asset"),
        col("implied_vol"),
        col("vega"),
    );

    let mut chains = 0usize;
    let mut quotes_seen = 0usize;
    // (path, date, asset, expiry, other expiry, violation)
    type Found = (String, String, String, String, Option<String>, Violation);
    let mut all: Vec<Found> = Vec::new();
    let mut current: Option<Chain> = None;
    let flush = |chain: Chain, all: &mut Vec<_>| {
        for v in chain.quotes.check(tol) {
            let other = v.other_expiry.map(|e| chain.quotes.label(e).to_string());
            all.push((
                chain.path.clone(),
                chain.date.clone(),
                chain.asset.clone(),
                chain.quotes.label(v.expiry).to_string(),
                other,
                v,
            ));
        }
    };
    while input.next(shown)? {
        let at = |field: &str| input.location(shown).field(field);
        let num = |c: usize, name: &str| -> Result<f64> {
            let raw = input.text(c);
            raw.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::input(at(name), format!("`{raw}` is not a finite number")))
        };
        let option_type: OptionType = input
            .text(ct)
            .parse()
            .map_err(|m: String| Error::input(at("option_type"), m))?;
        let (maturity, strike, price) =
            (num(cm, "maturity")?, num(ck, "strike")?, num(cp, "price")?);
        let optional = |c: Option<usize>, name: &str| match c {
            Some(c) if !input.text(c).is_empty() => num(c, name),
            _ => Ok(f64::NAN),
        };
        let (implied_vol, vega) = (optional(civ, "implied_vol")?, optional(cvega, "vega")?);
        let path = cpath.map_or(String::new(), |c| input.text(c).into_owned());
        let date = cdate.map_or(String::new(), |c| input.text(c).into_owned());
        let asset = casset.map_or(String::new(), |c| input.text(c).into_owned());
        if current
            .as_ref()
            .is_some_and(|c| c.path != path || c.date != date || c.asset != asset)
        {
            flush(current.take().expect("checked"), &mut all);
        }
        let chain = current.get_or_insert_with(|| {
            chains += 1;
            Chain {
                path: path.clone(),
                date: date.clone(),
                asset: asset.clone(),
                quotes: ChainQuotes::default(),
            }
        });
        chain.quotes.push(
            &input.text(ce),
            Quote {
                expiry: 0,
                maturity,
                strike,
                option_type,
                price,
                implied_vol,
                vega,
            },
        );
        quotes_seen += 1;
    }
    if let Some(c) = current.take() {
        flush(c, &mut all);
    }

    println!(
        "checked {chains} chain(s), {quotes_seen} option(s), tolerance {}: {} violation(s)",
        cmd.tolerance,
        all.len()
    );
    let mut by_kind: HashMap<Kind, usize> = HashMap::new();
    for (.., v) in &all {
        *by_kind.entry(v.kind).or_default() += 1;
    }
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by_key(|(k, _)| format!("{k:?}"));
    for (k, n) in kinds {
        println!("  {:<14} {n}", format!("{k:?}").to_lowercase());
    }
    for (path, date, asset, expiry, other, v) in all.iter().take(20) {
        println!(
            "  path {path} date {date}{} expiry {expiry}{}: {:?} strikes {:?} size {:.3e}",
            if asset.is_empty() {
                String::new()
            } else {
                format!(" asset {asset}")
            },
            other.as_ref().map_or(String::new(), |o| format!(" vs {o}")),
            v.kind,
            v.strikes,
            v.size
        );
    }
    if let Some(report) = &cmd.report {
        let mut text = String::from(if casset.is_some() {
            "path,date,asset,expiry,other_expiry,kind,option_type,strikes,size\n"
        } else {
            "path,date,expiry,other_expiry,kind,option_type,strikes,size\n"
        });
        for (path, date, asset, expiry, other, v) in &all {
            let strikes: Vec<String> = v.strikes.iter().map(|k| fmt(*k)).collect();
            let asset = if casset.is_some() {
                format!("{asset},")
            } else {
                String::new()
            };
            text.push_str(&format!(
                "{path},{date},{asset}{expiry},{},{},{},{},{}\n",
                other.clone().unwrap_or_default(),
                format!("{:?}", v.kind).to_lowercase(),
                v.option_type.map_or(String::new(), |t| t.to_string()),
                strikes.join(" "),
                fmt(v.size)
            ));
        }
        write_atomic(report, text.as_bytes())?;
    }
    if all.is_empty() {
        Ok(())
    } else {
        Err(Error::ArbitrageFound(all.len()))
    }
}

/// The chain file being checked: CSV (a file or standard input) or Parquet.
enum Input {
    Csv(
        csv::Reader<std::io::BufReader<Box<dyn Read>>>,
        csv::StringRecord,
    ),
    Parquet(ParquetCursor),
}

impl Input {
    /// The column names.
    fn headers(&mut self, shown: &Path) -> Result<Vec<String>> {
        match self {
            Input::Csv(rdr, _) => Ok(rdr
                .headers()
                .map_err(|e| {
                    Error::input(Location::file(shown).line(1), format!("malformed CSV: {e}"))
                })?
                .iter()
                .map(str::to_owned)
                .collect()),
            Input::Parquet(cur) => Ok(cur.names().to_vec()),
        }
    }

    /// Where the header is (CSV: line 1).
    fn header_location(&self, shown: &Path) -> Location {
        match self {
            Input::Csv(..) => Location::file(shown).line(1),
            Input::Parquet(_) => Location::file(shown),
        }
    }

    /// Moves to the next record; false at the end.
    fn next(&mut self, shown: &Path) -> Result<bool> {
        match self {
            Input::Csv(rdr, record) => rdr.read_record(record).map_err(|e| {
                Error::input(
                    Location::file(shown).line(e.position().map_or(0, |p| p.line())),
                    format!("malformed CSV: {e}"),
                )
            }),
            Input::Parquet(cur) => cur.advance(),
        }
    }

    /// Where the current record is: its line (CSV) or row (Parquet).
    fn location(&self, shown: &Path) -> Location {
        match self {
            Input::Csv(_, record) => {
                Location::file(shown).line(record.position().map_or(0, |p| p.line()))
            }
            Input::Parquet(cur) => Location::file(shown).row(cur.row()),
        }
    }

    /// Field `c` of the current record as text (Parquet values as the CSV
    /// writes them).
    fn text(&self, c: usize) -> std::borrow::Cow<'_, str> {
        match self {
            Input::Csv(_, record) => std::borrow::Cow::Borrowed(&record[c]),
            Input::Parquet(cur) => std::borrow::Cow::Owned(cur.cell(c).to_text()),
        }
    }
}
