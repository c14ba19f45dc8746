//! Two-argument scalar functions for model authors: age at a date from an ID, and how alike two
//! names are. Arguments are coerced (text, date) or (text, text), so authors pass columns or
//! literals without casts.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use crate::codes::id_card;

/// What a pair function computes.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Pair {
    /// `id_card_age(id, date)`: whole years of age on `date` of the person the ID was issued to.
    AgeAt,
    /// `name_similarity(a, b)`: 1 − Levenshtein distance / longer length, over characters.
    NameSimilarity,
}

/// A two-argument function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PairFunction {
    name: &'static str,
    pair: Pair,
    signature: Signature,
}

impl PairFunction {
    pub fn new(name: &'static str, pair: Pair) -> Self {
        PairFunction { name, pair, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// How alike two names are, 0 (nothing shared) to 1 (identical), by characters (not bytes).
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::normalized_levenshtein(a, b)
}

impl ScalarUDFImpl for PairFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 2 {
            return plan_err!("{} takes two arguments, got {}", self.name, args.len());
        }
        Ok(match self.pair {
            Pair::AgeAt => vec![DataType::Utf8, DataType::Date32],
            Pair::NameSimilarity => vec![DataType::Utf8, DataType::Utf8],
        })
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.pair {
            Pair::AgeAt => DataType::Int64,
            Pair::NameSimilarity => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let a = cast(&args.args[0].clone().into_array(args.number_rows)?, &DataType::Utf8)?;
        let a = a.as_string::<i32>();
        let out: ArrayRef = match self.pair {
            Pair::AgeAt => {
                let dates = cast(&args.args[1].clone().into_array(args.number_rows)?, &DataType::Date32)?;
                let dates = dates.as_primitive::<Date32Type>();
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
                Arc::new(
                    a.iter()
                        .zip(dates.iter())
                        .map(|(id, day)| {
                            id_card::age_at(id?, epoch + chrono::Duration::days(day? as i64)).map(i64::from)
                        })
                        .collect::<Int64Array>(),
                )
            }
            Pair::NameSimilarity => {
                let b = cast(&args.args[1].clone().into_array(args.number_rows)?, &DataType::Utf8)?;
                let b = b.as_string::<i32>();
                Arc::new(a.iter().zip(b.iter()).map(|(x, y)| Some(similarity(x?, y?))).collect::<Float64Array>())
            }
        };
        if scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn age_turns_on_the_birthday_not_before() {
        let age = |id: &str, at| id_card::age_at(id, at);
        assert_eq!(age("34052419450310001X", d(2025, 3, 9)), Some(79));
        assert_eq!(age("34052419450310001X", d(2025, 3, 10)), Some(80));
        assert_eq!(age("340524200002290011", d(2025, 2, 28)), Some(24));
        assert_eq!(age("340524200002290011", d(2025, 3, 1)), Some(25));
        assert_eq!(age("340524200001010011", d(1999, 1, 1)), None);
    }

    #[test]
    fn similarity_counts_characters() {
        assert_eq!(similarity("清河县华宇商贸有限公司", "清河县华宇商贸有限公司"), 1.0);
        let s = similarity("清河县华宇商贸有限公司", "清河县华宇商贸有限责任公司");
        assert!((s - (1.0 - 2.0 / 13.0)).abs() < 1e-9, "{s}");
        assert!(similarity("张伟", "李娜") < 0.01);
    }
}
