//! Which of a model's routes can look, read off its plan.
//!
//! A model may look for one problem along several routes — the arms of a `UNION ALL` (一卡通
//! subsidies and 低保 payments), each with its own datasets. An input that is "optional" for the
//! model may be one a route cannot do without: if a route's filter or join needs
//! `relief_payments.pay_date` and the county has no such column, that route returns nothing,
//! and "0 clues" would be a lie. This module tells, for the data there is, which routes (and
//! whether the whole model) surely return no row *because inputs are absent*.
//!
//! The analysis is a three-valued evaluation over the optimised logical plan: for every node,
//! whether it surely yields no row, and for every output column whether it is surely NULL —
//! each with the absent inputs that make it so. A missing column is NULL; a missing dataset is
//! empty. NULL flows through strict expressions (`a > b`, `a + b`, casts, most functions) and
//! stops at `coalesce`, `IS NULL` and `CASE` with another branch; a filter or inner-join key
//! that is surely NULL (or an `AND` with such a conjunct) surely drops every row. A route is an
//! arm of a union: it is blind when the plan, taking that union's rows from this arm alone,
//! surely yields nothing. The analysis errs towards "can look" where it cannot tell.

use std::collections::BTreeSet;

use datafusion::common::Column;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::{BinaryExpr, Expr, JoinType, LogicalPlan, Operator};
use serde::Serialize;

/// Why something is surely NULL (or surely empty): `Some(items)` — the absent inputs that make
/// it so (empty when it is so whatever the data); `None` — it may not be.
type Why = Option<BTreeSet<String>>;

/// Either reason suffices: the one that names fewest inputs, preferring one caused by absence.
fn either(a: Why, b: Why) -> Why {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(match (a.is_empty(), b.is_empty()) {
            (true, _) => b,
            (_, true) => a,
            _ if b.len() < a.len() => b,
            _ => a,
        }),
    }
}

/// Both are needed.
fn both(a: Why, b: Why) -> Why {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    }
}

fn any_of(items: impl IntoIterator<Item = Why>) -> Why {
    items.into_iter().fold(None, either)
}

fn all_of(items: impl IntoIterator<Item = Why>) -> Why {
    let mut it = items.into_iter();
    let first = it.next()?;
    it.fold(first, both)
}

/// What is absent: a dataset (`column = None`) or a column of a present dataset.
pub trait Absent {
    /// Whether the dataset, or its column, is absent.
    fn absent(&self, dataset: &str, column: Option<&str>) -> bool;
}

impl<F: Fn(&str, Option<&str>) -> bool> Absent for F {
    fn absent(&self, dataset: &str, column: Option<&str>) -> bool {
        self(dataset, column)
    }
}

/// One route of a model that cannot look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BlindRoute {
    /// The datasets that set the route apart from the model's other routes, the one it reads
    /// from first (or its number, `#2`, when the routes read the same datasets).
    pub route: Vec<String>,
    /// In words: the title of the route's first dataset (filled in by the runner).
    pub title: String,
    /// The absent inputs that blind it.
    pub missing: Vec<String>,
    /// The same in words, `户主身份证号(relief_payments.head_id)` (filled in by the runner).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shown: Vec<String>,
}

impl BlindRoute {
    /// In words: `低保资金发放明细路线缺 户主身份证号(relief_payments.head_id)`; a route that reads
    /// the same datasets as the others is named by what it lacks: `缺 CA锁序列号(bids.ca_lock) 的比对路线`.
    pub fn words(&self) -> String {
        let missing = if self.shown.is_empty() { self.missing.join("、") } else { self.shown.join("、") };
        match self.route.first().and_then(|r| r.strip_prefix('#')) {
            Some(_) => format!("缺 {missing} 的比对路线"),
            None if self.title.is_empty() => format!("{}路线缺 {missing}", self.route.join("+")),
            None => format!("{}路线缺 {missing}", self.title),
        }
    }
}

/// What the plan can look at, given what is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sight {
    /// The whole model surely returns nothing for lack of these inputs.
    pub blind: Option<Vec<String>>,
    /// Routes (union arms) that surely return nothing for lack of inputs, while others may.
    pub blind_routes: Vec<BlindRoute>,
}

