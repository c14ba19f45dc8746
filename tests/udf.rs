//! SQL functions, called through DataFusion as model authors call them.

use searchlight::engine::Engine;

async fn one(sql: &str) -> Vec<String> {
    let e = Engine::local();
    crate::util::lines(&e.sql(sql).await.unwrap_or_else(|err| panic!("{sql}: {err}")).collect().await.unwrap())
}

#[tokio::test]
async fn id_card_functions() {
    assert_eq!(
        one("select id_card_valid('34052419800101001X'), id_card_valid('340524198001010013'), id_card_valid(NULL)")
            .await,
        vec!["true|false|"]
    );
    assert_eq!(one("select id_card_birth_date('34052419800101001X'), id_card_region('34052419800101001X'), id_card_gender('34052419800101001X')").await, vec!["1980-01-01|340524|男"]);
    assert_eq!(one("select id_card_normalize(' ３４０５２４１９８００１０１００１ｘ '), id_card_normalize('370802940221002'), id_card_normalize('3.40524E+17')").await, vec!["34052419800101001X|370802199402210029|"]);
}

#[tokio::test]
async fn credit_code_and_name_functions_on_columns() {
    let rows = one(
        "select c, uscc_valid(c), uscc_region(c), org_name_key(n) from (values ('91350200776049653A', '某某 科技（有限）公司'), ('91350203M0001QAY9B', 'x'), (NULL, NULL)) t(c, n) order by c",
    )
    .await;
    assert_eq!(
        rows,
        vec!["91350200776049653A|true|350200|某某科技(有限)公司", "91350203M0001QAY9B|false|350203|x", "|||"]
    );
}

#[tokio::test]
async fn functions_are_listed_in_information_schema() {
    let rows = one("select count(*) from information_schema.routines where routine_name in ('id_card_valid','id_card_birth_date','id_card_region','uscc_valid')").await;
    assert_eq!(rows, vec!["4"]);
}

#[tokio::test]
async fn age_at_a_date_and_name_similarity() {
    assert_eq!(
        one("select id_card_age('34052419450310001X', DATE '2025-03-09'), id_card_age('34052419450310001X', '2025-03-10'), id_card_age('bad', DATE '2025-01-01'), id_card_age(NULL, DATE '2025-01-01')").await,
        vec!["79|80||"]
    );
    let rows = one(
        "select a, round(name_similarity(org_name_key(a), org_name_key(b)), 3) from (values ('清河县华宇商贸有限公司', '清河县华宇商贸 有限公司'), ('清河县华宇商贸有限公司', '清河县华宇商贸有限责任公司'), ('张伟', '李娜')) t(a, b) order by 2 desc",
    )
    .await;
    assert_eq!(rows, vec!["清河县华宇商贸有限公司|1.0", "清河县华宇商贸有限公司|0.846", "张伟|0.0"]);
}

#[tokio::test]
async fn quantiles_of_both_types_and_iqr_fences_grouped_and_over_windows() {
    // R: quantile(1:10, .25, type=7) = 3.25, type=8 = 2.916667; fences on 1..10: type 7 Q1 3.25, Q3 7.75; type 8 Q1 2.916667, Q3 8.083333
    let values = "(values ('a', 1), ('a', 2), ('a', 3), ('a', 4), ('a', 5), ('a', 6), ('a', 7), ('a', 8), ('a', 9), ('a', 10), ('b', 4), ('b', NULL)) t(g, x)";
    let rows = one(&format!(
        "select g, quantile_type7(x, 0.25), round(quantile_type8(x, 0.25), 6), iqr_upper_fence(x, 1.5), iqr_lower_fence(x, 1.5), round(iqr_upper_fence(x, 1.5, 8), 6) from {values} group by g order by g"
    ))
    .await;
    assert_eq!(rows, vec!["a|3.25|2.916667|14.5|-3.5|15.833333", "b|4.0|4.0|4.0|4.0|4.0"]);
    // as a window: each row against its group's fence
    let rows = one(&format!(
        "select count(*) from (select x, iqr_upper_fence(x, 0.1) over (partition by g) as f from {values}) where x > f"
    ))
    .await;
    assert_eq!(rows, vec!["2"]);
    let e = Engine::local();
    let err =
        e.sql(&format!("select quantile_type7(x, 1.5) from {values}")).await.unwrap().collect().await.unwrap_err();
    assert!(err.to_string().contains("p must be between 0 and 1"), "{err}");
}
