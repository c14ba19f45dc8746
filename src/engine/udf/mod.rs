//! SQL functions for model authors, registered on every [`super::Engine`].
//!
//! They apply exactly the rules landing applies ([`crate::codes`]), so a model can check or
//! take apart an ID or credit code that a source kept as free text. `functions()` is the one list;
//! a unit test keeps names unique.
//!
//! | function | returns |
//! |---|---|
//! | `id_card_valid(text)` | true when an 18-character ID has a real birth date and a matching GB 11643 check character |
//! | `id_card_normalize(text)` | the ID cleaned, upper-cased, 15 → 18 digits; NULL when digits were lost |
//! | `id_card_birth_date(text)` | birth date encoded in the ID |
//! | `id_card_region(text)` | 6-digit address code (region at first registration) |
//! | `id_card_gender(text)` | 男 / 女 from the sequence digit |
//! | `uscc_valid(text)` | true when a credit code passes the GB 32100 check |
//! | `uscc_region(text)` | 6-digit region code of the registering authority |
//! | `org_name_key(text)` | company name normalised for comparison (blanks removed, brackets unified) |
//! | `id_card_age(id, date)` | whole years of age on `date` (birthday counted on the day) |
//! | `name_similarity(a, b)` | 0–1, one minus the character edit distance over the longer length; compose with `org_name_key` for firms |
//!
//! Aggregates (also usable as window functions, `OVER (PARTITION BY …)`):
//!
//! | function | returns |
//! |---|---|
//! | `quantile_type7(x, p)` | sample quantile, Hyndman–Fan type 7 (R/Excel default) |
//! | `quantile_type8(x, p)` | sample quantile, Hyndman–Fan type 8 (median-unbiased) |
//! | `iqr_upper_fence(x, k [, type])` | Q3 + k·IQR (type 7 unless 8 is given) |
//! | `iqr_lower_fence(x, k [, type])` | Q1 − k·IQR |

mod code_fn;
pub mod pair_fn;
pub mod quantile;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

use crate::codes::{id_card, text, uscc};
use code_fn::{CodeFunction, Output};
use pair_fn::{Pair, PairFunction};
use quantile::{QuantileFunction, Stat};

/// Every SQL function searchlight adds, with a one-line description each.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        CodeFunction::new("id_card_valid", Output::Bool(id_card::is_valid)),
        CodeFunction::new("id_card_normalize", Output::Text(|s| id_card::normalize_text(s).value)),
        CodeFunction::new("id_card_birth_date", Output::Date(id_card::birth_date)),
        CodeFunction::new("id_card_region", Output::Text(|s| id_card::region(s).map(str::to_string))),
        CodeFunction::new("id_card_gender", Output::Text(|s| id_card::gender(s).map(str::to_string))),
        CodeFunction::new("uscc_valid", Output::Bool(uscc::is_valid)),
        CodeFunction::new("uscc_region", Output::Text(|s| uscc::region(s).map(str::to_string))),
        CodeFunction::new("org_name_key", Output::Text(|s| Some(text::org_name_key(s)))),
    ]
    .into_iter()
    .map(|f| Arc::new(ScalarUDF::from(f)))
    .chain([
        Arc::new(ScalarUDF::from(PairFunction::new("id_card_age", Pair::AgeAt))),
        Arc::new(ScalarUDF::from(PairFunction::new("name_similarity", Pair::NameSimilarity))),
    ])
    .collect()
}

/// Every aggregate function searchlight adds.
pub fn aggregates() -> Vec<Arc<AggregateUDF>> {
    [
        QuantileFunction::new("quantile_type7", Stat::Quantile(7)),
        QuantileFunction::new("quantile_type8", Stat::Quantile(8)),
        QuantileFunction::new("iqr_upper_fence", Stat::UpperFence),
        QuantileFunction::new("iqr_lower_fence", Stat::LowerFence),
    ]
    .into_iter()
    .map(|f| Arc::new(AggregateUDF::from(f)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<String> = functions().iter().map(|f| f.name().to_string()).collect();
        names.extend(aggregates().iter().map(|f| f.name().to_string()));
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