/// Reads off an optimised plan which routes can look.
pub fn sight(plan: &LogicalPlan, absent: &dyn Absent) -> Sight {
    let whole = Eval { absent, choose: None }.node(plan).empty;
    if let Some(w) = whole.filter(|w| !w.is_empty()) {
        return Sight { blind: Some(w.into_iter().collect()), blind_routes: Vec::new() };
    }
    let mut blind_routes = Vec::new();
    for union in unions(plan) {
        let LogicalPlan::Union(u) = union else { continue };
        let reads: Vec<Vec<String>> = u.inputs.iter().map(|arm| datasets(arm)).collect();
        for i in 0..u.inputs.len() {
            let eval = Eval { absent, choose: Some((union as *const LogicalPlan, i)) };
            // the arm itself yields nothing, or nothing of it survives what follows the union
            let Some(why) = eval.node(plan).empty.filter(|w| !w.is_empty()) else { continue };
            let others: BTreeSet<&String> =
                reads.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, r)| r.iter()).collect();
            let own: Vec<String> = reads[i].iter().filter(|d| !others.contains(d)).cloned().collect();
            let route = if own.is_empty() { vec![format!("#{}", i + 1)] } else { own };
            blind_routes.push(BlindRoute {
                route,
                title: String::new(),
                missing: why.into_iter().collect(),
                shown: Vec::new(),
            });
        }
    }
    Sight { blind: None, blind_routes }
}

/// Every union in the plan (subqueries included), outermost first.
fn unions(plan: &LogicalPlan) -> Vec<&LogicalPlan> {
    let mut out = Vec::new();
    collect_unions(plan, &mut out);
    out
}

fn collect_unions<'a>(plan: &'a LogicalPlan, out: &mut Vec<&'a LogicalPlan>) {
    if matches!(plan, LogicalPlan::Union(_)) {
        out.push(plan);
    }
    for input in plan.inputs() {
        collect_unions(input, out);
    }
}

