//! Storing the table beside its model: `pricing.safetensors` with
//! `pricing.json` ([`TermTable::save`], [`TermTable::load`],
//! [`TermTable::from_bytes`]), and its record in `run.json`.

use super::shape::{
    shift_weights, QuantileNet, ShapeCorrection, UpperTail, QUANTILE_NET_PARAMS, SHAPE_PROBS,
};
use super::{TermTable, TermTableInfo, TABLE_FORMAT};
use crate::deep::pricing::key_net::{KeyNet, PARAMS as KEY_PARAMS};
use crate::deep::pricing::regressors::REGRESSORS;
use crate::deep::MixtureNet;
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;

impl Serialize for TermTable {
    /// run.json's record: how the table was fitted.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.info.serialize(s)
    }
}

impl TermTable {
    /// Writes `pricing.safetensors` and `pricing.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        use candle_core::{Device, Tensor};
        let cpu = &Device::Cpu;
        let (nm, ng, nb) = (self.keys.len(), self.keys[0].len(), self.p.len());
        let t = |v: Vec<f64>, shape: &[usize]| {
            Tensor::from_vec(v, shape, cpu)
                .map_err(|e| Error::Internal(format!("table tensor: {e}")))
        };
        let mut tensors = std::collections::HashMap::from([
            (
                "coef".to_string(),
                t(
                    self.coef.iter().flatten().copied().collect(),
                    &[nm, REGRESSORS],
                )?,
            ),
            (
                "key_nets".to_string(),
                t(
                    self.key_nets.iter().flat_map(KeyNet::to_params).collect(),
                    &[nm, KEY_PARAMS],
                )?,
            ),
            ("keys".to_string(), t(self.keys.concat(), &[nm, ng])?),
            ("p".to_string(), t(self.p.clone(), &[nb])?),
            ("x".to_string(), t(self.x.concat(), &[nm, ng, nb])?),
        ]);
        if let Some(c) = &self.shape {
            let nq = SHAPE_PROBS.len();
            tensors.insert(
                "shape_coef".to_string(),
                t(
                    c.coef.iter().flatten().flatten().copied().collect(),
                    &[nm, nq, REGRESSORS],
                )?,
            );
            if let Some(nets) = &c.nets {
                tensors.insert(
                    "shape_nets".to_string(),
                    t(
                        nets.iter().flat_map(QuantileNet::to_params).collect(),
                        &[nm, QUANTILE_NET_PARAMS],
                    )?,
                );
            }
            tensors.insert(
                "shape_means".to_string(),
                t(
                    c.reference.iter().flatten().copied().collect(),
                    &[nm, ng, nq],
                )?,
            );
        }
        crate::io::write_safetensors(dir.join("pricing.safetensors"), &tensors)?;
        let mut json = serde_json::to_vec_pretty(&self.info)
            .map_err(|e| Error::Internal(format!("serialising pricing.json: {e}")))?;
        json.push(b'\n');
        crate::io::write_atomic(dir.join("pricing.json"), &json)
    }

    /// Reads a table written by [`Self::save`] (`name` names the source in
    /// errors). Every law is renormalised to mean 1 and checked.
    /// `net` is the model the table was fitted for.
    pub fn from_bytes(json: &[u8], tensors: &[u8], name: &str, net: MixtureNet) -> Result<Self> {
        let bad = |why: String| Error::parameter("pricing table", name, why);
        let info: TermTableInfo =
            serde_json::from_slice(json).map_err(|e| bad(format!("pricing.json: {e}")))?;
        if info.format != TABLE_FORMAT {
            return Err(bad(format!(
                "pricing.json is format {}, written by an older synthmarket (this one reads format {TABLE_FORMAT}, keyed on a learned at-the-money vol forecast); refit it with `synthmarket fit-pricing`",
                info.format
            )));
        }
        if let Some(theirs) = info.model.as_deref() {
            let ours = net.fingerprint();
            if theirs != ours {
                return Err(Error::input(
                    crate::error::Location::file(Path::new(name).join("pricing.json")).field("model"),
                    format!(
                        "this pricing table was fitted for another model (fingerprint {theirs}; the model beside it is {ours}): refit it with `synthmarket fit-pricing --model {name}`"
                    ),
                ));
            }
        }
        let map = candle_core::safetensors::load_buffer(tensors, &candle_core::Device::Cpu)
            .map_err(|e| bad(format!("pricing.safetensors: {e}")))?;
        let get = |k: &str| -> Result<(Vec<usize>, Vec<f64>)> {
            let t = map
                .get(k)
                .ok_or_else(|| bad(format!("pricing.safetensors has no tensor `{k}`")))?;
            let v = t
                .flatten_all()
                .and_then(|t| t.to_vec1::<f64>())
                .map_err(|e| bad(format!("tensor `{k}`: {e}")))?;
            Ok((t.dims().to_vec(), v))
        };
        let (cs, coef) = get("coef")?;
        let (ks, keys) = get("keys")?;
        let (_, p) = get("p")?;
        let (xs, x) = get("x")?;
        let (kd, kn) = get("key_nets")?;
        let (nm, ng, nb) = (info.days.len(), ks.get(1).copied().unwrap_or(0), p.len());
        let key_nets: Option<Vec<KeyNet>> =
            kn.chunks(KEY_PARAMS).map(KeyNet::from_stored).collect();
        if cs != [nm, REGRESSORS]
            || kd != [nm, KEY_PARAMS]
            || key_nets.is_none()
            || ks != [nm, ng]
            || xs != [nm, ng, nb]
            || ng < 2
            || [&coef, &keys, &p, &x]
                .iter()
                .any(|v| v.iter().any(|x| !x.is_finite()))
            || p.iter().any(|p| *p < 0.0)
            || keys.chunks(ng).any(|k| k.windows(2).any(|w| w[0] >= w[1]))
            || info.days.windows(2).any(|d| d[0] >= d[1])
        {
            return Err(bad(
                "shapes or values do not form a table (refit it with `synthmarket fit-pricing`)"
                    .into(),
            ));
        }
        // The shape correction (a table without its tensors prices with the
        // groups' shapes alone).
        let nq = SHAPE_PROBS.len();
        let shape = match (
            map.contains_key("shape_coef"),
            map.contains_key("shape_means"),
        ) {
            (false, false) => None,
            _ => {
                let (cd, c) = get("shape_coef")?;
                let (md, m) = get("shape_means")?;
                if cd != [nm, nq, REGRESSORS]
                    || md != [nm, ng, nq]
                    || c.iter().chain(&m).any(|v| !v.is_finite())
                {
                    return Err(bad(
                        "the shape correction's tensors do not fit the table (refit it with `synthmarket fit-pricing`)"
                            .into(),
                    ));
                }
                let nets = match map.contains_key("shape_nets") {
                    false => None,
                    true => {
                        let (nd, n) = get("shape_nets")?;
                        let nets: Option<Vec<QuantileNet>> = n
                            .chunks(QUANTILE_NET_PARAMS)
                            .map(QuantileNet::from_stored)
                            .collect();
                        match nets {
                            Some(nets) if nd == [nm, QUANTILE_NET_PARAMS] => Some(nets),
                            _ => {
                                return Err(bad(
                                    "the shape correction's networks do not fit the table (refit it with `synthmarket fit-pricing`)"
                                        .into(),
                                ))
                            }
                        }
                    }
                };
                Some(ShapeCorrection {
                    nets,
                    coef: c
                        .chunks(nq * REGRESSORS)
                        .map(|k| {
                            std::array::from_fn(|j| {
                                k[j * REGRESSORS..(j + 1) * REGRESSORS]
                                    .try_into()
                                    .expect("chunks of REGRESSORS")
                            })
                        })
                        .collect(),
                    reference: m
                        .chunks(nq)
                        .map(|k| k.try_into().expect("chunks of SHAPE_PROBS"))
                        .collect(),
                })
            }
        };
        // Kept as stored (not renormalised), so saving a loaded table
        // writes the same bytes.
        let total: f64 = p.iter().sum();
        if (total - 1.0).abs() > 1e-9 || p.iter().any(|q| *q <= 0.0) {
            return Err(bad(format!(
                "the block probabilities must be positive and sum to 1 (sum {total})"
            )));
        }
        let x: Vec<Vec<f64>> = x.chunks(nb).map(<[f64]>::to_vec).collect();
        if x.iter().any(|l| l.windows(2).any(|w| w[0] > w[1])) {
            return Err(bad("a law's values are not ascending".into()));
        }
        Ok(TermTable {
            info,
            net,
            coef: coef
                .chunks(REGRESSORS)
                .map(|c| c.try_into().expect("chunks of REGRESSORS"))
                .collect(),
            key_nets: key_nets.unwrap_or_default(),
            keys: keys.chunks(ng).map(<[f64]>::to_vec).collect(),
            shift_at: shift_weights(&p),
            upper: UpperTail::new(&p, &x),
            p,
            x,
            shape,
        })
    }

    /// Reads `pricing.json` and `pricing.safetensors` from `dir`; `None`
    /// when the model has no table.
    pub fn load(dir: &Path, net: &MixtureNet) -> Result<Option<Self>> {
        let (j, t) = (dir.join("pricing.json"), dir.join("pricing.safetensors"));
        if !j.exists() && !t.exists() {
            return Ok(None);
        }
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| Error::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        Self::from_bytes(
            &read(&j)?,
            &read(&t)?,
            &dir.display().to_string(),
            net.clone(),
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::super::shape::NQ;
    use super::*;
    use crate::deep::pricing::key_net::TanhNet;
    use crate::market::TRADING_DAYS_PER_YEAR;

    /// The shipped table saves and loads with its shape correction; a table
    /// without the `shape_*` tensors still loads and prices, without it;
    /// tables of the older keys (formats 1 and 2), a malformed correction
    /// and a key network with a value that is not finite are refused.
    #[test]
    fn tables_load_with_and_without_the_shape_correction() {
        let net = MixtureNet::shipped().unwrap();
        let full = crate::deep::shipped_pricing().unwrap();
        assert!(full.shape.as_ref().is_some_and(|c| c.nets.is_some()));
        let raw = net.config().initial_state.clone();
        let slices = vec![(21.0 / TRADING_DAYS_PER_YEAR, vec![0.9, 1.0, 1.1])];
        let calls = |t: &TermTable| t.chain_calls(&raw, 0.03, &slices).unwrap()[0].clone();
        let dir = tempfile::tempdir().unwrap();
        let reload = |t: &TermTable| {
            t.save(dir.path()).unwrap();
            TermTable::load(dir.path(), &net).unwrap().unwrap()
        };
        let back = reload(&full);
        assert!(back.shape.is_some());
        // A load/save round trip is exact: the same prices, the same bytes.
        assert_eq!(calls(&full), calls(&back));
        assert!(back == full);
        let plain = TermTable {
            shape: None,
            ..full.clone()
        };
        let old = reload(&plain);
        assert!(old.shape.is_none());
        let (c, p) = (calls(&full), calls(&old));
        assert!(p.windows(2).all(|w| w[0] > w[1]), "{p:?}");
        assert!(
            c.iter().zip(&p).any(|(a, b)| (a - b).abs() > 1e-6),
            "{c:?} vs {p:?}"
        );
        // A table fitted before the quantile networks (its correction
        // linear alone) loads without them and prices with the regression.
        let mut linear = full.clone();
        if let Some(s) = linear.shape.as_mut() {
            s.nets = None;
        }
        let linear_back = reload(&linear);
        assert!(linear_back.shape.as_ref().is_some_and(|c| c.nets.is_none()));
        let l = calls(&linear_back);
        assert!(l.windows(2).all(|w| w[0] > w[1]), "{l:?}");
        assert!(
            c.iter().zip(&l).any(|(a, b)| (a - b).abs() > 1e-6),
            "{c:?} vs {l:?}"
        );

        // Tables of the mean-variance key (format 1: no `format` field)
        // and of the linear at-the-money key (format 2) are refused, not
        // read with the wrong meaning.
        full.save(dir.path()).unwrap();
        let json = std::fs::read_to_string(dir.path().join("pricing.json")).unwrap();
        for (old, name) in [("", "format 1"), ("\"format\": 2,", "format 2")] {
            let old_format = json.replace("\"format\": 3,", old);
            assert_ne!(old_format, json);
            std::fs::write(dir.path().join("pricing.json"), old_format).unwrap();
            let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains("fit-pricing"), "{err}");
        }

        // A key network with a value that is not finite is refused.
        let mut bad = full.clone();
        bad.key_nets[4] = KeyNet::from_params(&{
            let mut v = bad.key_nets[4].to_params();
            v[100] = f64::NAN;
            v
        });
        bad.save(dir.path()).unwrap();
        let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
        assert!(err.contains("do not form a table"), "{err}");

        // A correction with a value that is not finite is refused.
        let mut bad = full.clone();
        if let Some(s) = bad.shape.as_mut() {
            s.coef[3][5][7] = f64::NAN;
        }
        bad.save(dir.path()).unwrap();
        let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
        assert!(err.contains("shape correction"), "{err}");

        // So is a quantile network with a value that is not finite.
        let mut bad = full.clone();
        if let Some(nets) = bad.shape.as_mut().and_then(|s| s.nets.as_mut()) {
            let mut v = nets[2].to_params();
            v[NQ + 50] = f64::NAN;
            nets[2] = QuantileNet {
                unit: nets[2].unit,
                net: TanhNet::from_params(&v[NQ..]),
            };
        }
        bad.save(dir.path()).unwrap();
        let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
        assert!(err.contains("networks do not fit"), "{err}");
    }
}
