//! NULL-blind predicates: `x NOT IN (…)`, `x <> v` and `x NOT LIKE p` are NULL — so the row is
//! dropped — when `x` is NULL. On a nullable column that is rarely what a supervision model
//! means (a lot with no recorded procurement method is the most suspicious one, not one to
//! skip). `check` warns where a filter or join condition compares a nullable column this way
//! without saying what NULL means (`coalesce(x, …)`, or `x IS NULL` / `x IS NOT NULL` in the
//! same condition).

use std::collections::BTreeSet;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};

/// One warning per NULL-blind comparison in the plan's filters and join conditions.
pub fn warnings(plan: &LogicalPlan) -> Vec<String> {
    let mut out = BTreeSet::new();
    let _ = plan.apply_with_subqueries(|node| {
        let predicates: Vec<(&Expr, &LogicalPlan)> = match node {
            LogicalPlan::Filter(f) => vec![(&f.predicate, f.input.as_ref())],
            LogicalPlan::Join(j) => j.filter.iter().map(|e| (e, j.left.as_ref())).collect(),
            _ => Vec::new(),
        };
        for (predicate, input) in predicates {
            let guarded = null_tests(predicate);
            let _ = predicate.apply(|e| {
                let (column, shown) = match e {
                    Expr::InList(l) if l.negated => (l.expr.as_ref(), "NOT IN (…)"),
                    Expr::Like(l) if l.negated => (l.expr.as_ref(), "NOT LIKE …"),
                    Expr::BinaryExpr(BinaryExpr { left, op: Operator::NotEq, right }) => {
                        match (left.as_ref(), right.as_ref()) {
                            (c @ Expr::Column(_), Expr::Literal(..)) | (Expr::Literal(..), c @ Expr::Column(_)) => {
                                (c, "<> …")
                            }
                            _ => return Ok(TreeNodeRecursion::Continue),
                        }
                    }
                    _ => return Ok(TreeNodeRecursion::Continue),
                };
                if let Expr::Column(c) = column {
                    let nullable = column.nullable(input.schema()).unwrap_or(true);
                    if nullable && !guarded.contains(&c.name) {
                        out.insert(format!(
                            "`{} {shown}` drops the rows where `{}` is NULL; say what NULL means: `coalesce({}, …)`, or `{} IS NULL OR …`",
                            c.name, c.name, c.name, c.name
                        ));
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out.into_iter().collect()
}

/// Columns the predicate tests for NULL itself.
fn null_tests(predicate: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let _ = predicate.apply(|e| {
        if let Expr::IsNull(x) | Expr::IsNotNull(x) = e
            && let Expr::Column(c) = x.as_ref()
        {
            out.insert(c.name.clone());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use crate::engine::{Engine, Params};

    async fn warned(sql: &str) -> Vec<String> {
        let e = Engine::local();
        let schema = Arc::new(Schema::new(vec![
            Field::new("lot", DataType::Utf8, false),
            Field::new("method", DataType::Utf8, true),
        ]));
        e.register_batches("lots", schema, Vec::new()).unwrap();
        super::warnings(e.sql_bound(sql, &Params::new()).await.unwrap().logical_plan())
    }

    #[tokio::test]
    async fn null_blind_comparisons_of_nullable_columns_are_named() {
        for sql in [
            "SELECT lot FROM lots WHERE method NOT IN ('公开招标', '邀请招标')",
            "SELECT lot FROM lots WHERE method <> '公开招标'",
            "SELECT lot FROM lots WHERE method NOT LIKE '%招标%'",
            "SELECT lot FROM lots WHERE lot IN (SELECT lot FROM lots WHERE method <> '公开招标')",
        ] {
            let w = warned(sql).await;
            assert_eq!(w.len(), 1, "{sql}: {w:?}");
            assert!(w[0].contains("`method") && w[0].contains("NULL"), "{w:?}");
        }
        for sql in [
            "SELECT lot FROM lots WHERE coalesce(method, '未记录') NOT IN ('公开招标')",
            "SELECT lot FROM lots WHERE method IS NULL OR method <> '公开招标'",
            "SELECT lot FROM lots WHERE lot <> 'L1'",
            "SELECT lot FROM lots WHERE method = '公开招标'",
        ] {
            assert!(warned(sql).await.is_empty(), "{sql}");
        }
    }
}
