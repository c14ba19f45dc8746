//! Quantile and IQR-fence aggregates for outlier models, with Hyndman–Fan sample quantile
//! types 7 (R's and Excel's default, `PERCENTILE.INC`) and 8 (median-unbiased, recommended by
//! Hyndman and Fan). Exact: every value is kept, so they suit the per-group sizes of supervision
//! data (lots, units, villages), not billions of rows in one group. They also work as window
//! functions (`OVER (PARTITION BY …)`), which is how a model compares each row with its peers.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, ColumnarValue, Signature, Volatility};
use datafusion::physical_expr::PhysicalExpr;

/// Sample quantile of sorted values by Hyndman–Fan type 7 or 8; `None` for no values.
pub fn quantile(sorted: &[f64], p: f64, kind: u8) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    // h is the 1-based (fractional) position of the quantile
    let h = match kind {
        8 => (nf + 1.0 / 3.0) * p + 1.0 / 3.0,
        _ => (nf - 1.0) * p + 1.0,
    };
    if h <= 1.0 {
        return Some(sorted[0]);
    }
    if h >= nf {
        return Some(sorted[n - 1]);
    }
    let lo = h.floor();
    let (a, b) = (sorted[lo as usize - 1], sorted[lo as usize]);
    Some(a + (h - lo) * (b - a))
}

/// The IQR fence `k` interquartile ranges below Q1 (`upper = false`) or above Q3, fused
/// (one rounding), as both the aggregates and the OCDS red flags compute it.
pub fn fence(q1: f64, q3: f64, k: f64, upper: bool) -> f64 {
    if upper { (q3 - q1).mul_add(k, q3) } else { (q3 - q1).mul_add(-k, q1) }
}

/// What an aggregate returns.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Stat {
    /// `quantile_type7(x, p)` / `quantile_type8(x, p)`
    Quantile(u8),
    /// `iqr_upper_fence(x, k [, type])`: Q3 + k·(Q3 − Q1)
    UpperFence,
    /// `iqr_lower_fence(x, k [, type])`: Q1 − k·(Q3 − Q1)
    LowerFence,
}

/// One quantile aggregate.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct QuantileFunction {
    name: &'static str,
    stat: Stat,
    signature: Signature,
}

impl QuantileFunction {
    pub fn new(name: &'static str, stat: Stat) -> Self {
        QuantileFunction { name, stat, signature: Signature::user_defined(Volatility::Immutable) }
    }

    fn literal(&self, expr: &Arc<dyn PhysicalExpr>, what: &str) -> Result<ScalarValue> {
        let batch = datafusion::arrow::record_batch::RecordBatch::new_empty(Arc::new(
            datafusion::arrow::datatypes::Schema::empty(),
        ));
        match expr.evaluate(&batch) {
            Ok(ColumnarValue::Scalar(s)) if !s.is_null() => Ok(s),
            _ => plan_err!("{}: {what} must be a constant", self.name),
        }
    }
}

impl AggregateUDFImpl for QuantileFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let ok = match self.stat {
            Stat::Quantile(_) => args.len() == 2,
            Stat::UpperFence | Stat::LowerFence => args.len() == 2 || args.len() == 3,
        };
        if !ok {
            return plan_err!("{}: wrong number of arguments ({})", self.name, args.len());
        }
        if !args[0].is_numeric() && !args[0].is_null() {
            return plan_err!("{}: the values must be numbers, got {}", self.name, args[0]);
        }
        let mut out = vec![DataType::Float64, DataType::Float64];
        if args.len() == 3 {
            out.push(DataType::Int64);
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let param = match self.literal(&args.exprs[1], "the second argument")? {
            ScalarValue::Float64(Some(v)) => v,
            other => return plan_err!("{}: the second argument must be a number, got {other}", self.name),
        };
        let kind = match (self.stat, args.exprs.get(2)) {
            (Stat::Quantile(k), _) => k,
            (_, None) => 7,
            (_, Some(e)) => match self.literal(e, "the type")? {
                ScalarValue::Int64(Some(k @ (7 | 8))) => k as u8,
                other => return plan_err!("{}: the type must be 7 or 8, got {other}", self.name),
            },
        };
        match self.stat {
            Stat::Quantile(_) if !(0.0..=1.0).contains(&param) => {
                return plan_err!("{}: p must be between 0 and 1, got {param}", self.name);
            }
            Stat::UpperFence | Stat::LowerFence if param < 0.0 => {
                return plan_err!("{}: k must not be negative, got {param}", self.name);
            }
            _ => {}
        }
        Ok(Box::new(Values { stat: self.stat, param, kind, values: Vec::new(), sorted: true }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Arc::new(Field::new_list_field(DataType::Float64, true));
        Ok(vec![Arc::new(Field::new(format!("{}[values]", args.name), DataType::List(item), true))])
    }
}

/// Every non-null value seen, sorted lazily on evaluation.
#[derive(Debug)]
struct Values {
    stat: Stat,
    param: f64,
    kind: u8,
    values: Vec<f64>,
    sorted: bool,
}

impl Values {
    fn push_all(&mut self, array: &ArrayRef) {
        let floats = array.as_primitive::<Float64Type>();
        let before = self.values.len();
        self.values.extend(floats.iter().flatten().filter(|v| !v.is_nan()));
        self.sorted &= self.values.len() == before;
    }
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.push_all(&values[0]);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for i in 0..lists.len() {
            if lists.is_valid(i) {
                self.push_all(&lists.value(i));
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let items: Vec<ScalarValue> = self.values.iter().map(|v| ScalarValue::Float64(Some(*v))).collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(&items, &DataType::Float64))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if !self.sorted {
            self.values.sort_by(f64::total_cmp);
            self.sorted = true;
        }
        let v = &self.values;
        let out = match self.stat {
            Stat::Quantile(_) => quantile(v, self.param, self.kind),
            Stat::UpperFence | Stat::LowerFence => {
                let (Some(q1), Some(q3)) = (quantile(v, 0.25, self.kind), quantile(v, 0.75, self.kind)) else {
                    return Ok(ScalarValue::Float64(None));
                };
                Some(fence(q1, q3, self.param, self.stat == Stat::UpperFence))
            }
        };
        match out {
            Some(x) if x.is_finite() => Ok(ScalarValue::Float64(Some(x))),
            Some(x) => exec_err!("quantile is not finite: {x}"),
            None => Ok(ScalarValue::Float64(None)),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.capacity() * std::mem::size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_7_and_8_match_r() {
        // R: quantile(c(1,2,3,4,5,6,7,8,9,10), c(.25,.5,.9), type=7) → 3.25 5.5 9.1
        //                                                   type=8 → 2.916667 5.5 9.633333
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(near(quantile(&x, 0.25, 7).unwrap(), 3.25));
        assert!(near(quantile(&x, 0.5, 7).unwrap(), 5.5));
        assert!(near(quantile(&x, 0.9, 7).unwrap(), 9.1));
        assert!(near(quantile(&x, 0.25, 8).unwrap(), 2.916_666_7));
        assert!(near(quantile(&x, 0.5, 8).unwrap(), 5.5));
        assert!(near(quantile(&x, 0.9, 8).unwrap(), 9.633_333_3));
        assert_eq!(quantile(&x, 0.0, 8), Some(1.0));
        assert_eq!(quantile(&x, 1.0, 8), Some(10.0));
        assert_eq!(quantile(&[4.0], 0.3, 7), Some(4.0));
        assert_eq!(quantile(&[], 0.3, 7), None);
    }
}