/// The datasets a plan scans, the leftmost (its `FROM`) first.
fn datasets(plan: &LogicalPlan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let _ = plan.apply_with_subqueries(|n| {
        if let LogicalPlan::TableScan(s) = n
            && !out.iter().any(|d| d == s.table_name.table())
        {
            out.push(s.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// A node's facts: whether it surely yields no row, and per output column whether it is surely
/// NULL.
struct Facts {
    empty: Why,
    cols: Vec<Why>,
}

impl Facts {
    fn unknown(plan: &LogicalPlan) -> Facts {
        Facts { empty: None, cols: vec![None; plan.schema().fields().len()] }
    }
}

struct Eval<'a> {
    absent: &'a dyn Absent,
    /// A union whose rows come from one arm only (the route being judged).
    choose: Option<(*const LogicalPlan, usize)>,
}

impl Eval<'_> {
    fn node(&self, plan: &LogicalPlan) -> Facts {
        match plan {
            LogicalPlan::TableScan(scan) => {
                let table = scan.table_name.table();
                if super::inputs::is_work_table(scan) {
                    return Facts::unknown(plan);
                }
                let item = |c: &str| {
                    let c = c.strip_suffix("_valid").unwrap_or(c);
                    if self.absent.absent(table, None) {
                        Some(BTreeSet::from([table.to_string()]))
                    } else if self.absent.absent(table, Some(c)) {
                        Some(BTreeSet::from([format!("{table}.{c}")]))
                    } else {
                        None
                    }
                };
                let cols = scan.projected_schema.fields().iter().map(|f| item(f.name())).collect();
                let by_name = |c: &Column| item(&c.name);
                let filtered = any_of(scan.filters.iter().map(|f| rejects(f, &by_name)));
                let gone = self.absent.absent(table, None).then(|| BTreeSet::from([table.to_string()]));
                Facts { empty: either(gone, filtered), cols }
            }
            LogicalPlan::Projection(p) => {
                let input = self.node(&p.input);
                let r = resolver(&p.input, &input);
                let cols = p.expr.iter().map(|e| null(e, &r)).collect();
                Facts { cols, empty: input.empty.clone() }
            }
            LogicalPlan::Filter(f) => {
                let input = self.node(&f.input);
                let r = resolver(&f.input, &input);
                let dropped = rejects(&f.predicate, &r);
                Facts { empty: either(input.empty.clone(), dropped), cols: input.cols.clone() }
            }
            LogicalPlan::Join(j) => {
                let (l, r) = (self.node(&j.left), self.node(&j.right));
                let (rl, rr) = (resolver(&j.left, &l), resolver(&j.right, &r));
                let keys = if j.null_equality == datafusion::common::NullEquality::NullEqualsNull {
                    None
                } else {
                    any_of(j.on.iter().map(|(a, b)| either(null(a, &rl), null(b, &rr))))
                };
                let both_sides = |c: &Column| match j.left.schema().maybe_index_of_column(c) {
                    Some(i) => l.cols.get(i).cloned().flatten(),
                    None => j.right.schema().maybe_index_of_column(c).and_then(|i| r.cols.get(i).cloned().flatten()),
                };
                let filter = j.filter.as_ref().and_then(|f| rejects(f, &both_sides));
                // no match for a row: the join's condition cannot hold
                let unmatched = either(keys, filter);
                let pad = |cols: &[Why], side_empty: &Why| -> Vec<Why> {
                    cols.iter().map(|c| any_of([c.clone(), side_empty.clone(), unmatched.clone()])).collect()
                };
                let inner = || any_of([l.empty.clone(), r.empty.clone(), unmatched.clone()]);
                match j.join_type {
                    JoinType::Inner => Facts { empty: inner(), cols: [l.cols.clone(), r.cols.clone()].concat() },
                    JoinType::Left => {
                        Facts { empty: l.empty.clone(), cols: [l.cols.clone(), pad(&r.cols, &r.empty)].concat() }
                    }
                    JoinType::Right => {
                        Facts { empty: r.empty.clone(), cols: [pad(&l.cols, &l.empty), r.cols.clone()].concat() }
                    }
                    JoinType::Full => Facts {
                        empty: both(l.empty.clone(), r.empty.clone()),
                        cols: [pad(&l.cols, &l.empty), pad(&r.cols, &r.empty)].concat(),
                    },
                    JoinType::LeftSemi => Facts { empty: inner(), cols: l.cols.clone() },
                    JoinType::RightSemi => Facts { empty: inner(), cols: r.cols.clone() },
                    JoinType::LeftAnti => Facts { empty: l.empty.clone(), cols: l.cols.clone() },
                    JoinType::RightAnti => Facts { empty: r.empty.clone(), cols: r.cols.clone() },
                    _ => Facts::unknown(plan),
                }
            }
            LogicalPlan::Union(u) => {
                let me = plan as *const LogicalPlan;
                match self.choose {
                    Some((at, i)) if at == me => self.node(&u.inputs[i]),
                    _ => {
                        let arms: Vec<Facts> = u.inputs.iter().map(|a| self.node(a)).collect();
                        let n = plan.schema().fields().len();
                        Facts {
                            empty: all_of(arms.iter().map(|a| a.empty.clone())),
                            cols: (0..n)
                                .map(|k| all_of(arms.iter().map(|a| a.cols.get(k).cloned().flatten())))
                                .collect(),
                        }
                    }
                }
            }
            LogicalPlan::Aggregate(a) => {
                let input = self.node(&a.input);
                let r = resolver(&a.input, &input);
                if a.group_expr.iter().any(|g| matches!(g, Expr::GroupingSet(_))) {
                    return Facts { empty: None, ..Facts::unknown(plan) };
                }
                let mut cols: Vec<Why> = a.group_expr.iter().map(|g| null(g, &r)).collect();
                cols.extend(a.aggr_expr.iter().map(|e| aggregate_null(e, &r)));
                if cols.len() != plan.schema().fields().len() {
                    return Facts::unknown(plan);
                }
                // a global aggregate yields one row, even over none
                let empty = if a.group_expr.is_empty() { None } else { input.empty.clone() };
                Facts { empty, cols }
            }
            LogicalPlan::Window(w) => {
                let input = self.node(&w.input);
                let mut cols = input.cols;
                cols.extend(w.window_expr.iter().map(|_| None));
                Facts { empty: input.empty, cols }
            }
            LogicalPlan::SubqueryAlias(s) => self.node(&s.input),
            LogicalPlan::Sort(s) => self.node(&s.input),
            LogicalPlan::Limit(l) => self.node(&l.input),
            LogicalPlan::Repartition(r) => self.node(&r.input),
            LogicalPlan::Distinct(datafusion::logical_expr::Distinct::All(input)) => self.node(input),
            _ => {
                // anything else: empty when every input is, and nothing known of its columns
                let inputs = plan.inputs();
                let empty = if inputs.len() == 1 { self.node(inputs[0]).empty } else { None };
                Facts { empty, ..Facts::unknown(plan) }
            }
        }
    }
}

/// Resolves a column of `plan`'s schema to its facts.
fn resolver<'a>(plan: &'a LogicalPlan, facts: &'a Facts) -> impl Fn(&Column) -> Why + 'a {
    move |c: &Column| plan.schema().maybe_index_of_column(c).and_then(|i| facts.cols.get(i).cloned().flatten())
}

/// Whether `e` is surely NULL.
fn null(e: &Expr, col: &dyn Fn(&Column) -> Why) -> Why {
    let strict = |args: &[&Expr]| any_of(args.iter().map(|a| null(a, col)));
    match e {
        Expr::Column(c) => col(c),
        Expr::Alias(a) => null(&a.expr, col),
        Expr::Literal(v, _) => v.is_null().then(BTreeSet::new),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            // NULL AND FALSE is FALSE: NULL only when both are
            Operator::And | Operator::Or => both(null(left, col), null(right, col)),
            Operator::IsDistinctFrom | Operator::IsNotDistinctFrom => None,
            _ => strict(&[left, right]),
        },
        Expr::Not(x) | Expr::Negative(x) => null(x, col),
        Expr::Cast(c) => null(&c.expr, col),
        Expr::TryCast(c) => null(&c.expr, col),
        Expr::Between(b) => strict(&[&b.expr, &b.low, &b.high]),
        Expr::Like(l) | Expr::SimilarTo(l) => strict(&[&l.expr, &l.pattern]),
        Expr::InList(l) => null(&l.expr, col),
        Expr::InSubquery(s) => null(&s.expr, col),
        Expr::Case(c) => {
            // the value is one of the branches: NULL when every branch is
            let branches = c.when_then_expr.iter().map(|(_, then)| null(then, col));
            let otherwise = c.else_expr.as_ref().map_or(Some(BTreeSet::new()), |x| null(x, col));
            all_of(branches.chain([otherwise]))
        }
        Expr::ScalarFunction(f) => {
            let args: Vec<&Expr> = f.args.iter().collect();
            match f.func.name() {
                "coalesce" | "nvl" | "ifnull" | "greatest" | "least" => all_of(args.iter().map(|a| null(a, col))),
                "nullif" => args.first().and_then(|a| null(a, col)),
                // functions that skip or keep NULLs
                "concat" | "concat_ws" | "make_array" | "struct" | "named_struct" | "nvl2" | "array_length"
                | "cardinality" | "isnan" | "iszero" => None,
                n if n.starts_with("array_") || n.starts_with("map") => None,
                // any other function: NULL in, NULL out
                _ => strict(&args),
            }
        }
        _ => None,
    }
}

/// Whether an aggregate's value is surely NULL (`sum`, `min`, `max`, `avg` of nothing but NULL).
fn aggregate_null(e: &Expr, col: &dyn Fn(&Column) -> Why) -> Why {
    match e {
        Expr::Alias(a) => aggregate_null(&a.expr, col),
        Expr::AggregateFunction(f) => match f.func.name() {
            "sum" | "min" | "max" | "avg" | "mean" | "first_value" | "last_value" | "median" => {
                f.params.args.first().and_then(|a| null(a, col))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether predicate `p` is surely not TRUE, so a filter on it keeps no row.
fn rejects(p: &Expr, col: &dyn Fn(&Column) -> Why) -> Why {
    match p {
        Expr::Alias(a) => rejects(&a.expr, col),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => {
            either(rejects(left, col), rejects(right, col))
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => both(rejects(left, col), rejects(right, col)),
        Expr::IsNotNull(x) | Expr::IsTrue(x) => null(x, col),
        Expr::IsNull(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_) => None,
        // a constant FALSE is the model's own choice, not a lack of data
        Expr::Literal(..) => None,
        other => null(other, col),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::engine::{Engine, Params};

    async fn sight_of(sql: &str, absent: &[&str]) -> Sight {
        let e = Engine::local();
        let tables: BTreeMap<&str, Vec<(&str, DataType)>> = BTreeMap::from([
            ("deaths", vec![("id_no", DataType::Utf8), ("death_date", DataType::Date32)]),
            ("subsidy", vec![("id_no", DataType::Utf8), ("pay_date", DataType::Date32), ("amount", DataType::Float64)]),
            (
                "relief",
                vec![
                    ("head_id", DataType::Utf8),
                    ("household_id", DataType::Utf8),
                    ("pay_date", DataType::Date32),
                    ("pay_month", DataType::Date32),
                    ("amount", DataType::Float64),
                ],
            ),
            ("households", vec![("household_id", DataType::Utf8), ("head_id", DataType::Utf8)]),
        ]);
        for (t, cols) in tables {
            let schema =
                Arc::new(Schema::new(cols.into_iter().map(|(c, ty)| Field::new(c, ty, true)).collect::<Vec<_>>()));
            e.register_batches(t, schema, Vec::new()).unwrap();
        }
        let plan = e.sql_bound(sql, &Params::new()).await.unwrap().into_optimized_plan().unwrap();
        let absent = |d: &str, c: Option<&str>| match c {
            None => absent.contains(&d),
            Some(c) => absent.contains(&format!("{d}.{c}").as_str()),
        };
        sight(&plan, &absent)
    }

    const TWO_ROUTES: &str = "WITH paid AS (
            SELECT id_no, pay_date, amount FROM subsidy
            UNION ALL
            SELECT coalesce(h.head_id, r.head_id) AS id_no, r.pay_date, r.amount
            FROM relief r LEFT JOIN households h ON h.household_id = r.household_id)
        SELECT d.id_no, count(*) AS n FROM paid p JOIN deaths d ON d.id_no = p.id_no
        WHERE p.pay_date > d.death_date GROUP BY d.id_no";

    #[tokio::test]
    async fn a_route_whose_filter_needs_an_absent_column_is_blind() {
        let s = sight_of(TWO_ROUTES, &["relief.pay_date"]).await;
        assert_eq!(s.blind, None);
        assert_eq!(
            s.blind_routes,
            vec![BlindRoute {
                route: vec!["relief".into(), "households".into()],
                title: String::new(),
                missing: vec!["relief.pay_date".into()],
                shown: Vec::new(),
            }]
        );
        // with everything there, every route looks
        assert_eq!(sight_of(TWO_ROUTES, &[]).await, Sight::default());
        // a left-joined table that is absent blinds nothing: the head comes from the roster too
        assert_eq!(sight_of(TWO_ROUTES, &["households"]).await, Sight::default());
        // but the join key of both sides gone is the route's id gone
        let s = sight_of(TWO_ROUTES, &["households", "relief.head_id"]).await;
        assert_eq!(s.blind_routes.len(), 1, "{s:?}");
        assert_eq!(s.blind_routes[0].missing, vec!["households", "relief.head_id"]);
    }

    #[tokio::test]
    async fn every_route_blind_is_a_blind_model() {
        let s = sight_of(TWO_ROUTES, &["relief.pay_date", "subsidy"]).await;
        assert_eq!(s.blind, Some(vec!["relief.pay_date".into(), "subsidy".into()]), "{s:?}");
        let s = sight_of(TWO_ROUTES, &["deaths.death_date"]).await;
        assert_eq!(s.blind, Some(vec!["deaths.death_date".into()]));
    }

    #[tokio::test]
    async fn an_alternative_column_keeps_a_route_looking() {
        let sql = "WITH paid AS (
                SELECT id_no, pay_date, CAST(NULL AS DATE) AS pay_month FROM subsidy
                UNION ALL
                SELECT head_id, pay_date, pay_month FROM relief)
            SELECT d.id_no FROM paid p JOIN deaths d ON d.id_no = p.id_no
            WHERE p.pay_date > d.death_date OR (p.pay_date IS NULL AND p.pay_month > d.death_date)";
        assert_eq!(sight_of(sql, &["relief.pay_date"]).await, Sight::default());
        let s = sight_of(sql, &["relief.pay_date", "relief.pay_month"]).await;
        assert_eq!(s.blind_routes.len(), 1, "{s:?}");
        assert_eq!(s.blind_routes[0].missing, vec!["relief.pay_date", "relief.pay_month"]);
        // the subsidy route never had a month: that is no lack of data
        assert!(s.blind_routes[0].route.contains(&"relief".to_string()));
    }

    #[tokio::test]
    async fn nulls_that_a_query_handles_blind_nothing() {
        for sql in [
            "SELECT id_no FROM subsidy WHERE pay_date IS NULL OR pay_date > DATE '2025-01-01'",
            "SELECT id_no FROM subsidy WHERE coalesce(pay_date, DATE '2025-01-01') > DATE '2024-01-01'",
            "SELECT id_no, max(pay_date) FROM subsidy GROUP BY id_no",
            "SELECT s.id_no FROM subsidy s LEFT JOIN deaths d ON d.id_no = s.id_no WHERE d.id_no IS NULL",
        ] {
            assert_eq!(sight_of(sql, &["subsidy.pay_date", "deaths"]).await, Sight::default(), "{sql}");
        }
        // the same columns in predicates that need them
        let s = sight_of("SELECT id_no FROM subsidy WHERE pay_date > DATE '2025-01-01'", &["subsidy.pay_date"]).await;
        assert_eq!(s.blind, Some(vec!["subsidy.pay_date".into()]));
        let s =
            sight_of("SELECT s.id_no FROM subsidy s WHERE s.id_no IN (SELECT id_no FROM deaths)", &["deaths"]).await;
        assert_eq!(s.blind, Some(vec!["deaths".into()]));
        let s = sight_of(
            "SELECT id_no, max(pay_date) AS last FROM subsidy GROUP BY id_no HAVING max(pay_date) > DATE '2025-01-01'",
            &["subsidy.pay_date"],
        )
        .await;
        assert_eq!(s.blind, Some(vec!["subsidy.pay_date".into()]));
    }
}
