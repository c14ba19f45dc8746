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

mod code_fn;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

use crate::codes::{id_card, text, uscc};
use code_fn::{CodeFunction, Output};

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
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<String> = functions().iter().map(|f| f.name().to_string()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
